/**
 * The state that links the views: the time cursor, the brushed window, the
 * selected message and the selected log row. One store, so a change made in
 * one view (or by the URL's hash) shows in all of them.
 */
import type {TimeWindow} from './view-props.js';

export interface PageState {
  cursor: number;
  window: TimeWindow;
  selectedMessage: number | undefined;
  /** The log row singled out (#event-<i>), or undefined. */
  selectedEvent: number | undefined;
}

export class Store {
  private listeners = new Set<(state: PageState) => void>();
  constructor(public state: PageState) {}

  set(change: Partial<PageState>): void {
    const next = {...this.state, ...change};
    if (next.window.to <= next.window.from) next.window = {from: next.window.from, to: next.window.from + 1};
    this.state = next;
    this.listeners.forEach((l) => l(next));
  }

  subscribe(listener: (state: PageState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
