/**
 * Network faults made by the kernel: every change rebuilds the run's
 * nftables chain from the rules in force. A restarted or resumed peer keeps
 * its address, and the kernel's rules never left it, so there is nothing to
 * give it back. Delay is not offered: this needs netem, which the kernels
 * peerlab runs on may lack; the loader refuses a delay step beforehand.
 */
import type {Link, NetRule} from '../../engine/fault-plan.js';
import type {NetworkFaultBackend} from '../backend.js';
import type {KernelTable} from './table.js';

export class KernelFaults implements NetworkFaultBackend {
  readonly name = 'kernel';

  constructor(
    private readonly table: KernelTable,
    private readonly rules: () => readonly NetRule[],
  ) {}

  async #sync(): Promise<string[]> {
    try {
      await this.table.apply(this.rules());
      return [];
    } catch (error) {
      return [(error as Error).message];
    }
  }

  cut(_links: readonly Link[]): Promise<string[]> {
    return this.#sync();
  }

  loss(_percent: number, _links: Link[] | 'all'): Promise<string[]> {
    return this.#sync();
  }

  heal(): Promise<string[]> {
    return this.#sync();
  }

  reapply(_peer: string): Promise<string[]> {
    return this.#sync();
  }

  async refresh(_peers: readonly string[]): Promise<string[]> {
    return [];
  }
}
