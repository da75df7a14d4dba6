/**
 * Capabilities, not assumptions: a peer program declares what it reports
 * (in its --describe-commands answer and its hello), a scenario that needs
 * more fails before any peer starts, located, with exit 2, and a check whose
 * input a peer never declared is unknown with the reason, never a pass.
 * Shown with real processes: the reference peer limited by --capabilities,
 * behind the exec-peer.sh shell script, and a script whose description lacks
 * the net-* commands.
 */
import test from 'ava';
import {access, readFile, readdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {NO_CAPABILITIES, ProtocolError, parseDescription, parseHello} from '@peerlab/client-agent/protocol';
import type {ScenarioResult} from '../src/engine/results.js';
import {defaultPeerBin} from '../src/peer-program/reference.js';
import {checkPeerProgram} from '../src/peer-program/peer-commands.js';
import {tempDir} from './support.js';
import {describes, execPeer, fixtures, node, peerlab, root} from './foreign-peer.js';


/** The reference peer behind a shell script, declaring (and reporting) only `capabilities`. */
function limitedPeer(capabilities: string): string {
  return [execPeer, 'limited', node, defaultPeerBin(), '--capabilities', capabilities].join(' ');
}

async function absent(file: string): Promise<boolean> {
  return access(file).then(() => false, () => true);
}

async function onlyResult(out: string): Promise<ScenarioResult> {
  const [runId] = (await readdir(out)).filter((f) => !f.endsWith('.json') && !f.endsWith('.xml'));
  return JSON.parse(await readFile(path.join(out, runId!, 'result.json'), 'utf8')) as ScenarioResult;
}

test('a description is {commands, capabilities} or, as before, a plain list that declares nothing', (t) => {
  const ping = {name: 'ping', group: 'test', summary: 'answers pong', args: []};
  t.deepEqual(parseDescription([ping]), {commands: [ping], capabilities: NO_CAPABILITIES});
  t.deepEqual(parseDescription({commands: [ping], capabilities: {events: ['chat', 'chat']}}), {commands: [ping], capabilities: {events: ['chat'], fields: []}});
  t.throws(() => parseDescription({commands: [], capabilities: {events: ['gossip']}}), {instanceOf: ProtocolError, message: /^description\.capabilities\.events\[0\]: expected one of membership, chat, causal-chat, traffic, got "gossip"/});
  t.throws(() => parseDescription({commands: [], capabilities: {timing: {}}}), {message: /^description\.capabilities\.timing: expected no such key/});
  t.throws(() => parseDescription({commands: [], extra: 1}), {message: /^description\.extra: expected no such key/});
  const hello = {protocol: 1, peer: 'alice', pid: 1, version: '1', address: '127.0.0.1:1', commands: []};
  t.notThrows(() => parseHello(hello), 'a hello without capabilities is still valid');
  t.throws(() => parseHello({...hello, capabilities: {fields: ['colour']}}), {message: /^hello\.capabilities\.fields\[0\]: expected one of incarnation, suspicion-source/});
});

test('the reference peer declares everything it reports; --capabilities declares less', async (t) => {
  const program = (extra: string[]) => ({command: [node, defaultPeerBin(), ...extra], cwd: root, env: {}, origin: 'test'});
  const full = await checkPeerProgram(program([]));
  t.like(full, {ok: true, capabilities: {events: ['membership', 'chat', 'causal-chat', 'traffic'], fields: ['incarnation', 'suspicion-source']}});
  const limited = await checkPeerProgram(program(['--capabilities', 'membership']));
  t.like(limited, {ok: true, capabilities: {events: ['membership'], fields: []}});
  const bad = await checkPeerProgram({command: [describes, 'bad-capability'], cwd: fixtures, env: {}, origin: 'test'});
  t.like(bad, {ok: false});
  t.regex((bad as {message: string}).message, /printed a description that is not valid: description\.capabilities\.events\[1\]: expected one of .*, got "gossip"/);
});

test('a scenario that needs what its peer program does not declare exits 2, located, before any peer starts', async (t) => {
  const dir = await tempDir(t, 'peerlab-caps-load-');
  const out = path.join(dir, 'runs');
  const scenario = path.join(dir, 'chat.yaml');
  await writeFile(scenario, 'name: chat on a membership-only peer\npeers: [alice, bob]\ninvariants: [causal]\nsteps:\n  - start: all\n  - await: delivered\n    within: 10s\n');
  const chat = await peerlab(['run', scenario, '--out', out, '--peer', limitedPeer('membership,incarnation')], dir);
  t.is(chat.exitCode, 2, chat.all);
  t.regex(chat.all, new RegExp(`^${scenario}:6:12: steps\\[1\\]\\.await: await delivered needs a peer that reports chat; the peer program \\(.*exec-peer\\.sh limited .* --capabilities membership,incarnation\\) declares membership, incarnation$`, 'm'));
  t.regex(chat.all, new RegExp(`^${scenario}:3:14: invariants\\[0\\]: the causal invariant needs a peer that reports causal-chat;`, 'm'));
  t.regex(chat.all, /2 problems in the scenarios; nothing was run/);

  const net = path.join(dir, 'net.yaml');
  await writeFile(net, `name: a partition without net-* commands\npeers: [alice, bob]\nsteps:\n  - start: all\n  - partition: [[alice], [bob]]\n  - loss: {rate: 10%}\n  - heal: all\n`);
  // --faults peer: with root and nft, auto would make these faults in the kernel instead (kernel-faults.test.ts).
  const partition = await peerlab(['run', net, '--out', out, '--peer', `${describes} no-net`, '--faults', 'peer'], dir);
  t.is(partition.exitCode, 2, partition.all);
  t.regex(partition.all, new RegExp(`^${net}:5:16: steps\\[1\\]\\.partition: partition is made with the peers' net-cut and net-heal commands; the peer program \\(.*describes\\.sh no-net\\) does not offer net-cut or net-heal$`, 'm'));
  t.regex(partition.all, new RegExp(`^${net}:6:11: steps\\[2\\]\\.loss: loss is made with the peers' net-loss and net-heal commands;`, 'm'));
  t.regex(partition.all, new RegExp(`^${net}:7:11: steps\\[3\\]\\.heal: heal is made with the peers' net-heal commands;`, 'm'));
  t.true(await absent(out), 'no run folder: no peer started');
});

test.serial('an invariant a peer cannot feed is unknown with the reason; the reference peer\'s is judged', async (t) => {
  t.timeout(120_000);
  const dir = await tempDir(t, 'peerlab-caps-run-');
  const scenario = path.join(dir, 'converge.yaml');
  await writeFile(scenario, 'name: converge\npeers: [alice, bob]\nsteps:\n  - start: all\n  - await: converged\n    within: 10s\n');

  const limited = await peerlab(['run', scenario, '--out', path.join(dir, 'limited'), '--peer', limitedPeer('membership')], dir);
  t.is(limited.exitCode, 3, limited.all);
  const unjudged = await onlyResult(path.join(dir, 'limited'));
  t.like(unjudged.steps[1], {status: 'pass'});
  t.like(unjudged.invariants.find((i) => i.name === 'membership-legality'), {status: 'unknown', message: 'not judged: no peer declares incarnation (in the capabilities of its hello)'});

  const reference = await peerlab(['run', scenario, '--out', path.join(dir, 'reference')], dir);
  t.is(reference.exitCode, 0, reference.all);
  t.like((await onlyResult(path.join(dir, 'reference'))).invariants.find((i) => i.name === 'membership-legality'), {status: 'pass'});
});
