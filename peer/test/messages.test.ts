/**
 * What the decoder accepts is what the byte caps are sized from: a push-pull
 * member entry it takes must never serialise beyond MAX_MEMBER_ENTRY_BYTES,
 * or forged members could push a peer's full state past every other peer's
 * push-pull cap (config.ts, maxPushPullBytes).
 */
import test from 'ava';
import fc from 'fast-check';
import {MAX_INCARNATION, MAX_MEMBER_ENTRY_BYTES, MalformedMessage, decodePushPull, decodeUdp} from '../src/membership/messages.js';

const request = (a: string) => ({t: 'push-pull', f: 'mallory', a: '127.0.0.1:1', join: false, members: [{n: 'm'.repeat(64), a, s: 'suspect', i: MAX_INCARNATION}]});
const ping = (a: string) => Buffer.from(JSON.stringify({t: 'ping', s: 1, f: 'mallory', to: 'x', a}));

test('an address with characters JSON escapes is malformed', (t) => {
  for (const a of [`${'"'.repeat(290)}:1`, `${'\\'.repeat(290)}:1`, 'host"x:1', 'ho\\st:1', 'a b:1', 'host\u0007:1']) {
    t.throws(() => decodePushPull(request(a)), {instanceOf: MalformedMessage}, a);
    t.throws(() => decodeUdp(ping(a)), {instanceOf: MalformedMessage}, a);
  }
});

test('host:port addresses are accepted: names, IPv4, IPv6 in brackets, with a zone', (t) => {
  for (const a of ['127.0.0.1:9', 'peer-1.example_lab.org:7946', '[::1]:9', '::1:9', '[fe80::1%eth0]:9', `${'a'.repeat(294)}:65535`]) {
    t.notThrows(() => decodePushPull(request(a)), a);
    t.notThrows(() => decodeUdp(ping(a)), a);
  }
  t.throws(() => decodePushPull(request(`${'a'.repeat(295)}:65535`)), {instanceOf: MalformedMessage}, 'the length bound stays');
});

test('every member entry the decoder accepts serialises within MAX_MEMBER_ENTRY_BYTES', (t) => {
  const ascii = fc.integer({min: 0x00, max: 0x7f}).map((c) => String.fromCharCode(c));
  const visible = fc.integer({min: 0x21, max: 0x7e}).map((c) => String.fromCharCode(c));
  // Long ones most of all: an entry can only outgrow the bound near the length limit.
  const host = fc.oneof(fc.string({unit: ascii, minLength: 1, maxLength: 40}), fc.string({unit: visible, minLength: 280, maxLength: 294}));
  const address = fc.tuple(host, fc.integer({min: 0, max: 65_535})).map(([h, p]) => `${h}:${p}`);
  fc.assert(
    fc.property(address, (a) => {
      const body = request(a);
      let accepted = true;
      try {
        decodePushPull(body);
      } catch {
        accepted = false;
      }
      return !accepted || Buffer.byteLength(JSON.stringify(body.members[0])) + 1 <= MAX_MEMBER_ENTRY_BYTES;
    }),
    {numRuns: 2000},
  );
  // The worst case the property stands for: an address at its longest, all of it accepted characters.
  const longest = request(`${'['.repeat(294)}:65535`);
  t.notThrows(() => decodePushPull(longest));
  t.true(Buffer.byteLength(JSON.stringify(longest.members[0])) + 1 <= MAX_MEMBER_ENTRY_BYTES);
});

test('updates travel as tuples and decode to the same updates as the object form, which is still taken', async (t) => {
  const {toWire} = await import('../src/membership/messages.js');
  const updates = [
    {k: 'alive', n: 'peer-123', i: 0, a: '127.0.0.1:40000'},
    {k: 'suspect', n: 'bob', i: 7, f: 'carol'},
    {k: 'dead', n: 'bob', i: 8, f: 'dave'},
    {k: 'left', n: 'erin', i: MAX_INCARNATION},
  ] as const;
  const wire = updates.map((u) => toWire(u));
  t.deepEqual(wire[0], ['a', 'peer-123', 0, '127.0.0.1:40000']);
  const gossip = (u: unknown[]) => decodeUdp(Buffer.from(JSON.stringify({t: 'gossip', f: 'x', u})));
  t.deepEqual(gossip(wire), {t: 'gossip', f: 'x', u: updates});
  t.deepEqual(gossip([...updates]), {t: 'gossip', f: 'x', u: updates});
  t.true(JSON.stringify(wire[0]).length < JSON.stringify(updates[0]).length * 0.7, 'about a third shorter');
  for (const bad of [['x', 'bob', 1], ['a', 'bob', 1], ['l', 'bob', 1, 'extra'], ['s', 'bob', -1, 'carol'], ['a', 'bad name', 1, '127.0.0.1:1'], ['d', 'bob', 1, 7], []]) {
    t.throws(() => gossip([bad]), {instanceOf: MalformedMessage}, JSON.stringify(bad));
  }
});

test("an ack's member count is optional, and when said a whole number", (t) => {
  const ack = (extra: object) => Buffer.from(JSON.stringify({t: 'ack', s: 1, f: 'mallory', ...extra}));
  t.is((decodeUdp(ack({})) as {c?: number}).c, undefined);
  t.is((decodeUdp(ack({c: 1000})) as {c?: number}).c, 1000);
  for (const c of [-1, 1.5, '3', null, 2 ** 60]) t.throws(() => decodeUdp(ack({c})), {instanceOf: MalformedMessage}, `c=${String(c)}`);
});
