/**
 * The event log's index: every event's time, source and type as numbers
 * into string tables, so a million rows filter and scroll in the page
 * without their text, which comes in chunks (`chunk`).
 */
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import type {EventChunk, EventLogIndex} from './types.js';
import type {Context} from './context.js';
import {plain} from './context.js';

export const defaultChunkSize = 5000;

export class EventLogFold {
  // Sized once for the whole history: a million pushes would copy and collect.
  readonly #t: Float64Array;
  readonly #src: Int32Array;
  readonly #type: Int32Array;
  #count = 0;
  readonly #sources = new Map<string, number>();
  readonly #types = new Map<string, number>();
  // Consecutive events often share a source or a type: the last one is checked before the table.
  #lastSrc = '';
  #lastSrcIndex = -1;
  #lastType = '';
  #lastTypeIndex = -1;

  constructor(
    readonly ctx: Context,
    size: number,
  ) {
    this.#t = new Float64Array(size);
    this.#src = new Int32Array(size);
    this.#type = new Int32Array(size);
  }

  add(e: HistoryEvent): void {
    const i = this.#count++;
    this.#t[i] = Math.round(e.t - this.ctx.t0);
    const src = e.src;
    if (src !== this.#lastSrc) {
      let i = this.#sources.get(src);
      if (i === undefined) this.#sources.set(src, (i = this.#sources.size));
      this.#lastSrc = src;
      this.#lastSrcIndex = i;
    }
    this.#src[i] = this.#lastSrcIndex;
    const type = e.type;
    if (type !== this.#lastType) {
      let i = this.#types.get(type);
      if (i === undefined) this.#types.set(type, (i = this.#types.size));
      this.#lastType = type;
      this.#lastTypeIndex = i;
    }
    this.#type[i] = this.#lastTypeIndex;
  }

  done(chunkSize = defaultChunkSize): EventLogIndex {
    return {
      count: this.#count,
      t: plain(this.#t, this.#count),
      src: plain(this.#src, this.#count),
      type: plain(this.#type, this.#count),
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
