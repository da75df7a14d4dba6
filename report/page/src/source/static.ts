/**
 * The static report's data source: the data came with data.js; the log's text
 * comes in events-NNNN.js files, added as script tags when first asked for
 * (classic scripts load from file://, fetch does not). A large report's bulk
 * columns (meta.deferred) come the same way, in data-bulk-<n>.js, after the
 * first view has painted; the completed data is then published as new data.
 */
import {decodePart, mergeBulk} from '../../../src/data/bulk.js';
import {prepareMessageIndex} from '../views/common/message-index.js';
import {bulkFileName, bulkGlobal, chunkFileName, chunkGlobal, type BulkPart, type EventChunk, type ReportData} from '../../../src/data/types.js';
import type {DataSource} from '../view-props.js';

/** Bulk parts loading at once. */
const inFlight = 2;

type Waiter = {resolve(chunk: EventChunk): void; reject(error: Error): void};

function addScript(src: string, onerror: () => void, onload?: () => void): void {
  const script = document.createElement('script');
  script.src = src;
  script.onerror = () => {
    script.remove();
    onerror();
  };
  script.onload = () => {
    script.remove();
    onload?.();
  };
  document.head.appendChild(script);
}

/** Resolves after the browser has painted what is on screen now, and given input a turn. */
function afterPaint(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

export function staticSource(initial: ReportData): DataSource {
  const cache = new Map<number, Promise<EventChunk>>();
  const waiting = new Map<number, Waiter>();
  const listeners = new Set<(data: ReportData) => void>();
  let complete: ReportData | undefined;
  (window as unknown as Record<string, unknown>)[chunkGlobal] = (chunk: EventChunk) => {
    waiting.get(chunk.index)?.resolve(chunk);
    waiting.delete(chunk.index);
  };

  // A few parts at a time: all of them asked for together ran in one task of a second (Chromium ran every script that had
  // come in one go), one at a time left the page idle while each was read.
  let loading = false;
  const loadBulk = () => {
    const deferred = initial.meta.deferred;
    if (loading || !deferred) return;
    loading = true;
    const parts: BulkPart[] = [];
    (window as unknown as Record<string, unknown>)[bulkGlobal] = (part: BulkPart) => {
      // Decoded as each comes, so no one task decodes them all.
      parts.push({index: part.index, block: part.block, column: part.column, encoding: 'plain', values: decodePart(part)});
      if (parts.length < deferred.parts) {
        setTimeout(request, 0);
        return;
      }
      void afterPaint().then(async () => {
        const merged = mergeBulk(initial, parts);
        // The views that need the deliveries would build this index in one long task when they appear.
        await prepareMessageIndex(merged);
        complete = merged;
        listeners.forEach((l) => l(merged));
      });
    };
    let requested = 0;
    const request = () => {
      if (requested >= deferred.parts) return;
      const index = requested++;
      addScript(bulkFileName(index), failed(index));
    };
    void afterPaint().then(() => {
      for (let i = 0; i < inFlight; i++) request();
    });
  };
  // The page keeps its loading notices: say why in the console, where a reader looks.
  const failed = (index: number) => () => console.error(`could not load ${bulkFileName(index)}: the deliveries and the event log stay empty`);

  return {
    live: false,
    chunk(index) {
      let pending = cache.get(index);
      if (!pending) {
        pending = new Promise<EventChunk>((resolve, reject) => {
          waiting.set(index, {resolve, reject});
          const fail = (why: string) => {
            waiting.delete(index);
            cache.delete(index);
            reject(new Error(`${chunkFileName(index)} ${why}`));
          };
          // A classic script runs before its load event: still waiting then, it threw or never called window.peerlabEvents.
          addScript(
            chunkFileName(index),
            () => fail('could not be loaded'),
            () => {
              if (waiting.get(index)?.reject === reject) fail(`loaded but did not deliver chunk ${index} (it threw, or is not an events file)`);
            },
          );
        });
        cache.set(index, pending);
      }
      return pending;
    },
    subscribe(listener: (data: ReportData) => void) {
      listeners.add(listener);
      if (complete) listener(complete);
      else loadBulk();
      return () => listeners.delete(listener);
    },
  };
}
