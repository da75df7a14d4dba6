/**
 * Lifeguard's suspicion timer: it starts at `max` and shrinks towards `min`
 * as independent members confirm the suspicion, so a member many agree is
 * gone is declared dead sooner, while a lone slow prober cannot kill it fast.
 */
import type {Clock, TimerHandle} from './clock.js';

export class Suspicion {
  readonly #confirmations = new Set<string>();
  readonly #start: number;
  #timer: TimerHandle;

  constructor(
    from: string,
    private readonly expected: number,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly onTimeout: () => void,
    private readonly clock: Clock,
  ) {
    this.#confirmations.add(from);
    this.#start = clock.now();
    this.#timer = clock.setTimeout(onTimeout, this.#timeoutMs());
  }

  /** Records a confirmation from another member; returns true if it was new. */
  confirm(from: string): boolean {
    if (this.#confirmations.has(from)) return false;
    this.#confirmations.add(from);
    this.clock.clearTimeout(this.#timer);
    const remaining = this.#timeoutMs() - (this.clock.now() - this.#start);
    this.#timer = this.clock.setTimeout(this.onTimeout, Math.max(0, remaining));
    return true;
  }

  get confirmations(): number {
    return this.#confirmations.size - 1;
  }

  cancel(): void {
    this.clock.clearTimeout(this.#timer);
  }

  #timeoutMs(): number {
    if (this.expected < 1) return this.minMs;
    const c = Math.min(this.confirmations, this.expected);
    const fraction = Math.log(c + 1) / Math.log(this.expected + 1);
    return Math.max(this.minMs, Math.floor(this.maxMs - fraction * (this.maxMs - this.minMs)));
  }
}
