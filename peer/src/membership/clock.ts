/**
 * Time as the membership state machine sees it: the current time and one-shot
 * timers. Injected, so the state machine (suspicion timeouts, reaping, the
 * `since` of every record) can be driven by a clock a test advances by hand,
 * without processes, sockets or waiting.
 */

/** Whatever the clock's setTimeout returned; only handed back to its clearTimeout. */
export type TimerHandle = unknown;

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout | undefined),
};
