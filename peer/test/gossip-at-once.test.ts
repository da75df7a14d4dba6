/**
 * When news goes out: the first news after a quiet spell is gossiped at once,
 * except a leaver's own `left`, which the leaver sends to every member itself;
 * a member resending it at once only competes, on a loaded machine, with the
 * members still taking it in (at N = 100 on two cores the last view recorded a
 * leave 59-63 ms after it, median of ten, against 38-44 ms without the
 * resends). Real sockets in this process; the gossip interval is a minute, so
 * anything that arrives was sent at once, not at a tick.
 */
import test from 'ava';
import {EventEmitter} from 'node:events';
import {profiles} from '../src/config.js';
import {Logger} from '../src/log.js';
import {Gossip} from '../src/membership/gossip.js';
import {MemberTable} from '../src/membership/member-table.js';
import type {Update} from '../src/membership/messages.js';
import {Awareness} from '../src/membership/awareness.js';
import {Transport} from '../src/membership/transport.js';
import {correctPolicy} from '../src/policy.js';
import {UdpMember} from './helpers/udp-member.js';

const config = {...profiles.local, gossipIntervalMs: 60_000};

/** A gossip queue of `me` over a real socket, with bob (a bare socket) the only other member, and what bob's socket gets. */
async function setup(t: {teardown(fn: () => Promise<void> | void): void}) {
  const log = new Logger('me', () => {});
  const transport = await Transport.open('127.0.0.1', 0, {maxBytes: 1 << 20, maxInbound: 32, readDeadlineMs: config.tcpTimeoutMs});
  const bob = await UdpMember.bind(t);
  const table = new MemberTable({name: 'me', address: transport.address, config, log, events: new EventEmitter()});
  table.applyDatagram([{k: 'alive', n: 'bob', i: 0, a: bob.address}], 'bob');
  const gossip = new Gossip({name: 'me', config, policy: correctPolicy, transport, table, log, run: {active: () => true, generation: () => 0}, awareness: new Awareness(1)});
  t.teardown(async () => {
    gossip.stop();
    await transport.close();
  });
  /** Everything this socket sent bob so far has arrived once a marker sent after it has: loopback keeps their order. */
  const barrier = async (): Promise<number> => {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    transport.sendUdp({host: '127.0.0.1', port: bob.port}, {t: 'ack', s: 7, f: 'me'});
    return bob.until((d) => d.t === 'ack' && d.s === 7, 5000);
  };
  return {gossip, bob, barrier};
}

const gossipOf = (bob: UdpMember, before: number) => bob.received.slice(0, before).filter((d) => d.t === 'gossip');
const left: Update = {k: 'left', n: 'ann', i: 0};

test('the first news after a quiet spell is gossiped at once', async (t) => {
  const {gossip, bob, barrier} = await setup(t);
  gossip.queue(left);
  const marker = await barrier();
  t.deepEqual(gossipOf(bob, marker).map((d) => d.u), [[['l', 'ann', 0]]]);
});

test('news queued not at once waits for the tick, and holds later news with it', async (t) => {
  const {gossip, bob, barrier} = await setup(t);
  gossip.queue(left, false);
  gossip.queue({k: 'suspect', n: 'carl', i: 0, f: 'me'});
  const marker = await barrier();
  t.deepEqual(gossipOf(bob, marker), [], 'nothing before the tick');
});
