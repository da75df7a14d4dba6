/**
 * Commands that reach the peer through its agent, as the coordinator (and its
 * tokenless loopback REST API) sends them: a script that runs itself stops
 * with a clear error, and the file commands reach only the peer's own folder
 * (`--data-dir`), or nothing without one. The CLI keeps full access.
 */
import test from 'ava';
import {mkdir, mkdtemp, readFile, rm, symlink, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {FakeCoordinator} from './helpers/fake-coordinator.js';
import {PeerProcess, stopAll} from './helpers/peer-process.js';

async function tempDir(t: {teardown(fn: () => Promise<void>): void}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-agent-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  return dir;
}

async function agentPeer(t: {teardown(fn: () => unknown): void}, name: string, extra: string[] = []) {
  const coordinator = await FakeCoordinator.start();
  t.teardown(() => coordinator.close());
  const peer = await PeerProcess.start({name, args: ['--coordinator', coordinator.url, ...extra], env: {PEERLAB_TOKEN: coordinator.token}});
  t.teardown(() => stopAll([peer]));
  await coordinator.registered(name);
  return {coordinator, peer};
}

function errorOf(reply: {ok: boolean; error?: {message: string}}): string {
  return reply.ok ? '(no error: the command succeeded)' : reply.error!.message;
}

/** CPU seconds the process has used, from /proc (Linux). */
async function cpuSeconds(pid: number): Promise<number> {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

test.serial('a script that runs itself over the agent stops at the depth limit and the peer stays healthy', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'loop.peer'), 'run loop.peer\n');
  // Ten lines that each run the file: depth alone would allow 10^8 runs; the command budget stops it.
  await writeFile(path.join(dir, 'fan.peer'), 'run fan.peer\n'.repeat(10));
  const {coordinator, peer} = await agentPeer(t, 'agent1', ['--data-dir', dir]);
  const loop = await coordinator.command('agent1', 'run', {file: 'loop.peer'});
  t.false(loop.ok);
  t.regex(errorOf(loop), /scripts nested more than 8 deep/);
  const fan = await coordinator.command('agent1', 'run', {file: 'fan.peer'}, 20_000);
  t.false(fan.ok);
  t.regex(errorOf(fan), /scripts nested more than 8 deep|ran more than 10000 commands/);
  // Healthy: it answers, and it is not still spinning on the script after the reply.
  const before = await cpuSeconds(peer.pid);
  const status = await coordinator.command('agent1', 'status');
  t.true(status.ok);
  await new Promise((r) => setTimeout(r, 1000));
  const spent = (await cpuSeconds(peer.pid)) - before;
  t.true(spent < 0.5, `the peer used ${spent} CPU-seconds in the second after the script failed`);
  t.true(peer.alive);
});

test.serial('without --data-dir the agent may not read or write any file', async (t) => {
  const {coordinator, peer} = await agentPeer(t, 'agent2');
  for (const [command, args] of [
    ['run', {file: '/etc/passwd'}],
    ['load-config', {file: '/etc/passwd'}],
    ['save-config', {file: 'x.json'}],
  ] as const) {
    const reply = await coordinator.command('agent2', command, args);
    t.false(reply.ok, command);
    t.regex(errorOf(reply), /not offered over the agent/, command);
  }
  t.true((await coordinator.command('agent2', 'status')).ok);
  t.true(peer.alive);
});

test.serial('with --data-dir the agent reaches only files inside it', async (t) => {
  const root = await tempDir(t);
  const data = path.join(root, 'data');
  const outside = path.join(root, 'outside');
  await mkdir(outside);
  await writeFile(path.join(outside, 'secret.peer'), 'echo secret\n');
  const {coordinator} = await agentPeer(t, 'agent3', ['--data-dir', data]);
  await writeFile(path.join(data, 'ok.peer'), 'echo inside\n');
  await symlink(path.join(outside, 'secret.peer'), path.join(data, 'link.peer'));
  await symlink(outside, path.join(data, 'out'));
  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    ['run', {file: '/etc/passwd'}, /absolute paths are not allowed/],
    ['run', {file: '../outside/secret.peer'}, /".." is not allowed/],
    ['run', {file: 'link.peer'}, /leads out of the data folder/],
    ['run', {file: 'out/secret.peer'}, /leads out of the data folder/],
    ['load-config', {file: '/etc/shadow'}, /absolute paths are not allowed/],
    ['save-config', {file: '../evil.json'}, /".." is not allowed/],
    ['save-config', {file: path.join(outside, 'evil.json')}, /absolute paths are not allowed/],
    ['save-config', {file: 'out/evil.json'}, /leads out of the data folder/],
    ['save-config', {file: 'link.peer'}, /is a symlink/],
  ];
  for (const [command, args, expected] of refused) {
    const reply = await coordinator.command('agent3', command, args);
    t.false(reply.ok, `${command} ${JSON.stringify(args)}`);
    t.regex(errorOf(reply), expected, `${command} ${JSON.stringify(args)}`);
  }
  await t.throwsAsync(readFile(path.join(root, 'evil.json')));
  await t.throwsAsync(readFile(path.join(outside, 'evil.json')));
  t.is(await readFile(path.join(outside, 'secret.peer'), 'utf8'), 'echo secret\n');
  // Control: inside the folder, all three work.
  const ran = await coordinator.command('agent3', 'run', {file: 'ok.peer'});
  t.true(ran.ok, errorOf(ran));
  const saved = await coordinator.command('agent3', 'save-config', {file: 'peer.json'});
  t.true(saved.ok, errorOf(saved));
  t.like(JSON.parse(await readFile(path.join(data, 'peer.json'), 'utf8')), {name: 'agent3'});
  const loaded = await coordinator.command('agent3', 'load-config', {file: 'peer.json'});
  t.true(loaded.ok, errorOf(loaded));
});

test.serial('the CLI keeps full file access, and its nesting limit too', async (t) => {
  const root = await tempDir(t);
  const elsewhere = path.join(root, 'elsewhere');
  await mkdir(elsewhere);
  await writeFile(path.join(elsewhere, 'hello.peer'), 'echo from anywhere\n');
  await writeFile(path.join(elsewhere, 'loop.peer'), `run ${path.join(elsewhere, 'loop.peer')}\n`);
  const peer = await PeerProcess.start({name: 'cli-files'});
  t.teardown(() => stopAll([peer]));
  t.deepEqual(await peer.command(`run ${path.join(elsewhere, 'hello.peer')}`), ['from anywhere', 'ran 1 commands']);
  t.regex((await peer.command(`save-config ${path.join(elsewhere, 'saved.json')}`))[0]!, /saved to/);
  t.like(JSON.parse(await readFile(path.join(elsewhere, 'saved.json'), 'utf8')), {name: 'cli-files'});
  const errorsBefore = peer.stderr.length;
  t.deepEqual(await peer.command(`run ${path.join(elsewhere, 'loop.peer')}`), []);
  t.regex(await peer.waitStderr((l) => l.startsWith('error: '), errorsBefore), /scripts nested more than 8 deep/);
  t.true(peer.alive);
});
