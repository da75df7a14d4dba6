/**
 * Kernel faults for real: nftables rules made by `peerlab run --faults
 * kernel`, as root, with the nft binary. A partition is detected and healed;
 * the run's table is gone after a normal end, after SIGTERM, and after a
 * SIGKILL of the coordinator (its janitor); a stale table is reaped; the
 * refusals (no root, a delay step) come before any peer starts. Skipped, with
 * the reason, where kernel faults cannot run.
 */
import anyTest from 'ava';
import type {TestFn} from 'ava';
import {execa} from 'execa';
import {spawnSync} from 'node:child_process';
import {chmod, readFile, readdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {kernelSupport} from '../src/faults/kernel/nft.js';
import {bin, describes, node, peerlab, root} from './foreign-peer.js';
import {pidsAlive, tempDir, until} from './support.js';

const support = kernelSupport();
const nft = support.ok ? support.nft : 'nft';
const test = anyTest as TestFn;
/** Where these tests cannot run: the reason, shown as the test's title. */
const kernelTest = support.ok ? test.serial : (title: string, _fn: unknown) => test.skip(`${title} (skipped: ${support.reason})`, () => {});

const fixture = path.join(root, 'test-server', 'test', 'fixtures', 'scenarios', 'kernel-partition.yaml');

async function peerlabTables(): Promise<string[]> {
  const {stdout} = await execa(nft, ['list', 'tables']);
  return stdout.split('\n').map((l) => /^table inet (peerlab_\S+)$/.exec(l.trim())?.[1]).filter((n): n is string => n !== undefined);
}

/** The tables of the coordinator with this pid. */
async function tablesOf(pid: number): Promise<string[]> {
  return (await peerlabTables()).filter((n) => n.startsWith(`peerlab_${pid}_`));
}

async function history(out: string): Promise<Array<{type: string; src: string; data: Record<string, unknown>}>> {
  const [run] = (await readdir(out)).filter((d) => !d.endsWith('.json') && !d.endsWith('.xml'));
  const text = await readFile(path.join(out, run!, 'history.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as {type: string; src: string; data: Record<string, unknown>});
}

/** A scenario that partitions, then sleeps in the partition: the coordinator is stopped there. */
const sleeper = `name: stopped inside a partition
peers: [alice, bob, carol]
timeout: 120s
steps:
  - start: all
  - await: converged
    within: 20s
  - partition: [[alice], [bob, carol]]
  - sleep: 100s
`;

/** Runs the sleeper, waits for its partition to be in the kernel, and gives back the coordinator and its peers. */
async function partitioned(dir: string) {
  const file = path.join(dir, 'sleeper.yaml');
  await writeFile(file, sleeper);
  const out = path.join(dir, 'runs');
  const child = execa(node, [bin, 'run', file, '--out', out, '--faults', 'kernel'], {cwd: dir, reject: false, all: true});
  const pid = child.pid!;
  const [table] = await until(async () => {
    const tables = await tablesOf(pid);
    if (tables.length === 0) return undefined;
    const {stdout} = await execa(nft, ['list', 'table', 'inet', tables[0]!]);
    return stdout.includes('drop') ? tables : undefined;
  }, 60_000, 'the partition\'s rules in the kernel').catch(async (error: unknown) => {
    child.kill('SIGKILL');
    throw new Error(`${(error as Error).message}; nft has: ${(await execa(nft, ['list', 'ruleset'])).stdout}; output: ${(await child).all}`);
  });
  const peers = (await history(out)).filter((e) => e.type === 'peer.spawn').map((e) => e.data.pid as number);
  return {child, pid, table: table!, peers};
}

kernelTest('a partition made in the kernel is detected and healed; the run\'s table goes with it, and a stale one is reaped', async (t) => {
  t.timeout(180_000);
  const dir = await tempDir(t, 'peerlab-kernel-');
  // A table left by a coordinator that is gone (this finished process's pid).
  const gone = (await execa(node, ['-e', 'process.stdout.write(String(process.pid))'])).stdout;
  const stale = `peerlab_${gone}_1_b200`;
  await execa(nft, ['-f', '-'], {input: `table inet ${stale} {\n}\n`});
  const out = path.join(dir, 'runs');
  const run = execa(node, [bin, 'run', fixture, '--out', out, '--faults', 'kernel'], {cwd: dir, reject: false, all: true, timeout: 150_000});
  const result = await run;
  t.is(result.exitCode, 0, result.all);
  t.regex(result.all ?? '', /run \S+ \[kernel faults\]/, 'the list reporter says which backend');
  t.false((await peerlabTables()).includes(stale), 'the stale table was reaped');
  t.deepEqual(await tablesOf(run.pid!), [], 'no table of this run is left');
  const events = await history(out);
  t.like(events.find((e) => e.type === 'run.begin')?.data, {faults: 'kernel'});
  const addresses = events.filter((e) => e.type === 'peer.started').map((e) => String(e.data.address).split(':')[0]);
  t.is(new Set(addresses).size, 3, `each peer on its own address: ${addresses.join(', ')}`);
  for (const address of addresses) t.regex(address!, /^127\.\d+\.\d+\.\d+$/), t.not(address, '127.0.0.1');
  t.deepEqual(events.filter((e) => e.type === 'fault').map((e) => e.data.kind), ['partition', 'heal'], 'recorded as the peer backend records them');
  t.false(events.some((e) => e.type === 'command.send' && String(e.data.name).startsWith('net-')), 'no net-* command was sent');
});

kernelTest('two Python peers, which cannot cut their own links, are partitioned in the kernel (faults: auto): each declares the other dead, and the heal merges them', async (t) => {
  t.timeout(180_000);
  const dir = await tempDir(t, 'peerlab-kernel-python-');
  const out = path.join(dir, 'runs');
  const pythonPeer = `/usr/bin/python3 ${path.join(root, 'peer-python', 'bin', 'peerlab-python-peer')}`;
  // No --faults: auto picks the kernel because the Python peer offers no net-* commands.
  const run = execa(node, [bin, 'run', path.join(root, 'test-server', 'test', 'fixtures', 'scenarios', 'kernel-partition-2.yaml'), '--out', out, '--peer', pythonPeer], {cwd: dir, reject: false, all: true, timeout: 150_000});
  const result = await run;
  t.is(result.exitCode, 0, result.all);
  t.regex(result.all ?? '', /\[kernel faults\]/);
  t.deepEqual(await tablesOf(run.pid!), [], 'no table of this run is left');
  const events = await history(out);
  t.like(events.find((e) => e.type === 'run.begin')?.data, {faults: 'kernel'});
  // Detected by the peers themselves: each reported the other dead while the rules were in force.
  const partitionAt = events.findIndex((e) => e.type === 'fault' && e.data.kind === 'partition');
  const healAt = events.findIndex((e) => e.type === 'fault' && e.data.kind === 'heal');
  const deaths = events.slice(partitionAt, healAt).filter((e) => e.type === 'member.dead').map((e) => `${e.src} ${String(e.data.name)}`);
  t.true(deaths.includes('peer:alice bob') && deaths.includes('peer:bob alice'), `deaths between partition and heal: ${deaths.join(', ')}`);
  const rejoins = events.slice(healAt).filter((e) => e.type === 'member.alive' || e.type === 'member.joined').map((e) => `${e.src} ${String(e.data.name)}`);
  t.true(rejoins.includes('peer:alice bob') && rejoins.includes('peer:bob alice'), `after the heal: ${rejoins.join(', ')}`);
});

kernelTest('SIGKILL of the coordinator inside a partition: its janitor deletes the table, and no peer is left', async (t) => {
  t.timeout(120_000);
  const dir = await tempDir(t, 'peerlab-kernel-kill-');
  const {child, pid, peers} = await partitioned(dir);
  t.is(peers.length, 3);
  process.kill(pid, 'SIGKILL');
  await child;
  await until(async () => (await tablesOf(pid)).length === 0, 15_000, 'the table deleted after the coordinator died');
  t.deepEqual(await pidsAlive(peers, 20_000), [], 'every peer gone');
  t.pass();
});

kernelTest('SIGTERM of the coordinator inside a partition: the table is gone by the time it has exited', async (t) => {
  t.timeout(120_000);
  const dir = await tempDir(t, 'peerlab-kernel-term-');
  const {child, pid, peers} = await partitioned(dir);
  process.kill(pid, 'SIGTERM');
  const result = await child;
  t.is(result.exitCode, 143, result.all);
  t.deepEqual(await tablesOf(pid), [], 'deleted on the way out, not left to the janitor');
  t.deepEqual(await pidsAlive(peers, 20_000), []);
});

kernelTest('a delay step with kernel faults is refused at load time, located, exit 2, before any peer starts', async (t) => {
  const dir = await tempDir(t, 'peerlab-kernel-delay-');
  const file = path.join(dir, 'delay.yaml');
  await writeFile(file, 'name: delay in the kernel\npeers: [alice, bob]\nsteps:\n  - start: all\n  - delay: {ms: 50}\n');
  const result = await peerlab(['run', file, '--out', path.join(dir, 'runs'), '--faults', 'kernel'], dir);
  t.is(result.exitCode, 2, result.all);
  t.regex(result.all ?? '', new RegExp(`^${file}:5:12: steps\\[1\\]\\.delay: delay is not available with kernel faults`, 'm'));
  t.regex(result.all ?? '', /nothing was run/);
  const shared = path.join(dir, 'shared.yaml');
  await writeFile(shared, 'name: peer host\npeers: [alice, bob]\nfaults: kernel\npeers_per_process: 2\nsteps:\n  - start: all\n  - partition: [[alice], [bob]]\n');
  const refused = await peerlab(['run', shared, '--out', path.join(dir, 'runs')], dir);
  t.is(refused.exitCode, 2, refused.all);
  t.regex(refused.all ?? '', new RegExp(`^${shared}:4:20: peers_per_process: kernel faults tell peers apart by their addresses`, 'm'));
});

/** setpriv drops to nobody, where the system has it. */
const setpriv = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']).status === 0;
const asNobody = support.ok && setpriv ? test.serial : (title: string, _fn: unknown) => test.skip(`${title} (skipped: ${support.ok ? 'no setpriv to drop root' : support.reason})`, () => {});

asNobody('without root: --faults kernel, a scenario\'s faults: kernel and auto without net-* commands are refused, exit 2', async (t) => {
  const dir = await tempDir(t, 'peerlab-kernel-nobody-');
  await chmod(dir, 0o755);
  const nobody = (args: string[]) => execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', node, bin, ...args], {cwd: dir, reject: false, all: true, timeout: 60_000});
  const flag = await nobody(['run', fixture, '--out', path.join(dir, 'runs'), '--faults', 'kernel']);
  t.is(flag.exitCode, 2, flag.all);
  t.regex(flag.all ?? '', /^peerlab run: --faults kernel: kernel faults need root to change nftables rules \(running as uid 65534\)$/m);
  const own = path.join(dir, 'own.yaml');
  await writeFile(own, 'name: asks for the kernel\npeers: [alice, bob]\nfaults: kernel\nsteps:\n  - start: all\n');
  const key = await nobody(['run', own, '--out', path.join(dir, 'runs')]);
  t.is(key.exitCode, 2, key.all);
  t.regex(key.all ?? '', new RegExp(`^${own}:3:9: faults: kernel faults need root`, 'm'));
  const auto = await nobody(['run', fixture, '--out', path.join(dir, 'runs'), '--peer', `${describes} no-net`]);
  t.is(auto.exitCode, 2, auto.all);
  t.regex(auto.all ?? '', new RegExp(`^${fixture}:11:16: steps\\[2\\]\\.partition: partition is made with the peers' net-cut and net-heal commands; .* does not offer net-cut or net-heal, and kernel faults \\(nftables\\) cannot stand in: kernel faults need root`, 'm'));
});

test('--faults takes peer, kernel or auto', async (t) => {
  const dir = await tempDir(t, 'peerlab-kernel-flag-');
  const result = await peerlab(['run', fixture, '--out', path.join(dir, 'runs'), '--faults', 'iptables'], dir);
  t.is(result.exitCode, 2, result.all);
  t.regex(result.all ?? '', /--faults <mode>' argument 'iptables' is invalid\. expected one of peer, kernel, auto/);
});
