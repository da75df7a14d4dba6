/**
 * Appends history events to `history.jsonl`, one JSON object per line, in
 * the order they arrive, and hands each to listeners (the engine's awaits and
 * the reporters). The in-memory list is the same prefix the file holds, so a
 * verdict computed online can be recomputed offline from the file alone.
 */
import {createWriteStream} from 'node:fs';
import type {WriteStream} from 'node:fs';
import {EventEmitter} from 'node:events';
import type {CoordinatorEventData, CoordinatorEventType, CoordinatorHistoryEvent, HistoryEvent, PeerSource} from '@peerlab/events/contract';
import {StringPool} from './string-pool.js';

export class HistoryWriter extends EventEmitter<{event: [HistoryEvent]}> {
  readonly events: HistoryEvent[] = [];
  readonly #stream: WriteStream;
  #closed = false;
  /** Lines not yet handed to the stream: one write per tick instead of one per event. */
  #buffer: string[] = [];
  /** Peers' events are held for the whole run: their names and addresses once, not once an event (string-pool.ts). */
  readonly #strings = new StringPool();

  constructor(readonly file: string) {
    super();
    this.#stream = createWriteStream(file, {flags: 'a'});
  }

  /**
   * Appends a coordinator event. Its data is typed by the event contract
   * (@peerlab/events/contract): a missing or misspelt field fails the build.
   */
  append<K extends CoordinatorEventType>(type: K, data: CoordinatorEventData<K>, options: {t?: number} = {}): CoordinatorHistoryEvent<K> {
    return this.#append({t: options.t ?? Date.now(), src: 'coordinator', type, data} as CoordinatorHistoryEvent<K>) as CoordinatorHistoryEvent<K>;
  }

  /** Appends a peer's event as the hub passed it on (checked against the contract there). */
  appendPeer(src: PeerSource, event: {seq: number; time: number; type: string; data: Record<string, unknown>}): HistoryEvent {
    const strings = this.#strings;
    return this.#append({t: event.time, src: strings.get(src) as PeerSource, type: strings.get(event.type), data: strings.fields(event.data), seq: event.seq});
  }

  #append(event: HistoryEvent): HistoryEvent {
    // Two literal shapes at the call sites, not a spread: events come by the hundred thousand per second, and
    // JSON.stringify takes its fast path on objects V8 sees with the same shape again and again.
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
