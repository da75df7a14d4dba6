/**
 * Verdicts, from a history alone, in one place. `judgeStep` judges one step
 * from the history before its step.end and how it ended: the engine calls it
 * live for every step (the list reporter prints that result and the step.end
 * records it), and `evaluate` calls it again for each step of a history file
 * (result.json, JUnit, `peerlab check`), on the same prefix, so every report
 * gives the same verdict in the same words. Awaited conditions are re-checked
 * on the exact prefix of the history the engine saw when it decided.
 */
import {checkCondition, describeEvent, invariants} from './check.js';
import type {Condition, EventType, HistoryEvent, HistoryEventOf, InvariantName, Status, Verdict} from './history/types.js';
import {invariantNames, isEvent} from './history/types.js';
import type {StepResult} from './results.js';
import {overallStatus} from './results.js';
import {matchExpect} from './expect.js';
import {modelFigures} from './bound.js';
import {invariantNeeds, trafficNeeds, undeclared} from './capabilities.js';
import {measureTraffic, trafficFigures, trafficVerdict} from './traffic.js';

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
export function awaitVerdict(condition: Condition, prefix: readonly HistoryEvent[], from: number, at: number, withinMs: number, model?: AwaitModel): Verdict {
  return awaitVerdictUpTo(condition, prefix, prefix.length, from, at, withinMs, model);
}

/**
 * Await verdicts already worked out on each history array, by the length of
 * the prefix they saw and their inputs. The engine checks an await on its
 * history as it stands, appends the await.end, and then judges the step on
 * that same prefix: a second replay of the whole history (seconds at a
 * million events) for the same answer, and `evaluate` at the end of the run
 * a third. A history only grows, so the same array and length are the same
 * events; a copy, or a history read from a file, is judged afresh.
 */
const awaitsJudged = new WeakMap<readonly HistoryEvent[], Map<string, Verdict>>();
/** Enough for the awaits of a parallel block decided in one turn; older ones are judged again if asked. */
const MAX_AWAITS_JUDGED = 64;

/** The await's verdict on the first `end` events of the history, worked out once for that array and prefix. */
function awaitVerdictUpTo(condition: Condition, history: readonly HistoryEvent[], end: number, from: number, at: number, withinMs: number, model?: AwaitModel): Verdict {
  const key = JSON.stringify([end, condition, from, at, withinMs, model ?? null]);
  let judged = awaitsJudged.get(history);
  const known = judged?.get(key);
  if (known) return known;
  const verdict = judgeAwait(condition, end === history.length ? history : history.slice(0, end), from, at, withinMs, model);
  if (!judged) awaitsJudged.set(history, (judged = new Map()));
  judged.set(key, verdict);
  // An await re-checks as its history grows: only the last few checks can be asked for again.
  if (judged.size > MAX_AWAITS_JUDGED) judged.delete(judged.keys().next().value!);
  return verdict;
}

function judgeAwait(condition: Condition, prefix: readonly HistoryEvent[], from: number, at: number, withinMs: number, model?: AwaitModel): Verdict {
  return concludeAwait(condition.kind, checkCondition(condition, prefix, {from, at}), from, at, withinMs, model);
}

/** An await's verdict from its condition's check: the model's figures beside the check's, and the bound it missed. */
export function concludeAwait(kind: Condition['kind'], checked: Verdict, from: number, at: number, withinMs: number, model?: AwaitModel): Verdict {
  // The model's figures go beside the condition's own, for a wall-clock bound too: how far from the model a run is shows either way.
  const verdict = model ? {...checked, figures: {...checked.figures, ...modelFigures(kind, checked.figures, model.ms)}} : checked;
  if (verdict.status === 'pass' || at < from + withinMs) return verdict;
  const bound = model?.multiple !== undefined ? `${withinMs} ms (${model.multiple}x the model's ${model.ms} ms at N=${model.n})` : `${withinMs} ms`;
  return {...verdict, message: `not within ${bound}: ${verdict.message}`};
}

/** The model's figure for an await, as its await.begin recorded it; `multiple` when the bound is model-relative. */
export interface AwaitModel {
  ms: number;
  n: number;
  multiple?: number;
}

/**
 * How a step ended, as the engine records it in the step's `step.end`: the
 * facts only the engine knows. Everything else the verdict reads from the
 * history before that event.
 */
export interface StepEnding {
  /** When the step ended: its step.end's time. */
  at: number;
  /** Why the step could not be carried out (the harness, or the scenario's timeout); `status` says what that makes it. */
  error?: string;
  /** For a step that acts rather than checks (a fault, sleep, wait: nemesis): what the action came to. */
  status?: Status;
  message?: string;
}

/** A step's verdict, and the events that explain it when it did not pass. */
export interface JudgedStep {
  step: StepResult;
  evidence?: string[];
}

