/**
 * The event log's index: every event's time, source and type as numbers
 * into string tables, so a million rows filter and scroll in the page
 * without their text, which comes in chunks (`chunk`).
 */
import type {HistoryEvent} from '@peerlab/checkers/history/types';
import type {EventChunk, EventLogIndex} from './types.js';
import type {Context} from './context.js';
import {bucketWidth} from './buckets.js';

export const defaultChunkSize = 5000;

export class EventLogFold {
  // Sized once for the whole history: a million pushes would copy and collect, and typed arrays would need copying to plain ones for JSON.
  readonly #t: number[];
  readonly #src: number[];
  readonly #type: number[];
  #count = 0;
  /** Events per bucket of `bucketMs`, counted as they come (the run's end is known before the pass). */
  readonly rate: {bucketMs: number; counts: number[]};
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
    this.#t = new Array<number>(size);
    this.#src = new Array<number>(size);
    this.#type = new Array<number>(size);
    const bucketMs = bucketWidth(ctx.end);
    this.rate = {bucketMs, counts: new Array<number>(Math.floor(Math.max(0, ctx.end) / bucketMs) + 1).fill(0)};
  }

  add(e: HistoryEvent): void {
    const i = this.#count++;
    const t = Math.round(e.t - this.ctx.t0);
    this.#t[i] = t;
    const counts = this.rate.counts;
    // A peer's clock may run a little before the first event or after the last: its events count at the edge.
    const b = Math.min(counts.length - 1, Math.max(0, Math.floor(t / this.rate.bucketMs)));
    counts[b]!++;
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
