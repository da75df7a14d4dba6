/**
 * What every section of the report shares: the run's clock origin and the
 * peers as indices. Times in the report are integer ms since `t0`; a peer is
 * its index in `peers` (sorted names).
 */
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import {isEvent} from '@peerlab/checkers/history/types';
import {isMemberEvent, peerOf} from '@peerlab/checkers/model';

export interface Context {
  t0: number;
  /** Relative time of the last event (the latest, should a peer's clock run ahead). */
  end: number;
  peers: string[];
  index: ReadonlyMap<string, number>;
  /**
   * Index in the history from which the peers are being shut down: after the
   * last step ended, with no step begun since, or from the coordinator's
   * `run.stop` (a run without steps). Their leaving and exiting then is no
   * fault and no change to converge on. Infinity: not (yet) there.
   */
  teardown: number;
}

export function relative(ctx: Context, t: number): number {
  return Math.round(t - ctx.t0);
}

/** The peer's index; every name the history holds was indexed by `context`, so this is defined for those. */
export function peerIndex(ctx: Context, name: string): number {
  const i = ctx.index.get(name);
  if (i === undefined) throw new Error(`peer ${name} is not in the report's peer list`);
  return i;
}

/**
 * One pass over the history for the names it holds (spawned, reporting,
 * named in a view or a fault) and where its steps end. Sources repeat, so
 * each is looked at once.
 */
export function context(history: readonly HistoryEvent[]): Context {
  const names = new Set<string>();
  const sources = new Set<string>();
  let lastSrc = '';
  let end = -Infinity;
  let lastStepEnd = -1;
  let lastStepBegin = -1;
  let stop = Infinity;
  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    if (e.t > end) end = e.t;
    const src = e.src;
    if (src !== 'coordinator') {
      if (src !== lastSrc && !sources.has(src)) {
        sources.add(src);
        const name = peerOf(src);
        if (name !== undefined) names.add(name);
      }
      lastSrc = src;
      const type = e.type;
      if (type !== 'chat.delivered' && type !== 'chat.sent' && type.startsWith('member.') && isMemberEvent(e)) names.add(e.data.name);
      continue;
    }
    if (isEvent(e, 'run.stop')) stop = Math.min(stop, i + 1);
    else if (isEvent(e, 'step.end')) lastStepEnd = i;
    else if (isEvent(e, 'step.begin')) lastStepBegin = i;
    else if (isEvent(e, 'peer.spawn') || isEvent(e, 'peer.exit') || isEvent(e, 'peer.kill') || isEvent(e, 'peer.registered')) names.add(e.data.peer);
    else if (isEvent(e, 'fault')) {
      if (e.data.peer !== undefined) names.add(e.data.peer);
      for (const group of e.data.groups ?? []) for (const name of group) names.add(name);
      for (const name of e.data.targets ?? []) names.add(name);
      for (const link of [...(e.data.blocked ?? []), ...(e.data.kept ?? [])]) for (const name of link) names.add(name);
    } else if (isEvent(e, 'run.begin')) for (const name of e.data.peers ?? []) names.add(name);
  }
  const peers = [...names].sort();
  const t0 = history[0]?.t ?? 0;
  return {t0, end: history.length === 0 ? 0 : Math.round(end - t0), peers, index: new Map(peers.map((p, i) => [p, i])), teardown: Math.min(stop, lastStepEnd > lastStepBegin ? lastStepEnd + 1 : Infinity)};
}