const isBlock = (kind: string) => kind === 'parallel' || kind === 'repeat';

/**
 * The verdict of the step whose step.begin is `history[begin]`, judged on the
 * history before index `end` (where its step.end is, or is about to be
 * appended) and its `ending` (undefined: the step never ended). `earlier` are
 * the steps judged before it, in the order they began; a block folds its
 * steps' verdicts from them. The engine calls this live, just before it
 * appends the step.end (nothing is appended in between: the call is
 * synchronous); `evaluate` calls it on the history file: the same prefix, the
 * same answer, word for word.
 */
export function judgeStep(history: readonly HistoryEvent[], begin: number, end: number, ending: StepEnding | undefined, earlier: readonly StepResult[]): JudgedStep {
  const b = stepBegin(history, begin);
  const {path, kind} = b.data;
  const verdict = stepVerdict(history, begin, end, ending, earlier);
  const step: StepResult = {
    path,
    kind,
    title: b.data.title,
    line: b.data.line,
    status: verdict.status,
    message: verdict.message,
    ...(verdict.figures ? {figures: verdict.figures} : {}),
    durationMs: ending ? ending.at - b.t : 0,
  };
  return {step, ...(verdict.evidence ? {evidence: verdict.evidence} : {})};
}

/** The step.begin at `begin`: callers find it by its type, so anything else is a bug of theirs. */
function stepBegin(history: readonly HistoryEvent[], begin: number): HistoryEventOf<'step.begin'> {
  const b = history[begin];
  if (!b || b.src !== 'coordinator' || !isEvent(b, 'step.begin')) throw new Error(`history[${begin}] is not a step.begin`);
  return b;
}

function stepVerdict(history: readonly HistoryEvent[], begin: number, end: number, ending: StepEnding | undefined, earlier: readonly StepResult[]): Verdict {
  const b = stepBegin(history, begin);
  const {path, kind} = b.data;
  if (!ending) return {status: 'unknown', message: 'the step did not finish (the run ended early)'};
  if (typeof ending.error === 'string') return {status: ending.status ?? 'unknown', message: ending.error};
  if (isBlock(kind)) {
    // Children end before their block; the first of its leaf steps that did not pass explains it.
    const children = earlier.filter((s) => s.path.startsWith(`${path}.`));
    const status = overallStatus(children.map((c) => c.status));
    const bad = children.find((c) => c.status === status && status !== 'pass' && !isBlock(c.kind));
    return {status, message: bad ? `step ${bad.path}: ${bad.message ?? ''}` : `${children.filter((c) => !isBlock(c.kind)).length} steps passed`};
  }
  const inStep = <K extends 'await.begin' | 'command.send' | 'command.reply'>(type: K): Array<HistoryEventOf<K>> =>
    history.slice(begin, end).filter((x): x is HistoryEventOf<K> => x.src === 'coordinator' && isEvent(x, type) && x.data.step === path);
  const coordinator = <K extends EventType>(x: HistoryEvent, type: K): x is HistoryEventOf<K> => x.src === 'coordinator' && isEvent(x, type);
  switch (kind) {
    case 'await': {
      const awaitBegin = inStep('await.begin')[0];
      let awaitEndIndex = -1;
      for (let i = begin + 1; i < end && awaitEndIndex < 0; i++) {
        const x = history[i]!;
        if (coordinator(x, 'await.end') && x.data.step === path) awaitEndIndex = i;
      }
      if (!awaitBegin || awaitEndIndex < 0) return {status: 'unknown', message: 'the await did not conclude'};
      const awaitEnd = history[awaitEndIndex]!;
      const {condition, withinMs, model} = awaitBegin.data;
      return awaitVerdictUpTo(condition, history, awaitEndIndex, awaitBegin.t, awaitEnd.t, withinMs, model);
    }
    case 'run': {
      const replies: CommandReplyData[] = inStep('command.reply').map((x) => x.data);
      const sent = inStep('command.send').length;
      return runVerdict(replies, b.data.expect, sent);
    }
    case 'start': {
      const peers = b.data.peers ?? [];
      const window = history.slice(begin, end);
      const registered = new Set(window.filter((x) => coordinator(x, 'peer.registered')).map((x) => (x as HistoryEventOf<'peer.registered'>).data.peer));
      const missing = peers.filter((p) => !registered.has(p));
      if (missing.length === 0) return {status: 'pass', message: `${peers.length} registered`};
      const exited = missing.flatMap((peer) => {
        const exit = window.find((x): x is HistoryEventOf<'peer.exit'> => coordinator(x, 'peer.exit') && x.data.peer === peer);
        return exit ? [`${peer} exited (${exit.data.signal ?? `code ${String(exit.data.code)}`}) before it registered; see logs/${peer}.log`] : [];
      });
      const waiting = missing.filter((peer) => !window.some((x) => coordinator(x, 'peer.exit') && x.data.peer === peer));
      const list = (names: string[]) => (names.length <= 5 ? names.join(', ') : `${names.slice(0, 5).join(', ')} and ${names.length - 5} more`);
      const reasons = [...exited.slice(0, 5), ...(exited.length > 5 ? [`${exited.length - 5} more exited`] : [])];
      if (waiting.length > 0) reasons.push(`${list(waiting)} had not registered when the step ended`);
      return {status: 'unknown', message: reasons.join('; ')};
    }
    default:
      // A step that acts (a fault, sleep, wait: nemesis): the engine recorded what the action came to.
      return {status: ending.status ?? 'pass', message: ending.message ?? ''};
  }
}

