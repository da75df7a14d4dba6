import test from 'ava';
import {table, tableRow} from '../src/table.js';

const figure = {name: 'spawn-to-registered, N=10 (local)', value: 597.53, unit: 'ms', baseline: 539.15, ratio: 1.11, target: '<= 1.3x bare socket.io hello', met: true};

test('a measured figure is its value, baseline and ratio', (t) => {
  t.is(tableRow(figure), '| spawn-to-registered, N=10 (local) | 597.53 ms | 539.15 | 1.11x | <= 1.3x bare socket.io hello | met |');
});

test('a figure with nothing measured, or nothing to divide by, shows dashes, never NaN or Infinity', (t) => {
  const never = tableRow({...figure, name: 'time to converged, 2,000 peers', value: Number.NaN, unit: 's', baseline: 78.19, ratio: Number.NaN, met: false});
  t.is(never, '| time to converged, 2,000 peers | — | 78.19 | — | <= 1.3x bare socket.io hello | missed |');
  const passFail = tableRow({...figure, name: 'scale scenario', value: 96.06, unit: 's', baseline: 0, ratio: Number.POSITIVE_INFINITY, target: 'passes', met: false});
  t.is(passFail, '| scale scenario | 96.06 s | — | — | passes | missed |');
  // A real baseline of 0 with a finite ratio (0 false deaths against 0) stays a number.
  t.regex(tableRow({...figure, value: 0, baseline: 0, ratio: 1}), /\| 0 ms \| 0 \| 1x \|/);
  t.notRegex(table([figure, {...figure, value: Number.NaN, ratio: Number.NaN}]), /NaN|Infinity|undefined|null/);
});
