/**
 * The processes the bench spawns, bundled into one file so they start like
 * a peer does. MODE=baseline is the floor: a bare socket.io client that says
 * hello, echoes, and floods raw event batches, with no protocol or checks.
 * MODE=agent is peerlab's own client agent doing the same through its
 * registry and event batching.
 */
import {io} from 'socket.io-client';
import {Agent, Registry} from '@peerlab/client-agent';
import type {PeerEventData} from '@peerlab/client-agent';

const {MODE = 'baseline', URL = '', TOKEN = '', NAME = 'bench'} = process.env;

/** A member.alive as the event contract has it (the hub checks every one; `previous` was missing). */
function floodData(i: number): PeerEventData<'member.alive'> {
  return {name: `member-${i % 50}`, incarnation: i, address: '127.0.0.1:40000', previous: 'suspect'};
}

if (MODE === 'baseline') {
  const socket = io(URL, {transports: ['websocket'], auth: {token: TOKEN}});
  socket.on('connect', () => socket.emit('hello', {peer: NAME, pid: process.pid}));
  socket.on('echo', (payload: unknown, ack: (p: unknown) => void) => ack(payload));
  socket.on('flood', async (spec: {count: number; batch: number}, ack: (p: unknown) => void) => {
    let seq = 0;
    while (seq < spec.count) {
      const events = [];
      for (let i = 0; i < spec.batch && seq < spec.count; i++) events.push({seq: ++seq, time: Date.now(), type: 'member.alive', data: floodData(seq)});
      await socket.emitWithAck('events', {peer: NAME, events});
    }
    ack({sent: seq});
  });
} else {
  const registry = new Registry<null>();
  let agent: Agent<null>;
  registry.add({name: 'echo', group: 'bench', summary: 'echo', args: [{name: 'text', type: 'string', rest: true, description: 'text'}], run: (args) => ({text: args.text})});
  registry.add({
    name: 'flood',
    group: 'bench',
    summary: 'emit events',
    args: [{name: 'count', type: 'integer', required: true, description: 'how many'}],
    run: async (args) => {
      const count = args.count as number;
      // Emit in slices so the agent's flushes interleave, as a busy peer's would.
      for (let i = 1; i <= count; i++) {
        agent.emit('member.alive', floodData(i));
        if (i % 5000 === 0) await new Promise((r) => setImmediate(r));
      }
      return {emitted: count};
    },
  });
  agent = new Agent<null>({
    url: URL,
    token: TOKEN,
    name: NAME,
    version: 'bench',
    address: '127.0.0.1:1',
    registry,
    context: null,
    snapshot: () => ({peer: NAME, time: Date.now(), members: [], messages: {count: 0, ids: []}}),
    graceMs: 5000,
    onGiveUp: () => process.exit(3),
  });
  void agent.start();
}

// The bench kills these processes; they never outlive it either.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(4);
}, 250).unref();
setInterval(() => {}, 1 << 30);
