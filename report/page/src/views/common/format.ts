/** How the views write times and counts, so every label reads the same. */

import {formatTime} from '../../draw/time.js';

/** A relative time as a point on the run, written as the rest of the page writes it ("12.345s", "1:05.1"). */
export function fmtAt(ms: number): string {
  return formatTime(ms);
}

/** A duration: "812 ms", "4.21 s". */
export function fmtDur(ms: number): string {
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
  if (Math.abs(ms) < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

export function fmtCount(n: number): string {
  // toLocaleString is slow enough to show when scrubbing.
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** "1 arrow", "2 arrows". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${fmtCount(n)} ${n === 1 ? word : many}`;
}
