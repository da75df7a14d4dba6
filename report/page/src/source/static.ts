/**
 * The static report's data source: the data came with data.js; the log's text
 * comes in events-NNNN.js files, added as script tags when first asked for
 * (classic scripts load from file://, fetch does not).
 */
import {chunkFileName, chunkGlobal, type EventChunk, type ReportData} from '../../../src/data/types.js';
import type {DataSource} from '../view-props.js';

type Waiter = {resolve(chunk: EventChunk): void; reject(error: Error): void};

export function staticSource(): DataSource {
  const cache = new Map<number, Promise<EventChunk>>();
  const waiting = new Map<number, Waiter>();
  (window as unknown as Record<string, unknown>)[chunkGlobal] = (chunk: EventChunk) => {
    waiting.get(chunk.index)?.resolve(chunk);
    waiting.delete(chunk.index);
  };
  return {
    live: false,
    chunk(index) {
      let pending = cache.get(index);
      if (!pending) {
        pending = new Promise<EventChunk>((resolve, reject) => {
          waiting.set(index, {resolve, reject});
          const script = document.createElement('script');
          script.src = chunkFileName(index);
          script.onerror = () => {
            waiting.delete(index);
            cache.delete(index);
            reject(new Error(`could not load ${chunkFileName(index)}`));
          };
          script.onload = () => script.remove();
          document.head.appendChild(script);
        });
        cache.set(index, pending);
      }
      return pending;
    },
    subscribe(_listener: (data: ReportData) => void) {
      return () => {};
    },
  };
}
