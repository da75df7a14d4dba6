/**
 * Permalinks: the URL's hash names a step (#step-5.2), a check
 * (#invariant-<name>), a log row (#event-<i>) or an instant (#t=<ms>), and
 * the page opens there: cursor on it, window around it, its element in view.
 * A failing run without a hash opens at its first failure.
 */
import type {ReportData} from '../../src/data/types.js';
import type {PageState} from './store.js';
import type {TimeWindow} from './view-props.js';

export type HashTarget =
  | {kind: 'anchor'; anchor: string}
  | {kind: 'event'; index: number}
  | {kind: 't'; ms: number};

export function parseHash(hash: string): HashTarget | undefined {
  let h: string;
  try {
    h = decodeURIComponent(hash.replace(/^#/, ''));
  } catch {
    // A malformed escape (#%E0%A4) names nothing; the page opens as without a hash.
    return undefined;
  }
  if (!h) return undefined;
  let m = /^event-(\d+)$/.exec(h);
  if (m) return {kind: 'event', index: Number(m[1])};
  m = /^t=(-?\d+(?:\.\d+)?)$/.exec(h);
  if (m) return {kind: 't', ms: Number(m[1])};
  if (h.startsWith('step-') || h.startsWith('invariant-')) return {kind: 'anchor', anchor: h};
  return undefined;
}

/** The whole run, the window a report opens with when nothing singles out a moment. */
export function wholeRun(data: ReportData): TimeWindow {
  return {from: 0, to: Math.max(1, data.meta.end)};
}

/** A window showing [from, to] with some context either side, within the run. */
export function around(data: ReportData, from: number, to: number): TimeWindow {
  const span = Math.max(to - from, 200);
  const pad = Math.max(span * 0.3, Math.min(2000, data.meta.end * 0.05));
  return {from: Math.max(0, from - pad), to: Math.min(Math.max(1, data.meta.end), to + pad)};
}

/** Where a step's or check's anchor points: the step's span, and its failure instant if it has one. */
export function anchorSpan(data: ReportData, anchor: string): {from: number; to: number; cursor: number} | undefined {
  const marker = data.timeline.checks.find((c) => c.anchor === anchor);
  const step = data.timeline.steps.find((s) => s.anchor === anchor);
  if (step) {
    const end = step.end ?? data.meta.end;
    return {from: step.begin, to: Math.max(end, marker?.t ?? end), cursor: marker?.t ?? step.begin};
  }
  if (marker) return {from: marker.t, to: marker.t, cursor: marker.t};
  return undefined;
}

/** The state a hash target asks for, or undefined when it names nothing in this report. */
export function stateForTarget(data: ReportData, target: HashTarget, current: PageState): Partial<PageState> | undefined {
  const inWindow = (t: number) => (t >= current.window.from && t <= current.window.to ? current.window : around(data, t, t));
  switch (target.kind) {
    case 'anchor': {
      const span = anchorSpan(data, target.anchor);
      if (!span) return undefined;
      return {cursor: span.cursor, window: around(data, span.from, span.to)};
    }
    case 'event': {
      const t = data.eventLog.t[target.index];
      if (t === undefined) return undefined;
      return {cursor: t, selectedEvent: target.index, window: inWindow(t)};
    }
    case 't':
      return {cursor: target.ms, window: inWindow(target.ms)};
  }
}

/** Where a report opens: the hash's target, else the first failure, else the whole run. */
export function initialState(data: ReportData, hash: string): PageState {
  // A live run is watched at its present; a finished one is read from its start.
  const base: PageState = {cursor: data.meta.live ? data.meta.end : 0, window: wholeRun(data), selectedMessage: undefined, selectedEvent: undefined};
  const target = parseHash(hash);
  const fromHash = target && stateForTarget(data, target, base);
  if (fromHash) return {...base, ...fromHash};
  const failure = data.meta.firstFailure;
  if (failure) {
    const span = anchorSpan(data, failure.anchor);
    const from = Math.min(span?.from ?? failure.t, failure.t);
    const to = Math.max(span?.to ?? failure.t, failure.t);
    return {...base, cursor: failure.t, window: around(data, from, to)};
  }
  // A run that passed opens on its last step, where every view has settled, not on the empty views of its start.
  const last = data.timeline.steps.filter((s) => s.depth === 0).at(-1);
  return last ? {...base, cursor: data.meta.live ? base.cursor : last.begin} : base;
}

/** The element id a hash target scrolls to. */
export function targetElementId(target: HashTarget): string {
  switch (target.kind) {
    case 'anchor':
      return target.anchor;
    case 'event':
      return 'log';
    case 't':
      return 'overview';
  }
}
