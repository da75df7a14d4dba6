/**
 * `buildReport`: a history in, the report's data out, every figure and
 * verdict from the checkers' own code. One pass folds the membership model
 * once and hands each event and what it changed to every section; the chat
 * fold is the one the chat checkers share (`chatAt`), and the verdicts are
 * evaluate's.
 */
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import {isEvent} from '@peerlab/checkers/history/types';
import type {Effect} from '@peerlab/checkers/model';
import {Model, chatAt} from '@peerlab/checkers/model';
import {DeliveryDuties} from '@peerlab/checkers/delivered';
import {legalityViolations} from '@peerlab/checkers/legality';
import type {Evaluation} from '@peerlab/checkers/verdict';
import {evaluate} from '@peerlab/checkers/verdict';
import type {SwimTiming} from '@peerlab/checkers/swim-model';
import {parseSwimTiming} from '@peerlab/checkers/swim-model';
import type {ReportData} from './types.js';
import {reportDataVersion} from './types.js';
import {context, relative} from './context.js';
import {EventLogFold, defaultChunkSize} from './event-log.js';
import {TimelineFold} from './timeline.js';
import {MembershipFold} from './membership.js';
import {ConvergenceFold} from './convergence.js';
import {DetectionFold} from './detection.js';
import {MessagesFold} from './messages.js';
import {missingAtAwaits} from './late.js';

export interface BuildOptions {
  /** The run is still going (the live view): `meta.live`. */
  live?: boolean;
  /** The history's evaluation, when the caller has it already (it costs a pass of every checker). */
  evaluation?: Evaluation;
  /** Events per chunk of the event log. */
  chunkSize?: number;
}


export function buildReport(history: readonly HistoryEvent[], options: BuildOptions = {}): ReportData {
  const ctx = context(history);
  const evaluation = options.evaluation ?? evaluate(history);
  const chat = chatAt(history);
  const model = new Model();
  let timing: SwimTiming | undefined;
  const timingOf = () => timing;
  const log = new EventLogFold(ctx, history.length);
  const timeline = new TimelineFold(ctx);
  const membership = new MembershipFold(ctx);
  const convergence = new ConvergenceFold(ctx, model, timingOf);
  const detection = new DetectionFold(ctx, model, timingOf);
  const messages = new MessagesFold(ctx, chat);
  const duties = new DeliveryDuties(chat);

  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    log.add(e);
    const type = e.type;
    // The types the model ignores, by far the most numerous: they skip it.
    if (type === 'chat.delivered' || type === 'chat.sent' || type === 'net.counters') {
      messages.apply(e);
      duties.apply(model, e, undefined);
      continue;
    }
    if (e.type === 'peer.started') {
      membership.before(model, e);
      if (timing === undefined && isEvent(e, 'peer.started') && e.data.timing !== undefined) {
        try {
          timing = parseSwimTiming(e.data.timing);
        } catch {
          // A peer whose timing is wrong loses only the model curves, as it loses its model bounds.
        }
      }
    }
    convergence.before(e);
    const effect: Effect | undefined = model.apply(e);
    membership.apply(model, e, effect);
    timeline.apply(model, e, i, effect);
    convergence.apply(e, i, effect);
    detection.apply(e, i, effect);
    if (e.type === 'fault') detection.network(e);
    duties.apply(model, e, effect);
    messages.apply(e);
    if (i === ctx.teardown - 1) messages.judgeMissing(model, duties);
  }

  const eventLog = log.done(options.chunkSize ?? defaultChunkSize);
  const detectionData = detection.done();
  const messagesData = messages.done(model, duties, missingAtAwaits(ctx, history, evaluation, chat));
  /** When an invariant that did not pass first broke, as its checker finds it; undefined: it says no time (the run's end stands for it). */
  const invariantTime = (name: string): number | undefined => {
    switch (name) {
      case 'no-duplicate-delivery':
        return chat.duplicates[0] && relative(ctx, chat.duplicates[0].t);
      case 'per-sender-order':
        return chat.outOfOrder[0] && relative(ctx, chat.outOfOrder[0].t);
      case 'no-unsent-delivery':
        return messagesData.unsent[0]?.t;
      case 'no-false-dead':
        return detectionData.falseDeaths[0]?.t;
      case 'no-dead':
        return detection.firstDead === undefined ? undefined : relative(ctx, detection.firstDead);
      case 'membership-legality': {
        // Asked only of an invariant that did not pass: one more pass, for a failed run only.
        const first = legalityViolations(history).violations[0];
        return first && relative(ctx, first.after.event.t);
      }
      default:
        return undefined;
    }
  };
  const {timeline: timelineData, firstFailure} = timeline.done(evaluation, log.rate, invariantTime);
  return {
    version: reportDataVersion,
    meta: {
      scenario: evaluation.name,
      file: evaluation.file,
      runId: evaluation.runId,
      seed: evaluation.seed,
      status: evaluation.status,
      ...(evaluation.message !== undefined ? {message: evaluation.message} : {}),
      t0: ctx.t0,
      end: ctx.end,
      live: options.live ?? false,
      ...(firstFailure ? {firstFailure} : {}),
      figures: evaluation.figures,
    },
    peers: ctx.peers,
    timeline: timelineData,
    membership: membership.done(),
    convergence: convergence.done(),
    detection: detectionData,
    messages: messagesData,
    eventLog,
  };
}
