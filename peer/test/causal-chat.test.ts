/**
 * Causal chat on real processes and sockets: a reply that overtakes its
 * question waits at a third peer until anti-entropy brings the question, and
 * a peer started with `--bug deliver-on-arrival` shows it first instead;
 * `send --reply-to` and its refusals; ids stay unique across a restart.
 */
import test from 'ava';
import {parseWords} from '@peerlab/client-agent';
import {peerEvent} from '@peerlab/events/contract';
import {createRegistry} from '../src/commands.js';
import {reportChat} from '../src/agent-link.js';
import {Logger} from '../src/log.js';
import {Peer as InProcessPeer} from '../src/peer.js';
import {UdpMember} from './helpers/udp-member.js';
import type {PeerProcess} from './helpers/peer-process.js';
import {PeerProcess as Peer, converged, eventually, startGroup, stopAll} from './helpers/peer-process.js';

const serial = test.serial;

interface Delivered {
  id: string;
  sender: string;
  seq: number;
  text: string;
  deps: string[];
  replyTo?: string;
}

interface MessagesResult {
  count: number;
  held: number;
  messages: Delivered[];
}

const sentId = (lines: string[]): string => {
  const match = /^sent (\S+)/.exec(lines[0] ?? '');
  if (!match) throw new Error(`no "sent <id>" in ${JSON.stringify(lines)}`);
  return match[1]!;
};

/**
 * alice asks, bob answers, and carol gets the answer first: alice's packets
 * to carol are cut for the whole test, and carol's to bob until carol has
 * the answer (repair needs carol's digest at bob, so bob cannot send her the
 * question before). Then the question can reach carol only through bob's
 * anti-entropy, for a stream carol has never seen.
 */
async function replyOvertakesQuestion(t: {teardown(fn: () => void): void}, carolArgs: string[]) {
  const names = ['alice', 'bob', 'carol'];
  const peers = await startGroup(names, (name) => (name === 'carol' ? {args: carolArgs} : {}));
  t.teardown(() => stopAll(peers));
  const [alice, bob, carol] = peers as [PeerProcess, PeerProcess, PeerProcess];
  await converged(peers, names, 5000);
  await alice.command('net-cut carol --direction out');
  await carol.command('net-cut bob --direction out');
  const bobFrom = bob.stderr.length;
  const carolFrom = carol.stderr.length;
  const question = sentId(await alice.command('send what time is it?'));
  await bob.waitStderr((l) => l.includes(`delivered ${question} `), bobFrom);
  const reply = await bob.command(`send --reply-to ${question} noon`);
  const answer = sentId(reply);
  return {alice, bob, carol, question, answer, reply, carolFrom};
}

serial('a reply that overtakes its question is held at a third peer until anti-entropy brings the question, then both are delivered in causal order', async (t) => {
  const {carol, question, answer, reply, carolFrom} = await replyOvertakesQuestion(t, []);
  t.is(reply[0], `sent ${answer} in reply to ${question}`);
  const held = await carol.waitStderr((l) => l.includes(`held ${answer} `), carolFrom);
  t.true(held.includes(`waits for ${question}`), held);
  const waiting = await carol.json<MessagesResult>('messages --json');
  t.is(waiting.count, 0, 'the reply is not delivered without its question');
  t.is(waiting.held, 1);
  t.true((await carol.command('messages')).some((l) => /1 held/.test(l)), '`messages` says one waits');

  // Carol's digests reach bob again; alice's packets still do not reach carol.
  await carol.command('net-heal');
  const {value: log} = await eventually('carol delivered both', 10_000, async () => {
    const now = await carol.json<MessagesResult>('messages --json');
    return now.count === 2 ? now : undefined;
  });
  t.deepEqual(log.messages.map((m) => m.id), [question, answer], 'the question first');
  t.is(log.held, 0);
  const delivered = log.messages[1]!;
  t.is(delivered.replyTo, question);
  t.true(delivered.deps.includes(question));
  t.is(carol.stderr.slice(carolFrom).filter((l) => l.includes(' held ')).length, 1, 'held once');
  t.regex((await carol.command('messages'))[1]!, new RegExp(`^\\d\\d:\\d\\d:\\d\\d <bob> \\(re ${question}\\) noon$`));
  t.regex((await carol.command('messages --ids'))[1]!, new RegExp(`^\\d\\d:\\d\\d:\\d\\d \\[${answer}\\] <bob> \\(re ${question}\\) noon$`));
});

