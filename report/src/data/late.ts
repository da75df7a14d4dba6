/**
 * The receivers a `delivered` await that did not pass found missing, at the
 * moment it was judged. `missing` is judged where the run's steps ended, so
 * a message that arrived after the await's deadline is no longer missing
 * there: without this, the step is red and the picture shows nothing wrong.
 *
 * Each such await is judged again as the delivered checker judged it: on the
 * prefix before its await.end, with the chat fold up to that time (judgeStep
 * in checkers/src/verdict.ts), and the same duties and `owed`. A failed run
 * pays one more pass over that prefix per failed delivered await.
 */
import type {HistoryEvent, HistoryEventOf} from '@peerlab/checkers/history/types';
import {isEvent} from '@peerlab/checkers/history/types';
import type {ChatFold} from '@peerlab/checkers/model';
import {Model, chatAt} from '@peerlab/checkers/model';
import {DeliveryDuties} from '@peerlab/checkers/delivered';
import type {Evaluation} from '@peerlab/checkers/verdict';
import type {Messages} from './types.js';
import type {Context} from './context.js';
import {relative} from './context.js';

/** `chat`: the whole history's fold, whose send indices the report's messages use. */
export function missingAtAwaits(ctx: Context, history: readonly HistoryEvent[], evaluation: Evaluation, chat: ChatFold): Messages['missingAtAwait'] {
  const out: Messages['missingAtAwait'] = {message: [], peer: [], t: [], step: []};
  const failed = new Set(evaluation.steps.filter((s) => s.kind === 'await' && s.status !== 'pass').map((s) => s.path));
  if (failed.size === 0) return out;
  const begun = new Map<string, HistoryEventOf<'await.begin'>>();
  for (let i = 0; i < history.length; i++) {
    const e = history[i]!;
    if (e.src !== 'coordinator') continue;
    if (isEvent(e, 'await.begin')) {
      if (e.data.condition.kind === 'delivered' && failed.has(e.data.step)) begun.set(e.data.step, e);
    } else if (isEvent(e, 'await.end') && begun.has(e.data.step)) {
      begun.delete(e.data.step);
      judge(ctx, history.slice(0, i), e.t, e.data.step, chat, out);
    }
  }
  return out;
}

/** As `delivered` in checkers/src/delivered.ts: live peers whose present process has started, and what they owe at `at`. */
function judge(ctx: Context, prefix: readonly HistoryEvent[], at: number, step: string, whole: ChatFold, out: Messages['missingAtAwait']): void {
  const chat = chatAt(prefix, at);
  const model = new Model();
  const duties = new DeliveryDuties(chat);
  for (const e of prefix) {
    if (e.t > at) continue;
    duties.apply(model, e, model.apply(e));
  }
  const t = relative(ctx, at);
  for (const peer of model.live()) {
    if (!model.view(peer)?.current) continue;
    const index = ctx.index.get(peer);
    if (index === undefined) continue;
    duties.owed(model, peer, (k) => {
      // The prefix's sends are the whole history's first ones, but its indices are found by id so they can never disagree.
      const sent = whole.sent.get(duties.sends[k]!.id);
      if (!sent) return;
      out.message.push(sent.index);
      out.peer.push(index);
      out.t.push(t);
      out.step.push(step);
    });
  }
}
