/**
 * The verdict of a scenario, derived from its history alone. The engine calls
 * it when a run ends and `peerlab check` calls it on a history file, so both
 * give the same answer by construction. Awaited conditions are re-checked on
 * the exact prefix of the history the engine saw when it decided.
 */
import {checkCondition, describeEvent, invariants} from './check.js';
import type {Condition, HistoryEvent, InvariantName, Status, Verdict} from './history/types.js';
import {invariantNames} from './history/types.js';
import type {StepResult} from './results.js';
import {overallStatus} from './results.js';
import {matchExpect} from './expect.js';

export interface Evaluation {
  name: string;
  file: string;
  runId: string;
  seed: number;
  status: Status;
  message?: string;
  evidence?: string[];
  steps: StepResult[];
  invariants: Array<{name: string} & Verdict>;
  figures: Record<string, number>;
  durationMs: number;
}

interface CommandReplyData {
  peer: string;
  ok: boolean;
  result?: unknown;
  error?: {message: string; code: string};
}

/** A run step's verdict from its replies: a failed command fails, one that timed out leaves it undecided. */
export function runVerdict(replies: readonly CommandReplyData[], expect: Record<string, unknown> | undefined, expected: number): Verdict {
  if (replies.length < expected) return {status: 'unknown', message: `only ${replies.length} of ${expected} peers answered`};
  for (const reply of replies) {
    if (!reply.ok) {
      const error = reply.error ?? {message: 'no reply', code: 'unknown'};
      return {status: error.code === 'timeout' ? 'unknown' : 'fail', message: `${reply.peer}: ${error.message}`};
    }
    if (expect) {
      const problem = matchExpect(reply.result, expect);
      if (problem) return {status: 'fail', message: `${reply.peer}: ${problem}`};
    }
  }
  return {status: 'pass', message: `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'} ok`};
}

/**
 * An await's verdict on the prefix of the history it was decided on. The
 * engine and `peerlab check` both call this, with the same prefix and time.
 */
export function awaitVerdict(condition: Condition, prefix: readonly HistoryEvent[], from: number, at: number, withinMs: number): Verdict {
  const verdict = checkCondition(condition, prefix, {from, at});
  if (verdict.status === 'pass' || at < from + withinMs) return verdict;
  return {...verdict, message: `not within ${withinMs} ms: ${verdict.message}`};
}