serial('a peer with --bug deliver-on-arrival delivers the same overtaking reply before its question and never holds', async (t) => {
  const {carol, question, answer, carolFrom} = await replyOvertakesQuestion(t, ['--bug', 'deliver-on-arrival']);
  await carol.waitStderr((l) => l.includes(`delivered ${answer} `), carolFrom);
  await carol.command('net-heal');
  const {value: log} = await eventually('carol delivered both', 10_000, async () => {
    const now = await carol.json<MessagesResult>('messages --json');
    return now.count === 2 ? now : undefined;
  });
  t.deepEqual(log.messages.map((m) => m.id), [answer, question], 'the reply first: causal order broken');
  t.false(carol.stderr.slice(carolFrom).some((l) => l.includes(' held ')), 'nothing held');
  t.is(log.held, 0);
});

serial('send --reply-to makes the reply depend on a delivered message, and refuses an id not delivered here', async (t) => {
  const names = ['rt1', 'rt2'];
  const peers = await startGroup(names);
  t.teardown(() => stopAll(peers));
  const [a, b] = peers as [PeerProcess, PeerProcess];
  await converged(peers, names, 5000);
  const first = sentId(await a.command('send one'));
  const second = sentId(await a.command('send two'));
  await eventually('rt2 delivered both', 5000, async () => ((await b.json<MessagesResult>('messages --json')).count === 2 ? true : undefined));
  // b's frontier is a's second message (it depends on the first); a reply to the first names both.
  const out = await b.command(`send --reply-to ${first} back to one`);
  const id = sentId(out);
  const {value: atA} = await eventually('rt1 delivered the reply', 5000, async () => {
    const now = await a.json<MessagesResult>('messages --json');
    return now.messages.find((m) => m.id === id);
  });
  t.is(atA.replyTo, first);
  t.deepEqual([...atA.deps].sort(), [first, second].sort());
  const plain = await b.command(`send no reply`);
  const {value: noReply} = await eventually('rt1 delivered the plain one', 5000, async () => (await a.json<MessagesResult>('messages --json')).messages.find((m) => m.id === sentId(plain)));
  t.is(noReply.replyTo, undefined);
  t.deepEqual(noReply.deps, [id], 'without --reply-to: the frontier, its own last message');

  for (const [target, why] of [
    [`rt1:nosuch:1`, /cannot reply to rt1:nosuch:1: no such message was delivered here/],
    [`${first.replace(/:1$/, ':99')}`, /no such message was delivered here/],
    ['not-an-id', /cannot reply to not-an-id/],
  ] as const) {
    const errorsBefore = b.stderr.length;
    const before = (await b.json<MessagesResult>('messages --json')).count;
    t.deepEqual(await b.command(`send --reply-to ${target} hello`), [], `${target}: nothing sent`);
    t.regex(await b.waitStderr((l) => l.startsWith('error: '), errorsBefore), why);
    t.is((await b.json<MessagesResult>('messages --json')).count, before);
  }
});

test('the coordinator parses send --reply-to from a run: line with the specs the peer registers', (t) => {
  const spec = createRegistry().specs().find((c) => c.name === 'send')!;
  t.deepEqual(parseWords(spec, ['--reply-to', 'alice:e:3', 'sure,', 'noon']), {'reply-to': 'alice:e:3', text: 'sure, noon'});
  t.deepEqual(parseWords(spec, ['hello', '--reply-to', 'x']), {text: 'hello --reply-to x'}, 'after the text starts, the rest is text');
});

serial('a peer restarted under the same name never reuses a message id', async (t) => {
  const names = ['re1', 're2'];
  const peers = await startGroup(names);
  t.teardown(() => stopAll(peers));
  const [old, other] = peers as [PeerProcess, PeerProcess];
  await converged(peers, names, 5000);
  const before = [sentId(await old.command('send first life 1')), sentId(await old.command('send first life 2'))];
  await eventually('re2 delivered the first life', 5000, async () => ((await other.json<MessagesResult>('messages --json')).count === 2 ? true : undefined));
  old.kill('SIGKILL');
  await old.exited;
  const reborn = await Peer.start({name: 're1', join: [other.address]});
  peers.push(reborn);
  const after = sentId(await reborn.command('send second life 1'));
  t.false(before.includes(after), `${after} is new`);
  t.regex(after, /^re1:[^:]+:1$/, 'the sequence starts again');
  t.not(after.split(':')[1], before[0]!.split(':')[1], 'under a new epoch');
  const {value: log} = await eventually('re2 delivered the second life', 5000, async () => {
    const now = await other.json<MessagesResult>('messages --json');
    return now.count === 3 ? now : undefined;
  });
  t.deepEqual(log.messages.map((m) => m.id), [...before, after]);
});

