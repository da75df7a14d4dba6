/**
 * The harness's SWIM model (@peerlab/checkers/swim-model) against the peer's
 * own derived bounds, on the timing the peer binary prints: the bench's
 * baselines come from the model, so they must be the figures the peer's
 * config computes, for every profile and group size the bench uses.
 */
import test from 'ava';
import {execa} from 'execa';
import {failureDetectionBoundMs as peerBound, profiles, suspicionMaxMs as peerMax, suspicionMinMs as peerMin} from '@peerlab/peer';
import {failureDetectionBoundMs, parseSwimTiming, suspicionMaxMs, suspicionMinMs} from '@peerlab/checkers/swim-model';
import {defaultPeerBin} from '../src/peer-program/reference.js';
import {PEER_PROFILES} from '../src/peer-program/profile.js';

test('the model agrees with the peer on the timing it prints', async (t) => {
  for (const name of PEER_PROFILES) {
    const {stdout} = await execa(process.execPath, [defaultPeerBin(), '--print-profile', name]);
    const timing = parseSwimTiming(JSON.parse(stdout), name);
    for (const n of [1, 2, 3, 10, 20, 50, 100, 300, 1000]) {
      t.is(suspicionMinMs(timing, n), peerMin(profiles[name], n), `${name} N=${n} suspicion min`);
      t.is(suspicionMaxMs(timing, n), peerMax(profiles[name], n), `${name} N=${n} suspicion max`);
      t.is(failureDetectionBoundMs(timing, n), peerBound(profiles[name], n), `${name} N=${n} detection bound`);
    }
  }
});

test('a timing record from outside is checked before the model uses it', (t) => {
  t.throws(() => parseSwimTiming(null, 'peer'), {message: /^peer: expected an object/});
  t.throws(() => parseSwimTiming({...profiles.local, probeIntervalMs: '150'}, 'peer'), {message: /^peer\.probeIntervalMs: expected a positive number, got "150"/});
  t.throws(() => parseSwimTiming({...profiles.local, gossipNodes: 0}, 'peer'), {message: /gossipNodes/});
});
