/**
 * When the periodic push-pull first runs: at a random point of the base
 * interval, as memberlist's pushPullTrigger staggers it, so that members
 * started together do not all exchange state at the interval's end.
 */
import test from 'ava';
import {firstPushPullDelayMs, profiles} from '../src/config.js';

test('the first push-pull falls at the drawn point of the base interval', (t) => {
  for (const profile of [profiles.local, profiles.lan]) {
    const interval = profile.pushPullIntervalMs;
    t.is(firstPushPullDelayMs(profile, () => 0), 0);
    t.is(firstPushPullDelayMs(profile, () => 0.5), interval / 2);
    t.true(firstPushPullDelayMs(profile, () => 0.999_999) < interval);
  }
});

test('members started together spread their first push-pulls over the whole interval', (t) => {
  const interval = profiles.lan.pushPullIntervalMs;
  const delays = Array.from({length: 400}, () => firstPushPullDelayMs(profiles.lan));
  t.true(delays.every((d) => Number.isInteger(d) && d >= 0 && d < interval));
  // Each quarter of the interval gets some: not held to its end, not bunched at its start.
  for (let q = 0; q < 4; q++) {
    t.true(delays.some((d) => d >= (q * interval) / 4 && d < ((q + 1) * interval) / 4), `quarter ${q + 1}`);
  }
});