function verdictOfStep(history: readonly HistoryEvent[], begin: number, end: number): Verdict {
  const b = history[begin]!;
  const e = end >= 0 ? history[end]! : undefined;
  const path = b.data.path as string;
  const kind = b.data.kind as string;
  if (!e) return {status: 'unknown', message: 'the step did not finish (the run ended early)'};
  if (typeof e.data.error === 'string') return {status: (e.data.status as Status) ?? 'unknown', message: e.data.error};
  const inStep = (type: string) => history.slice(begin, end).filter((x) => x.src === 'coordinator' && x.type === type && x.data.step === path);
  switch (kind) {
    case 'await': {
      const awaitBegin = inStep('await.begin')[0];
      const awaitEndIndex = history.findIndex((x, i) => i > begin && i < end && x.type === 'await.end' && x.data.step === path);
      if (!awaitBegin || awaitEndIndex < 0) return {status: 'unknown', message: 'the await did not conclude'};
      const awaitEnd = history[awaitEndIndex]!;
      return awaitVerdict(awaitBegin.data.condition as Condition, history.slice(0, awaitEndIndex), awaitBegin.t, awaitEnd.t, awaitBegin.data.withinMs as number);
    }
    case 'run': {
      const replies = inStep('command.reply').map((x) => x.data as unknown as CommandReplyData);
      const sent = inStep('command.send').length;
      return runVerdict(replies, b.data.expect as Record<string, unknown> | undefined, sent);
    }
    case 'start': {
      const peers = (b.data.peers as string[] | undefined) ?? [];
      const window = history.slice(begin, end);
      const registered = new Set(window.filter((x) => x.type === 'peer.registered').map((x) => x.data.peer as string));
      const missing = peers.filter((p) => !registered.has(p));
      if (missing.length === 0) return {status: 'pass', message: `${peers.length} registered`};
      const exited = missing.flatMap((peer) => {
        const exit = window.find((x) => x.type === 'peer.exit' && x.data.peer === peer);
        return exit ? [`${peer} exited (${(exit.data.signal as string | null) ?? `code ${String(exit.data.code)}`}) before it registered; see logs/${peer}.log`] : [];
      });
      const waiting = missing.filter((peer) => !window.some((x) => x.type === 'peer.exit' && x.data.peer === peer));
      const list = (names: string[]) => (names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`);
      const reasons = [...exited.slice(0, 5), ...(exited.length > 5 ? [`${exited.length - 5} more exited`] : [])];
      if (waiting.length > 0) reasons.push(`${list(waiting)} had not registered when the step ended`);
      return {status: 'unknown', message: reasons.join('; ')};
    }
    default:
      return {status: (e.data.status as Status) ?? 'pass', message: (e.data.message as string) ?? ''};
  }
}

export function evaluate(history: readonly HistoryEvent[]): Evaluation {
  const begin = history.find((e) => e.src === 'coordinator' && e.type === 'run.begin');
  const runEnd = history.findLast((e) => e.src === 'coordinator' && e.type === 'run.end');
  const info = (begin?.data ?? {}) as {scenario?: string; file?: string; runId?: string; seed?: number; invariants?: string[]};
  const steps: StepResult[] = [];
  const byPath = new Map<string, StepResult>();
  const evidenceOf = new Map<string, string[] | undefined>();
  // Children end before their block, so a block's verdict can be folded from theirs.
  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    if (e.src !== 'coordinator' || e.type !== 'step.begin') continue;
    const path = e.data.path as string;
    const end = history.findIndex((x, j) => j > i && x.src === 'coordinator' && x.type === 'step.end' && x.data.path === path);
    const kind = e.data.kind as string;
    let verdict: Verdict;
    if (kind === 'parallel' || kind === 'repeat') {
      const children = [...byPath.values()].filter((s) => s.path.startsWith(`${path}.`));
      const status = end < 0 ? 'unknown' : overallStatus(children.map((c) => c.status));
      const bad = children.find((c) => c.status === status && status !== 'pass');
      verdict = {status, message: bad ? `step ${bad.path}: ${bad.message ?? ''}` : `${children.length} steps passed`};
    } else {
      verdict = verdictOfStep(history, i, end);
    }
    const result: StepResult = {
      path,
      kind,
      title: e.data.title as string,
      line: e.data.line as number,
      status: verdict.status,
      message: verdict.message,
      ...(verdict.figures ? {figures: verdict.figures} : {}),
      durationMs: end >= 0 ? history[end]!.t - e.t : 0,
    };
    evidenceOf.set(path, verdict.evidence);
    byPath.set(path, result);
    steps.push(result);
  }
  const checked = (info.invariants ?? []).map((name) => {
    const check = (invariantNames as readonly string[]).includes(name) ? invariants[name as InvariantName] : undefined;
    const verdict: Verdict = check ? check(history) : {status: 'unknown', message: `unknown invariant ${name}`};
    return {name, ...verdict};
  });
  const figures: Record<string, number> = {};
  for (const f of [...steps.map((s) => s.figures), ...checked.map((c) => c.figures)]) {
    for (const [key, value] of Object.entries(f ?? {})) figures[key] = Math.max(figures[key] ?? -Infinity, value);
  }
  const statuses: Status[] = [...steps.map((s) => s.status), ...checked.map((c) => c.status)];
  if (!begin) statuses.push('unknown');
  if (!runEnd) statuses.push('unknown');
  const status = overallStatus(statuses);
  let message: string | undefined;
  let evidence: string[] | undefined;
  const leaf = steps.find((s) => s.status === status && status !== 'pass' && s.kind !== 'parallel' && s.kind !== 'repeat');
  const invariant = checked.find((c) => c.status === status && status !== 'pass');
  if (leaf) {
    message = `step ${leaf.path} (line ${leaf.line}) ${leaf.title}: ${leaf.message ?? ''}`;
    evidence = evidenceOf.get(leaf.path);
  } else if (invariant) {
    message = `invariant ${invariant.name}: ${invariant.message}`;
    evidence = invariant.evidence;
  } else if (status !== 'pass') {
    message = !begin ? 'the history has no run.begin event' : !runEnd ? 'the run did not finish: no run.end event' : 'undecided';
  }
  if (runEnd && typeof runEnd.data.error === 'string' && status !== 'pass') message = `${message ?? ''} (${runEnd.data.error})`;
  const tail = history.slice(-8).map(describeEvent);
  return {
    name: info.scenario ?? '(unknown scenario)',
    file: info.file ?? '',
    runId: info.runId ?? '',
    seed: info.seed ?? 0,
    status,
    ...(message ? {message} : {}),
    ...(status !== 'pass' ? {evidence: evidence ?? tail} : {}),
    steps,
    invariants: checked,
    figures,
    durationMs: begin && runEnd ? runEnd.t - begin.t : 0,
  };
}
