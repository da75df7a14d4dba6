/**
 * When the periodic push-pull first runs: at a random point of the base
 * interval, as memberlist's pushPullTrigger staggers it, so that members
 * started together do not all exchange state at the interval's end; and for a
 * newcomer, once its view has been quiet for settledAfterMs after its join.
 */
import test from 'ava';
import {firstPushPullDelayMs, profiles, retransmitLimit, settledAfterMs} from '../src/config.js';
import {PeerProcess, eventually} from './helpers/peer-process.js';

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

test('a newcomer waits two spells of gossip of quiet: the rounds in which one holder sends a piece of news its limit of times', (t) => {
  // lan at 1,000 members: 16 sends, 3 a round, 6 rounds of 200 ms a spell.
  t.is(retransmitLimit(profiles.lan, 1000), 16);
  t.is(settledAfterMs(profiles.lan, 1000), 2 * 6 * 200);
  t.is(settledAfterMs(profiles.local, 10), 2 * 3 * 50);
  t.true(settledAfterMs(profiles.lan, 10) < settledAfterMs(profiles.lan, 1000), 'longer in a larger group, whose news is sent more often');
});

test('a newcomer exchanges state again once its view is quiet, not at a point of the 30 s interval', async (t) => {
  // lan: the first periodic exchange falls anywhere in 30 s; the newcomer's comes within two spells of quiet (under 2 s for three members).
  const lan = ['--profile', 'lan'];
  const peers: PeerProcess[] = [];
  try {
    const alice = await PeerProcess.start({name: 'alice', args: lan});
    peers.push(alice);
    peers.push(await PeerProcess.start({name: 'bob', join: [alice.address], args: lan}));
    // Bob in alice's view first, so carol's answer has both and nothing reaches her later to keep her view changing.
    await eventually('bob joined', 10_000, async () => ((await alice.members()).members.some((m) => m.name === 'bob') ? true : undefined));
    const carol = await PeerProcess.start({name: 'carol', join: [alice.address], args: lan});
    peers.push(carol);
    const tcpOut = async () => ((await carol.json('status --json')) as {traffic: {tcpOut: number}}).traffic.tcpOut;
    await eventually('carol sees both', 10_000, async () => ((await carol.members()).members.length === 3 ? true : undefined));
    // Without the pull forward, a fifth of newcomers would make it by chance (6 s of the 30 s interval).
    await eventually('a second exchange within 6 s', 6000, async () => ((await tcpOut()) >= 2 ? true : undefined));
    t.pass();
  } finally {
    for (const p of peers) p.kill('SIGKILL');
    await Promise.all(peers.map((p) => p.exited));
  }
});