export function evaluate(history: readonly HistoryEvent[]): Evaluation {
  const begin = history.find((e): e is HistoryEventOf<'run.begin'> => e.src === 'coordinator' && isEvent(e, 'run.begin'));
  const runEnd = history.findLast((e): e is HistoryEventOf<'run.end'> => e.src === 'coordinator' && isEvent(e, 'run.end'));
  const info = begin?.data ?? {};
  const evidenceOf = new Map<string, string[] | undefined>();
  // A step's path is unique in a run. Steps are judged in the order they ended, as the engine judged
  // them, so a block finds its steps judged; they are reported in the order they began.
  const begins: number[] = [];
  const ends = new Map<string, number>();
  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    if (e.src !== 'coordinator') continue;
    if (isEvent(e, 'step.begin')) begins.push(i);
    else if (isEvent(e, 'step.end') && !ends.has(e.data.path)) ends.set(e.data.path, i);
  }
  const endOf = (i: number) => {
    const end = ends.get(stepBegin(history, i).data.path);
    return end !== undefined && end > i ? end : -1;
  };
  const order = [...begins].sort((x, y) => (endOf(x) < 0 ? Infinity : endOf(x)) - (endOf(y) < 0 ? Infinity : endOf(y)) || x - y);
  const judged: StepResult[] = [];
  const byBegin = new Map<number, StepResult>();
  for (const i of order) {
    const end = endOf(i);
    const stepEnd = end >= 0 ? (history[end] as HistoryEventOf<'step.end'>) : undefined;
    const d = stepEnd?.data;
    const ending: StepEnding | undefined = stepEnd && d && {
      at: stepEnd.t,
      ...(d.error !== undefined ? {error: d.error} : {}),
      status: d.status,
      message: d.message,
    };
    const one = judgeStep(history, i, end >= 0 ? end : history.length, ending, judged);
    evidenceOf.set(one.step.path, one.evidence);
    judged.push(one.step);
    byBegin.set(i, one.step);
  }
  const steps = begins.map((i) => byBegin.get(i)!);
  const checked = (info.invariants ?? []).map((name) => {
    const check = (invariantNames as readonly string[]).includes(name) ? invariants[name as InvariantName] : undefined;
    // A check is run only on what the peers declared they report; else it has judged nothing and says why.
    const lacking = check ? undeclared(history, invariantNeeds[name as InvariantName]) : undefined;
    const verdict: Verdict = !check ? {status: 'unknown', message: `unknown invariant ${name}`} : lacking ? {status: 'unknown', message: lacking} : check(history);
    return {name, ...verdict};
  });
  // Traffic is measured on every run; a scenario's bounds on it are judged as one more invariant.
  const traffic = measureTraffic(history);
  if (info.traffic) {
    const lacking = undeclared(history, trafficNeeds);
    checked.push({name: 'traffic', ...(lacking ? {status: 'unknown' as const, message: lacking} : trafficVerdict(traffic, info.traffic, history))});
  }
  const figures: Record<string, number> = trafficFigures(traffic);
  for (const f of [...steps.map((s) => s.figures), ...checked.map((c) => c.figures)]) {
    for (const [key, value] of Object.entries(f ?? {})) figures[key] = Math.max(figures[key] ?? -Infinity, value);
  }
  const statuses: Status[] = [...steps.map((s) => s.status), ...checked.map((c) => c.status)];
  if (!begin) statuses.push('unknown');
  if (!runEnd) statuses.push('unknown');
  const status = overallStatus(statuses);
  let message: string | undefined;
  let evidence: string[] | undefined;
  // The first step to end with the run's status explains it, as a block's first such step explains the block: in a
  // parallel block the two orders differ, and the explanation must name the same step as the block's message.
  const leaf = judged.find((s) => s.status === status && status !== 'pass' && !isBlock(s.kind));
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
  if (runEnd?.data.error !== undefined && status !== 'pass') message = `${message ?? ''} (${runEnd.data.error})`;
  // The peers' periodic counters would crowd out the events that explain the end.
  const tail = history.filter((e) => e.type !== 'net.counters').slice(-8).map(describeEvent);
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
