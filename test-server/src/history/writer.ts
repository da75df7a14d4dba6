/**
 * Appends history events to `history.jsonl`, one JSON object per line, in
 * the order they arrive, and hands each to listeners (the engine's awaits and
 * the reporters). The in-memory list is the same prefix the file holds, so a
 * verdict computed online can be recomputed offline from the file alone.
 */
import {createWriteStream} from 'node:fs';
import type {WriteStream} from 'node:fs';
import {EventEmitter} from 'node:events';
import type {HistoryEvent, Source} from '@peerlab/checkers/history/types';

export class HistoryWriter extends EventEmitter<{event: [HistoryEvent]}> {
  readonly events: HistoryEvent[] = [];
  readonly #stream: WriteStream;
  #closed = false;
  /** Lines not yet handed to the stream: one write per tick instead of one per event. */
  #buffer: string[] = [];

  constructor(readonly file: string) {
    super();
    this.#stream = createWriteStream(file, {flags: 'a'});
  }

  append(type: string, data: Record<string, unknown>, options: {src?: Source; t?: number; seq?: number} = {}): HistoryEvent {
    const t = options.t ?? Date.now();
    const src = options.src ?? 'coordinator';
    // Two literal shapes, not a spread: events come by the hundred thousand per second, and
    // JSON.stringify takes its fast path on objects V8 sees with the same shape again and again.
    const event: HistoryEvent = options.seq !== undefined ? {t, src, type, data, seq: options.seq} : {t, src, type, data};
    if (this.#closed) return event;
    this.events.push(event);
    if (this.#buffer.push(JSON.stringify(event)) === 1) setImmediate(() => this.#drain());
    this.emit('event', event);
    return event;
  }

  #drain(): void {
    if (this.#buffer.length === 0) return;
    this.#stream.write(this.#buffer.join('\n') + '\n');
    this.#buffer = [];
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#drain();
    return new Promise((resolve, reject) => this.#stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
}
