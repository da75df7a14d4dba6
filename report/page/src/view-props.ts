/**
 * What every view of the page receives: the data, the one time cursor and
 * the one brushed window that link the views, and where the event log's
 * text comes from. Times are ms since `data.meta.t0`.
 */
import type {EventChunk, ReportData} from '../../src/data/types.js';

export interface TimeWindow {
  from: number;
  to: number;
}

export interface ViewProps {
  data: ReportData;
  /** The time cursor: the instant the matrix shows, the line every chart draws. */
  cursor: number;
  /** The brushed window every time axis shows. */
  window: TimeWindow;
  setCursor(t: number): void;
  setWindow(w: TimeWindow): void;
  /** The message the sequence diagram and delivery matrix single out (index into data.messages.sent), or undefined. */
  selectedMessage: number | undefined;
  selectMessage(index: number | undefined): void;
  source: DataSource;
}

/** Where the data comes from: the static report's scripts, or the live view's socket. */
export interface DataSource {
  readonly live: boolean;
  /** The events of one chunk of the log (cached). */
  chunk(index: number): Promise<EventChunk>;
  /** New data as it arrives (live), or once the static report's deferred columns have loaded (meta.deferred); returns an unsubscribe function. */
  subscribe(listener: (data: ReportData) => void): () => void;
}
