/**
 * A Membership on its own transport bound to 127.0.0.1 (an ephemeral port),
 * in this process, stopped and closed at the test's end.
 */
import type {SwimConfig} from '../../src/config.js';
import {Logger} from '../../src/log.js';
import {Membership} from '../../src/membership/membership.js';
import {Transport} from '../../src/membership/transport.js';

export type Teardown = {teardown(fn: () => Promise<void> | void): void};

export async function member(t: Teardown, name: string, config: SwimConfig): Promise<Membership> {
  const transport = await Transport.open('127.0.0.1', 0, {maxBytes: 1 << 20, maxInbound: 32, readDeadlineMs: config.tcpTimeoutMs});
  const membership = new Membership({name, config, transport, log: new Logger(name, () => {})});
  t.teardown(async () => {
    await membership.stop();
    await transport.close();
  });
  return membership;
}