serial('the chat events for the agent carry ids, deps and reply_to as the event contract has them, and chat.held comes once per message', async (t) => {
  const peer = await InProcessPeer.start({name: 'ev1', host: '127.0.0.1', port: 0, profile: 'local', join: []}, new Logger('ev1', () => {}));
  t.teardown(() => peer.close());
  const events: Array<{type: string; data: Record<string, unknown>}> = [];
  reportChat(peer.chat, (type, data) => events.push({type, data: data as Record<string, unknown>}));
  const member = await UdpMember.bind(t);
  const chat = (m: object) => member.send(peer.address, {t: 'chat', m: [m]});
  const question = {id: 'yan:e:1', sender: 'yan', epoch: 'e', seq: 1, text: 'when?', sentAt: Date.now(), deps: []};
  const answer = {id: 'zed:e:1', sender: 'zed', epoch: 'e', seq: 1, text: 'noon', sentAt: Date.now(), deps: ['yan:e:1'], replyTo: 'yan:e:1'};
  // The answer twice before its question: held once, the second a duplicate.
  await chat(answer);
  await chat(answer);
  await eventually('the answer held', 5000, async () => (peer.chat.heldCount === 1 && peer.chat.duplicates === 1 ? true : undefined));
  await chat(question);
  await eventually('both delivered', 5000, async () => (peer.chat.messages().length === 2 ? true : undefined));
  const own = peer.chat.send('thanks', {replyTo: 'zed:e:1'});
  t.deepEqual(own.deps, ['zed:e:1'], 'the answer superseded the question in the frontier');

  for (const event of events) t.notThrows(() => peerEvent.parse(event), JSON.stringify(event));
  t.deepEqual(events.map((e) => `${e.type} ${String(e.data.id)}`), ['chat.held zed:e:1', 'chat.delivered yan:e:1', 'chat.delivered zed:e:1', `chat.sent ${own.id}`, `chat.delivered ${own.id}`]);
  t.deepEqual(events[0]!.data, {id: 'zed:e:1', sender: 'zed', seq: 1, deps: ['yan:e:1'], missing: ['yan:e:1']});
  t.deepEqual(events[2]!.data.deps, ['yan:e:1']);
  t.deepEqual(events[3]!.data, {id: own.id, sender: 'ev1', seq: 1, text: 'thanks', deps: ['zed:e:1'], reply_to: 'zed:e:1'});
  t.deepEqual(events[4]!.data.deps, ['zed:e:1']);
});

serial('a message that cannot fit one datagram of the profile fails send with its size and why, before it takes a sequence number; deps grow with concurrent streams', async (t) => {
  const peer = await InProcessPeer.start({name: 'big1', host: '127.0.0.1', port: 0, profile: 'lan', join: []}, new Logger('big1', () => {}));
  t.teardown(() => peer.close());
  const max = peer.membership.config.maxPacketBytes;
  t.is(max, 1400);
  const events: string[] = [];
  reportChat(peer.chat, (type, data) => events.push(`${type} ${(data as {id: string}).id}`));
  const member = await UdpMember.bind(t);
  const streams = async (from: number, to: number) => {
    for (let i = from; i <= to; i++) await member.send(peer.address, {t: 'chat', m: [{id: `s${i}:e:1`, sender: `s${i}`, epoch: 'e', seq: 1, text: 'hi', sentAt: Date.now(), deps: []}]});
    await eventually('all delivered', 5000, async () => (peer.chat.messages().length >= to ? true : undefined));
  };
  const text = 'x'.repeat(1000);
  await streams(1, 10);
  const fits = peer.chat.send(text);
  t.is(fits.deps.length, 10, 'one id per concurrent stream');
  t.true(Buffer.byteLength(JSON.stringify({t: 'chat', m: [fits]})) <= max);

  // Sixty more streams send concurrently: the same text no longer fits beside their ids.
  await streams(11, 70);
  const sent = events.length;
  const error = t.throws(() => peer.chat.send(text))!;
  t.regex(error.message, /^this message would take (\d+) bytes in its datagram, more than the 1400 one packet may carry \(maxPacketBytes, profile lan\): its text takes 1002 and its deps \(61 ids\) \d+; send a shorter text$/);
  t.true(Number(/take (\d+) bytes/.exec(error.message)![1]) > max);
  t.deepEqual(events.slice(sent), [], 'nothing sent, nothing delivered');
  // The text alone can be too long for the profile too, whatever the deps.
  t.throws(() => peer.chat.send('y'.repeat(max)), {message: /more than the 1400 one packet may carry/});

  const short = peer.chat.send('ok');
  t.is(short.seq, 2, 'the refused sends took no sequence number: no gap');
  t.is(short.deps.length, 61);
  t.deepEqual(events.slice(sent), [`chat.sent ${short.id}`, `chat.delivered ${short.id}`]);
});
