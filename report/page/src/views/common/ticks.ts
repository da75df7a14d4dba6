/** Round tick positions for a time span, in ms: steps of 1, 2 or 5 times a power of ten. */
export function timeTicks(from: number, to: number, maxTicks: number): {step: number; ticks: number[]} {
  const span = Math.max(1, to - from);
  const raw = span / Math.max(1, maxTicks);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const ticks: number[] = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push(t);
  return {step, ticks};
}

/** A tick's label, with as many decimals as the step needs. */
export function tickLabel(t: number, step: number): string {
  if (step >= 1000) return `${+(t / 1000).toFixed(step >= 10_000 ? 0 : 1)} s`;
  if (step >= 1) return `${+(t / 1000).toFixed(3)} s`;
  return `${t.toFixed(1)} ms`;
}
