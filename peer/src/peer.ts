/**
 * One chat peer: transport, membership and chat wired together, plus the
 * settings it was started with. The CLI and (later) the client agent drive it
 * only through the command registry.
 */
import type {ProfileName, SwimConfig} from './config.js';
import {maxPushPullBytes, profiles} from './config.js';
import {Chat} from './chat/chat.js';
import {Logger} from './log.js';
import {Membership} from './membership/membership.js';
import {Transport} from './membership/transport.js';
import {EVERYONE, NetworkFaults} from './membership/network-faults.js';
import type {Address} from './membership/types.js';
import {shuffle} from './membership/shuffle.js';
import {formatAddress} from './membership/types.js';
import type {BootstrapSeed} from './bootstrap-client.js';
import {bootstrapJoin, bootstrapLeave} from './bootstrap-client.js';
import {ContactSweep, SWEEP_PUSH_PULL_INTERVALS} from './contact-sweep.js';
import type {Bugs} from './policy.js';
import {policyFor} from './policy.js';

export interface PeerSettings {
  name: string;
  host: string;
  port: number;
  profile: ProfileName;
  join: Address[];
  bootstrap?: string | undefined;
  /** Overrides of single timing knobs, e.g. for tests that need a broken peer. */
  overrides?: Partial<SwimConfig> | undefined;
  /** Deliberate defects, for testing the harness (see policy.ts). */
  bugs?: Bugs | undefined;
}

/**
 * How many of the bootstrap's contacts a newcomer asks for the group's state.
 * One full-state exchange is enough to join: the rest of the group hears of
 * the newcomer by gossip, and the newcomer hears of the rest from the
 * contact. Every newcomer is handed the same few oldest members, so asking
 * all eight multiplied their load: with a thousand peers starting, their
 * exchanges timed out and the newcomers waited out backoffs to join.
 */
const JOIN_CONTACTS = 3;

/**
 * The bootstrap service's own number of contacts (DEFAULT_MAXPEERS in
 * @peerlab/bootstrap, which the peer reaches only over HTTP). A service that
 * hands out more has been sized for a large group by its operator.
 */
const DEFAULT_CONTACTS = 8;

export class Peer {
  readonly log: Logger;
  readonly config: SwimConfig;
  /** The sweep after the latest join through the bootstrap service (contact-sweep.ts). */
  #sweep: ContactSweep | undefined;

  private constructor(
    readonly settings: PeerSettings,
    readonly transport: Transport,
    readonly membership: Membership,
    readonly chat: Chat,
    /** Network faults injected by the coordinator through the `net-*` commands. */
    readonly faults: NetworkFaults,
    log: Logger,
  ) {
    this.log = log;
    this.config = membership.config;
  }

  static async start(settings: PeerSettings, log = new Logger(settings.name)): Promise<Peer> {
    const config: SwimConfig = {...profiles[settings.profile], ...settings.overrides};
    const transport = await Transport.open(settings.host, settings.port, {
      maxBytes: maxPushPullBytes(config),
      maxInbound: config.maxInboundConnections,
      readDeadlineMs: config.tcpTimeoutMs,
    });
    const policy = policyFor(settings.bugs ?? []);
    const membership = new Membership({name: settings.name, config, transport, log, policy});
    const faults = new NetworkFaults((address) => membership.nameAt(address));
    transport.setFilter(faults.filter);
    if (policy.dropsAllPackets) faults.cut([EVERYONE], 'both');
    const chat = new Chat(membership, log, policy);
    const peer = new Peer(settings, transport, membership, chat, faults, log);
    membership.start();
    chat.start();
    return peer;
  }

  get address(): string {
    return formatAddress(this.transport.address);
  }

