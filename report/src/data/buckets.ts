/** Time buckets for rates and percentiles over a run. */

const niceSteps = [1, 2, 5];

/** A round bucket width (1, 2, 5, 10, 20, 50 … ms) that cuts `end` ms into at most `max` buckets. */
export function bucketWidth(end: number, max = 500): number {
  const want = Math.max(1, end / max);
  for (let scale = 1; ; scale *= 10) for (const s of niceSteps) if (s * scale >= want) return s * scale;
}
