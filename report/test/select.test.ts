import test from 'ava';
import {percentileOfSorted} from '@peerlab/checkers/stats';
import {kthSmallest} from '../src/data/select.js';

test('selection finds what sorting would put at each rank, with many equal values too', (t) => {
  let seed = 7;
  const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (const [n, distinct] of [[1, 1], [2, 2], [10, 3], [1000, 1000], [1000, 2], [5000, 1]] as const) {
    const values = Float64Array.from({length: n}, () => Math.floor(random() * distinct));
    const sorted = values.slice().sort();
    for (const k of [0, Math.floor(n / 2), n - 1, Math.floor(n * 0.99)]) t.is(kthSmallest(values.slice(), k), sorted[k]!, `n=${n} k=${k}`);
    for (const p of [50, 99]) {
      const rank = Math.min(n - 1, Math.max(0, Math.ceil((p / 100) * n) - 1));
      t.is(kthSmallest(values.slice(), rank), percentileOfSorted(sorted, p), `the checkers' p${p} at n=${n}`);
    }
  }
  t.throws(() => kthSmallest(new Float64Array(3), 3), {instanceOf: RangeError});
});
