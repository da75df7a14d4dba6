/**
 * Times how one membership change reaches every member, from the events the
 * peers stream to the coordinator and by the peers' own clocks: the time a
 * peer stamped on an event is when its view changed, not when the hub heard
 * of it (events come in batches, a flush interval late).
 *
 * Where the clock starts is what Serf's model starts from, one member holding
 * the news:
 * - a join: the earliest of the newcomer's `peer.joined` and any member's
 *   `member.joined`/`member.alive` of it. The newcomer's seeds merge its state
 *   while they answer its push-pull, so a seed normally holds the news a
 *   moment before the newcomer hears back; taking the earlier never shortens
 *   the figure.
 * - a leave: the leaving peer's own `member.left` about itself, which it emits
 *   just before it sends its `left` to the others.
 * The clock stops when the last of the observers (the other live members)
 * records the change. A change some observer never recorded, or whose start
 * was never seen, has no time: NaN, never 0.
 */
import type {Coordinator} from '@peerlab/test-server';

export type ChangeKind = 'join' | 'leave';

export interface Spread {
  kind: ChangeKind;
  subject: string;
  /** ms from the first member holding the news to the last observer recording it; NaN when not seen by all. */
  ms: number;
  observers: number;
  /** Observers that recorded the change. */
  seen: number;
  /** ms until half the observers had recorded it: a change that reaches most views at once and a few late shows here. */
  half: number;
  /** Whether the change's own start (the newcomer's join, the leaver's `left`) reached the hub. */
  started: boolean;
}

interface Active {
  kind: ChangeKind;
  subject: string;
  observers: ReadonlySet<string>;
  /** The earliest time any event says the news existed. */
  from: number;
  /** The subject's own event arrived. */
  started: boolean;
  seen: Map<string, number>;
}

export class SpreadClock {
  #active: Active | undefined;

  constructor(c: Coordinator) {
    c.hub.on('events', (name, events) => {
      const a = this.#active;
      if (!a) return;
      for (const e of events) {
        if (e.data.name !== a.subject && !(a.kind === 'join' && e.type === 'peer.joined' && name === a.subject)) continue;
        if (a.kind === 'join') {
          if (name === a.subject && e.type === 'peer.joined') {
            a.started = true;
            a.from = Math.min(a.from, e.time);
          } else if ((e.type === 'member.joined' || e.type === 'member.alive') && a.observers.has(name)) {
            a.from = Math.min(a.from, e.time);
            if (!a.seen.has(name)) a.seen.set(name, e.time);
          }
        } else if (e.type === 'member.left') {
          if (name === a.subject) {
            a.started = true;
            a.from = Math.min(a.from, e.time);
          } else if (a.observers.has(name) && !a.seen.has(name)) {
            a.seen.set(name, e.time);
          }
        }
      }
    });
  }

  /** Starts listening for one change; call it before making the change, so none of its events is missed. */
  begin(kind: ChangeKind, subject: string, observers: Iterable<string>): void {
    const set = new Set(observers);
    set.delete(subject);
    this.#active = {kind, subject, observers: set, from: Infinity, started: false, seen: new Map()};
  }

  /** Waits until every observer recorded the change and its start arrived, or until the deadline. */
  async end(timeoutMs: number): Promise<Spread> {
    const a = this.#active;
    if (!a) throw new Error('SpreadClock.end without begin');
    const deadline = performance.now() + timeoutMs;
    const done = () => a.started && a.seen.size === a.observers.size;
    while (!done() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.#active = undefined;
    const times = [...a.seen.values()].sort((x, y) => x - y);
    const complete = done() && a.observers.size > 0;
    return {
      kind: a.kind,
      subject: a.subject,
      ms: complete ? times.at(-1)! - a.from : NaN,
      half: complete ? times[Math.ceil(times.length / 2) - 1]! - a.from : NaN,
      observers: a.observers.size,
      seen: a.seen.size,
      started: a.started,
    };
  }
}
