/**
 * Whether a group is at rest, read from the `net.counters` its members report
 * every second: at rest a member sends a ping each probe interval and acks the
 * ping it gets, about two datagrams a probe interval; gossip comes on top only
 * while its queue holds news. Serf's model times a change from a group at
 * rest. A group that has only just converged is not one: its members are
 * still sending the last newcomers' news, and the first change timed there
 * reached half the views six times later than the ones after it (2026-12-05).
 */
import type {Coordinator} from '@peerlab/test-server';

export interface Sample {
  /** Epoch ms at the peer. */
  time: number;
  udpOut: number;
}

export interface Rest {
  atRest: boolean;
  /** ms waited. */
  waitedMs: number;
  /** Datagrams a second a member when the wait ended; NaN when too few members had reported. */
  rate: number;
}

/** Datagrams a second a member at rest: a ping and an ack a probe interval, with half that again for slack. */
export function restRate(probeIntervalMs: number): number {
  return (3 * 1000) / probeIntervalMs;
}

/**
 * Datagrams a second a member, over each member's last `windowMs` of its own
 * reports (cumulative `udpOut`, oldest first), on average: NaN until nine in
 * ten of `members` have two reports at least half the window apart, the
 * later within a window of the latest report of all.
 */
export function groupRate(reports: ReadonlyArray<readonly Sample[]>, members: number, windowMs: number): number {
  // A member that stopped reporting a window before the latest report is not quiet, only silent.
  const latest = Math.max(...reports.map((list) => list.at(-1)?.time ?? -Infinity));
  let sum = 0;
  let counted = 0;
  for (const list of reports) {
    const last = list.at(-1);
    const first = list.find((s) => last !== undefined && last.time - s.time <= windowMs);
    if (!last || !first || last.time - first.time < windowMs / 2 || latest - last.time > windowMs) continue;
    // A counter that went back (a restarted process) says nothing of a rate.
    if (last.udpOut < first.udpOut) continue;
    sum += ((last.udpOut - first.udpOut) * 1000) / (last.time - first.time);
    counted++;
  }
  return counted > 0 && counted >= 0.9 * members ? sum / counted : NaN;
}

/**
 * Waits until `members` send no more than `limit` datagrams a second each on
 * average (over each one's last `windowMs` of reports), or until `timeoutMs`;
 * listens to the hub's events only while it waits.
 */
export async function untilAtRest(c: Coordinator, members: Iterable<string>, limit: number, timeoutMs: number, windowMs = 3000): Promise<Rest> {
  const names = new Set(members);
  const samples = new Map<string, Sample[]>();
  const onEvents = (name: string, events: ReadonlyArray<{type: string; time: number; data: Record<string, unknown>}>) => {
    if (!names.has(name)) return;
    for (const e of events) {
      if (e.type !== 'net.counters' || typeof e.data.udpOut !== 'number') continue;
      const list = samples.get(name) ?? [];
      list.push({time: e.time, udpOut: e.data.udpOut});
      // A few seconds of reports is all a rate needs.
      if (list.length > 16) list.shift();
      samples.set(name, list);
    }
  };
  c.hub.on('events', onEvents);
  try {
    const from = performance.now();
    for (;;) {
      const rate = groupRate([...samples.values()], names.size, windowMs);
      const waitedMs = performance.now() - from;
      if (rate <= limit) return {atRest: true, waitedMs, rate};
      if (waitedMs >= timeoutMs) return {atRest: false, waitedMs, rate};
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    c.hub.off('events', onEvents);
  }
}