  /** Joins through explicit seeds, or else through the bootstrap service when one is set. */
  async join(seeds: Address[] = this.settings.join): Promise<{contacted: number; seeds: number; errors: string[]}> {
    // A sweep after an earlier join, perhaps from before a leave, is not this join's.
    this.#sweep?.cancel();
    const errors: string[] = [];
    if (seeds.length === 0 && this.settings.bootstrap) {
      let contacts: Address[] = [];
      let offered: BootstrapSeed[] = [];
      try {
        offered = (await bootstrapJoin(this.settings.bootstrap, this.settings.name, this.address)).seeds;
        contacts = shuffle(offered.map((c) => c.address)).slice(0, JOIN_CONTACTS);
      } catch (error) {
        errors.push(`bootstrap: ${error instanceof Error ? error.message : String(error)}`);
      }
      // In a large group every contact is asked by hundreds: the next only once the one before failed or ran
      // out its deadline (asking the next after a quarter of it multiplied the requests the contacts were
      // already late with: 1,769 exchanges timed out in a 1,000-peer start, against 121). A small group's
      // newcomer asks its few at once, and joins as soon as the first answers.
      const result = await this.membership.join(contacts, offered.length > DEFAULT_CONTACTS ? {hedgeMs: this.config.tcpTimeoutMs} : {});
      // Contacts not asked, or asked after the first answer, may be in a group that never hears of this one.
      if (result.contacted > 0 && offered.length > 1) this.#sweepContacts(offered);
      this.chat.start();
      return {contacted: result.contacted, seeds: contacts.length, errors: [...errors, ...result.errors], ...(errors.length > 0 && contacts.length === 0 ? {bootstrapFailed: true} : {})};
    }
    const result = await this.membership.join(seeds);
    this.chat.start();
    return {contacted: result.contacted, seeds: seeds.length, errors: result.errors};
  }

  /**
   * Joins at start and keeps trying, with backoff, while nobody could be
   * reached: on a machine starting hundreds of peers, the bootstrap service or
   * a seed may not answer in time, and a peer that gave up would stay alone.
   */
  async joinAtStart(): Promise<{contacted: number; seeds: number; errors: string[]}> {
    const first = await this.join();
    const failed = (r: {contacted: number; seeds: number; bootstrapFailed?: boolean}) => r.bootstrapFailed === true || (r.seeds > 0 && r.contacted === 0);
    if (failed(first)) {
      void (async () => {
        for (let delay = 500; this.membership.running && this.membership.liveCount() <= 1; delay = Math.min(delay * 2, 10_000)) {
          await new Promise((r) => setTimeout(r, delay));
          if (!this.membership.running || this.membership.liveCount() > 1) return;
          const again = await this.join().catch(() => undefined);
          if (again && !failed(again)) {
            this.log.info('cli', `joined on a later attempt through ${again.contacted} of ${again.seeds} seeds`);
            return;
          }
        }
      })();
    }
    return first;
  }

  #sweepContacts(contacts: BootstrapSeed[]): void {
    this.#sweep?.cancel();
    // Left while the join was under way: nothing is started on a group it has left.
    if (!this.membership.active) return;
    const log = {
      bridged: (c: BootstrapSeed) => this.log.info('swim', `bridged to contact ${c.name}, not heard of since the join: it had not joined this peer's group, or this peer not its`),
      failed: (c: BootstrapSeed, error: unknown) => this.log.debug('swim', `sweep: contact ${c.name} did not answer: ${error instanceof Error ? error.message : String(error)}`),
    };
    this.#sweep = new ContactSweep(this.membership, contacts, log).start(SWEEP_PUSH_PULL_INTERVALS.map((n) => n * this.config.pushPullIntervalMs));
  }

  async leave(): Promise<void> {
    this.#sweep?.cancel();
    this.chat.stop();
    await this.membership.leave();
    if (this.settings.bootstrap) {
      await bootstrapLeave(this.settings.bootstrap, this.settings.name).catch((error: unknown) => {
        this.log.debug('bootstrap', `leave not recorded: ${String(error)}`);
      });
    }
  }

  async close(): Promise<void> {
    this.#sweep?.cancel();
    this.chat.stop();
    await this.membership.stop();
    await this.transport.close();
  }
}
