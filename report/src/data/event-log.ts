/**
 * The event log's index: every event's time, source and type as numbers
 * into string tables, so a million rows filter and scroll in the page
 * without their text, which comes in chunks (`chunk`).
 */
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import type {EventChunk, EventLogIndex} from './types.js';
import type {Context} from './context.js';

export const defaultChunkSize = 5000;

export class EventLogFold {
  readonly #t: number[] = [];
  readonly #src: number[] = [];
  readonly #type: number[] = [];
  readonly #sources = new Map<string, number>();
  readonly #types = new Map<string, number>();
  // Consecutive events often share a source or a type: the last one is checked before the table.
  #lastSrc = '';
  #lastSrcIndex = -1;
  #lastType = '';
  #lastTypeIndex = -1;

  constructor(readonly ctx: Context) {}

  add(e: HistoryEvent): void {
    this.#t.push(Math.round(e.t - this.ctx.t0));
    const src = e.src;
    if (src !== this.#lastSrc) {
      let i = this.#sources.get(src);
      if (i === undefined) this.#sources.set(src, (i = this.#sources.size));
      this.#lastSrc = src;
      this.#lastSrcIndex = i;
    }
    this.#src.push(this.#lastSrcIndex);
    const type = e.type;
    if (type !== this.#lastType) {
      let i = this.#types.get(type);
      if (i === undefined) this.#types.set(type, (i = this.#types.size));
      this.#lastType = type;
      this.#lastTypeIndex = i;
    }
    this.#type.push(this.#lastTypeIndex);
  }

  done(chunkSize = defaultChunkSize): EventLogIndex {
    return {
      count: this.#t.length,
      t: this.#t,
      src: this.#src,
      type: this.#type,
      sources: [...this.#sources.keys()],
      types: [...this.#types.keys()],
      chunkSize,
    };
  }
}

/** The events of chunk `index`, as the history has them. */
export function eventChunk(history: readonly HistoryEvent[], index: number, chunkSize = defaultChunkSize): EventChunk {
  if (!Number.isInteger(index) || index < 0) throw new RangeError(`chunk index: expected an integer >= 0, got ${String(index)}`);
  const events = history.slice(index * chunkSize, (index + 1) * chunkSize).map(({t, src, type, data}) => ({t, src, type, data}));
  return {index, events};
}

/** How many chunks a history of `count` events is cut into. */
export function chunkCount(count: number, chunkSize = defaultChunkSize): number {
  return Math.ceil(count / chunkSize);
}
