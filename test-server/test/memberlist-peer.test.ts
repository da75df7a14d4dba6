/**
 * The memberlist example peer (examples/memberlist-peer): a Go program on
 * HashiCorp memberlist that speaks the agent protocol itself, built offline
 * from Debian's packages. Shown with the real binary: its agent against the
 * real coordinator (argument errors, snapshot, reconnect, exit codes), the
 * bundled scenarios it can run, and memberlist's refusal of a restarted name
 * at a new address reported as a failed rejoin that names the conflict.
 * Under kernel faults (root and nft): the network-fault scenarios it can run,
 * and a healed partition that stays split without the peer's reconnector.
 *
 * Needs golang-go and golang-github-hashicorp-memberlist-dev. Without them the
 * tests are skipped, except under CI, where they fail with the build's message.
 */
import test from 'ava';
import {execa} from 'execa';
import {execFileSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {readFile, readdir, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {kernelSupport} from '../src/faults/kernel/nft.js';
import {checkPeerProgram} from '../src/peer-program/peer-commands.js';
import {PEER_PROFILES} from '../src/peer-program/profile.js';
import {startCoordinator, tempDir, until} from './support.js';
import {node, peerlab, referenceTiming, root, startedUnder} from './foreign-peer.js';

const source = path.join(root, 'examples', 'memberlist-peer');
const binary = path.join(source, 'bin', 'memberlist-peer');
const buildScript = path.join(root, 'scripts', 'build-memberlist-peer.mjs');

function goInstalled(): boolean {
  try {
    execFileSync('go', ['version'], {stdio: 'ignore', timeout: 30_000});
    return true;
  } catch {
    return false;
  }
}
const gopath = process.env.MEMBERLIST_PEER_GOPATH ?? '/usr/share/gocode';
const ready = goInstalled() && existsSync(path.join(gopath, 'src', 'github.com', 'hashicorp', 'memberlist'));
const serial = ready || process.env.CI ? test.serial : test.serial.skip;
const kernel = kernelSupport();
/** Kernel-fault tests: skipped, with the reason in the title, where nftables cannot be used. */
const kernelSerial = kernel.ok ? serial : (title: string, _fn: unknown) => test.skip(`${title} (skipped: ${kernel.reason})`, () => {});

if (ready || process.env.CI) {
  test.before('build the peer (skipped when up to date)', async (t) => {
    // A cold build compiles memberlist and its dependencies: about a minute on two busy cores.
    t.timeout(900_000, 'go build');
    const build = await execa(node, [buildScript], {reject: false, all: true, timeout: 900_000});
    if (build.exitCode !== 0) throw new Error(`build-memberlist-peer failed (exit ${build.exitCode}):\n${build.all}`);
  });
}

/** Scenario files the peer runs: everything without network faults (it offers no net-* commands). */
const passing = [
  '01-join-and-converge.yaml',
  '02-three-peer-chat.yaml',
  '03-concurrent-broadcast.yaml',
  '04-graceful-leave.yaml',
  '05-late-joiner.yaml',
  '06-kill-detection.yaml',
  '07-crash-detection.yaml',
  '08-short-pause.yaml',
  '09-long-pause.yaml',
  '16-paused-dead-chat.yaml',
].map((f) => path.join(root, 'scenarios', f));

type Line = {t: number; src: string; type: string; data: Record<string, unknown>};

async function histories(out: string): Promise<Line[][]> {
  const runs = await readdir(out, {withFileTypes: true});
  return Promise.all(
    runs
      .filter((d) => d.isDirectory())
      .map(async (d) => {
        const text = await readFile(path.join(out, d.name, 'history.jsonl'), 'utf8');
        return text
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Line);
      }),
  );
}

serial('the build is skipped while the binary is newer than its sources', async (t) => {
  const again = await execa(node, [buildScript], {reject: false, all: true, timeout: 60_000});
  t.is(again.exitCode, 0, again.all);
  t.regex(again.all, /up to date: examples\/memberlist-peer\/bin\/memberlist-peer/);
});

serial('--describe-commands passes the load-time checks, and declares what memberlist lets it report', async (t) => {
  const check = await checkPeerProgram({command: [binary], cwd: root, env: {}, origin: '--peer'});
  if (!check.ok) return t.fail(check.message);
  t.deepEqual(
    check.specs.map((s) => s.name),
    ['status', 'members', 'join', 'leave', 'send', 'messages'],
  );
  // No suspicion-source: memberlist keeps no record of who raised a suspicion or declared a death.
  t.deepEqual(check.capabilities, {events: ['membership', 'chat', 'traffic'], fields: ['incarnation']});
});

serial('under each profile it declares the timing the reference peer has in it: lan and wan are memberlist\'s own defaults', async (t) => {
  for (const profile of PEER_PROFILES) {
    const started = await startedUnder(t, [binary], profile);
    t.is(started.profile, profile);
    t.deepEqual(started.timing, await referenceTiming(profile), profile);
  }
});

serial('its agent registers, checks arguments, answers a snapshot, comes back after a drop, and exits 3 once the coordinator is gone', async (t) => {
  const coordinator = await startCoordinator(t, {token: 'go-token'});
  const dir = await tempDir(t, 'memberlist-peer-');
  const child = execa(binary, ['--name', 'gopher', '--port', '0', '--coordinator', coordinator.url, '--agent-grace', '1500', '--data-dir', dir, '--unknown-flag', 'x'], {
    env: {PEERLAB_TOKEN: 'go-token', PEERLAB_PARENT_PID: String(process.pid)},
    reject: false,
    all: true,
  });
  t.teardown(() => child.kill('SIGKILL'));
  await coordinator.hub.waitForRegistered(['gopher'], 15_000);
  const info = coordinator.hub.get('gopher')!;
  t.is(info.pid, child.pid ?? -1);
  t.regex(info.address, /^127\.0\.0\.1:\d+$/);
  t.deepEqual(info.capabilities, {events: ['membership', 'chat', 'traffic'], fields: ['incarnation']});

  const status = await coordinator.hub.command('gopher', 'status', {json: true});
  if (!status.ok) return t.fail(JSON.stringify(status));
  t.like(status.result as object, {name: 'gopher', state: 'alive', incarnation: 1, profile: 'local', members: 1});
  t.is(status.text, undefined, '--json leaves the text out');

  const refusals: Array<[string, Record<string, unknown> | undefined, string, string]> = [
    ['members', {bogus: 1}, 'bad-arguments', 'members: unknown argument "bogus". Usage: members [--json] [--all]'],
    ['send', {}, 'bad-arguments', 'send: missing <text>. Usage: send <text...>'],
    ['send', {text: 5}, 'bad-arguments', 'send: text must be a string, got 5'],
    ['send', {text: ''}, 'bad-arguments', 'send: text must be a non-empty string, got ""'],
    ['messages', {last: 1.5}, 'bad-arguments', 'messages: last must be an integer, got 1.5'],
    ['members', {all: 'true'}, 'bad-arguments', 'members: all must be true or false, got "true"'],
    ['join', {seeds: ['nothost']}, 'bad-arguments', 'join: "nothost" is not host:port'],
    ['shell', undefined, 'unknown-command', 'unknown command "shell". Type "help" for the list.'],
  ];
  for (const [name, args, code, message] of refusals) {
    const reply = await coordinator.hub.command('gopher', name, args);
    if (reply.ok) return t.fail(`${name} ${JSON.stringify(args)} was accepted`);
    t.deepEqual(reply.error, {code, message}, `${name} ${JSON.stringify(args)}`);
    t.is(typeof reply.seq, 'number');
  }

  const sent = await coordinator.hub.command('gopher', 'send', {text: 'alone here'});
  if (!sent.ok) return t.fail(JSON.stringify(sent));
  const snap = await coordinator.hub.snapshot('gopher');
  if (!snap.ok) return t.fail(JSON.stringify(snap));
  t.is(snap.snapshot.peer, 'gopher');
  t.deepEqual(
    snap.snapshot.members.map((m) => [m.name, m.state, m.incarnation]),
    [['gopher', 'alive', 1]],
  );
  t.deepEqual(snap.snapshot.messages, {count: 1, ids: [(sent.result as {id: string}).id]});

  // Dropped by the server: it says hello again, and nothing it recorded is lost or repeated.
  t.true(coordinator.hub.disconnect('gopher'));
  await until(() => coordinator.hub.isConnected('gopher') && (coordinator.hub.get('gopher')?.registrations ?? 0) >= 2, 10_000, 'a second registration');
  const after = await coordinator.hub.command('gopher', 'send', {text: 'after the drop'});
  if (!after.ok || after.seq === undefined) return t.fail(JSON.stringify(after));
  const replySeq = after.seq;
  await until(() => (coordinator.hub.get('gopher')?.lastSeq ?? 0) >= replySeq, 5000, 'events up to the reply');
  t.is(coordinator.hub.get('gopher')!.lastSeq, after.seq);

  const closedAt = Date.now();
  await coordinator.close();
  const exit = await child;
  t.is(exit.exitCode, 3, exit.all);
  t.true(Date.now() - closedAt >= 1400, 'not before its grace period');
  t.regex(exit.all, /exiting: coordinator unreachable for 1500 ms/);
});

serial('a refused token ends it at once with exit 3, and a parent that is not its own with exit 4', async (t) => {
  const coordinator = await startCoordinator(t, {token: 'right'});
  const args = ['--name', 'gopher', '--coordinator', coordinator.url, '--agent-grace', '60000'];
  const refused = await execa(binary, args, {env: {PEERLAB_TOKEN: 'wrong'}, reject: false, all: true, timeout: 20_000});
  t.is(refused.exitCode, 3, refused.all);
  t.regex(refused.all, /refused the run token: unauthorized/);
  // PID 1 is not this test's child's parent: the watch takes it for a parent that died.
  const orphan = await execa(binary, args, {env: {PEERLAB_TOKEN: 'right', PEERLAB_PARENT_PID: '1'}, reject: false, all: true, timeout: 20_000});
  t.is(orphan.exitCode, 4, orphan.all);
  t.regex(orphan.all, /exiting: parent 1 is gone/);
});

serial('with --host every socket of its protocol is on that address: UDP and TCP listeners, and the TCP connections it opens', async (t) => {
  const coordinator = await startCoordinator(t, {token: 'host-token'});
  const start = (name: string, host: string, extra: string[] = []) => {
    const child = execa(binary, ['--name', name, '--host', host, '--port', '0', '--coordinator', coordinator.url, ...extra], {
      env: {PEERLAB_TOKEN: 'host-token', PEERLAB_PARENT_PID: String(process.pid)},
      reject: false,
    });
    t.teardown(() => child.kill('SIGKILL'));
    return child;
  };
  start('h21', '127.0.0.21');
  await coordinator.hub.waitForRegistered(['h21'], 15_000);
  const seed = coordinator.hub.get('h21')!.address;
  t.regex(seed, /^127\.0\.0\.21:\d+$/);
  start('h22', '127.0.0.22');
  await coordinator.hub.waitForRegistered(['h22'], 15_000);
  t.regex(coordinator.hub.get('h22')!.address, /^127\.0\.0\.22:\d+$/);
  const joined = await coordinator.hub.command('h22', 'join', {seeds: [seed]});
  if (!joined.ok) return t.fail(JSON.stringify(joined));
  const sockets = () => execFileSync('ss', ['-Htanu'], {encoding: 'utf8'});
  const port = seed.split(':')[1]!;
  t.regex(sockets(), new RegExp(`udp\\s+UNCONN\\s+\\d+\\s+\\d+\\s+127\\.0\\.0\\.21:${port}\\s`));
  t.regex(sockets(), new RegExp(`tcp\\s+LISTEN\\s+\\d+\\s+\\d+\\s+127\\.0\\.0\\.21:${port}\\s`));
  // The join's push-pull went out from h22's own address, not from 127.0.0.1.
  const outgoing = new RegExp(`\\s127\\.0\\.0\\.22:\\d+\\s+127\\.0\\.0\\.21:${port}\\s|\\s127\\.0\\.0\\.21:${port}\\s+127\\.0\\.0\\.22:\\d+\\s`);
  await until(() => outgoing.test(sockets()), 5000, 'a TCP connection between 127.0.0.22 and 127.0.0.21');
  t.notRegex(sockets(), new RegExp(`127\\.0\\.0\\.1:\\d+\\s+127\\.0\\.0\\.21:${port}\\s`));
});

serial('the bundled scenarios without network faults pass on memberlist (but for the restart)', async (t) => {
  t.timeout(300_000, 'eleven scenarios');
  const out = await tempDir(t, 'memberlist-runs-');
  const run = await peerlab(['run', '--out', out, '--peer', binary, '--filter', '/^(?!a restarted)(?!.*07-crash-detection)|^a crashed/', ...passing], root, 300_000);
  t.is(run.exitCode, 0, run.all);
  t.regex(run.all, /\n11 passed, 0 failed, 0 unknown/);
  // The steps' kills (06 and 07) are SIGKILLs; every other exit follows a SIGTERM, a graceful leave: code 0.
  const exits = (await histories(out)).flat().filter((e) => e.type === 'peer.exit');
  const killed = exits.filter((e) => e.data.signal === 'SIGKILL');
  t.is(killed.length, 2);
  t.true(exits.length >= 11 * 3);
  t.deepEqual([...new Set(exits.filter((e) => !killed.includes(e)).map((e) => e.data.code))], [0]);
  // What its transport sent, every second: datagrams and TCP both, counted from 0 in each process.
  const counters = (await histories(out)).flat().filter((e) => e.type === 'net.counters');
  t.true(counters.length > 0);
  t.true(counters.some((e) => (e.data.udpOut as number) > 0 && (e.data.udpOutBytes as number) > 0 && (e.data.tcpOut as number) > 0 && (e.data.tcpOutBytes as number) > 0));
});

serial('a restarted peer is refused by memberlist (a dead name at a new address), and the verdict says so', async (t) => {
  const out = await tempDir(t, 'memberlist-restart-');
  const scenario = path.join(root, 'scenarios', '07-crash-detection.yaml');
  const run = await peerlab(['run', '--out', out, '--peer', binary, '--filter', 'restarted', scenario], root, 120_000);
  t.is(run.exitCode, 1, run.all);
  t.regex(run.all, /\n0 passed, 1 failed, 0 unknown/);
  t.regex(
    run.all,
    /await charly rejoined within 5x model: not within \d+ ms \(5x the model's \d+ ms at N=4\): \w+ has charly dead at incarnation 1, not alive above incarnation 1 \(charly restarted at [\d:.]+\)(?: \(and [\w, ]+\))?; \w+ said \(memberlist\.conflict\): memberlist refused charly at 127\.0\.0\.1:\d+: it holds charly dead at 127\.0\.0\.1:\d+ \(incarnation 1\), and gives a name to a new address only once it left, or was dead longer than DeadNodeReclaimTime \(0s\)/,
  );
  const conflicts = (await histories(out)).flat().filter((e) => e.type === 'memberlist.conflict');
  t.true(conflicts.length > 0);
  t.like(conflicts[0]!.data, {name: 'charly', state: 'dead', incarnation: 1});
});

serial('with --reclaim-dead memberlist takes the restarted name back, and the rejoin passes', async (t) => {
  const out = await tempDir(t, 'memberlist-reclaim-');
  const scenario = path.join(root, 'scenarios', '07-crash-detection.yaml');
  const run = await peerlab(['run', '--out', out, '--peer', `${binary} --reclaim-dead 1ms`, '--filter', 'restarted', scenario], root, 120_000);
  t.regex(run.all, /✔ 6 await charly rejoined within 5x model \(\d+ ms\) rejoin_ms=\d+ incarnation=2 incarnation_before=1/);
  t.regex(run.all, /✔ 7 await converged/);
  // memberlist takes the new address at the restarted process's own incarnation (1, as the old
  // one's), so a death of the old process still in flight can strike the new one once, until it
  // refutes. no-false-dead reports that when it happens; nothing else may fail.
  if (run.exitCode !== 0) t.regex(run.all, /✘ [^\n]*: failed[\s\S]*invariant no-false-dead: \w+ declared charly dead/);
  t.notRegex(run.all, /✘ \d/);
});

/** The network-fault scenarios whose faults the kernel backend makes: partitions, cuts, loss. */
const kernelPassing = ['10-partition-heal.yaml', '11-asymmetric-cut.yaml', '12-loss-chat.yaml', '14-partition-chat.yaml'].map((f) => path.join(root, 'scenarios', f));

kernelSerial('under kernel faults the partition, cut and loss scenarios pass, healed partitions merging through its reconnector', async (t) => {
  t.timeout(240_000, 'five scenarios');
  const out = await tempDir(t, 'memberlist-kernel-');
  const run = await peerlab(['run', '--faults', 'kernel', '--out', out, '--peer', binary, ...kernelPassing], root, 240_000);
  t.regex(run.all, /\n\d passed, \d failed, 0 unknown/);
  t.notRegex(run.all, /✘ \d/, 'every step passes');
  t.is(run.all.match(/✔ 6 await converged within 20s \(/g)?.length, 2, 'the heals of 10');
  t.regex(run.all, /✔ 11 await converged within 20s \(/, 'the heal of 14');
  // A death declared in the partition's last moments is still being gossiped (memberlist gossips
  // to members dead for less than GossipToTheDeadTime) when the heal comes: it reaches the dead
  // member's own side, which takes it as news, until the member refutes. no-false-dead reports
  // that when it happens; nothing else may fail.
  if (run.exitCode !== 0) {
    const failures = run.all.match(/✘ [^\n]*/g) ?? [];
    for (const f of failures) t.regex(f, /^✘ (?:invariant no-false-dead — \w+ declared \w+ dead at [\d:.]+ while \w+ was live and reachable|.*: failed \(\d)/, f);
    t.regex(run.all, /✘ invariant no-false-dead — /);
  }
  // Each process says what reconnects it runs: the local profile's every second, for a minute.
  const started = (await histories(out)).flat().filter((e) => e.type === 'peer.started');
  t.true(started.length >= 5 * 4);
  for (const e of started) t.like(e.data.timing as object, {reconnectIntervalMs: 1000, reconnectTimeoutMs: 60_000});
});

kernelSerial('scenarios that need delay or causal chat are refused at load time under kernel faults, each refusal located', async (t) => {
  const scenarios = ['15-lossy-delay-chat.yaml', '17-causal-delay.yaml', '18-causal-one-way-cut.yaml', '19-causal-partition.yaml'].map((f) => path.join('scenarios', f));
  const out = await tempDir(t, 'memberlist-refused-');
  const run = await peerlab(['run', '--faults', 'kernel', '--out', out, '--peer', binary, ...scenarios], root, 60_000);
  t.is(run.exitCode, 2, run.all);
  t.regex(run.all, /\n5 problems in the scenarios; nothing was run\./);
  t.regex(run.all, /scenarios\/15-lossy-delay-chat\.yaml:\d+:\d+: steps\[\d+\]\.delay: delay is not available with kernel faults/);
  t.regex(run.all, /scenarios\/17-causal-delay\.yaml:\d+:\d+: steps\[\d+\]\.delay: delay is not available with kernel faults/);
  for (const f of ['17-causal-delay', '18-causal-one-way-cut', '19-causal-partition']) {
    t.regex(run.all, new RegExp(`scenarios/${f}\\.yaml:\\d+:\\d+: invariants\\[0\\]: the causal invariant needs a peer that reports causal-chat`));
  }
  t.deepEqual(await readdir(out).catch(() => []), [], 'no run began');
});

/**
 * A partition that outlasts GossipToTheDeadTime (15 s in local): every peer
 * forgets the other side's members before the heal. memberlist contacts only
 * the members in its table, so from then on nothing crosses: without the
 * reconnector the heal cannot merge, however long one waits.
 */
const outlasting = `name: a partition outlasts the reaping of the dead, then heals
peers: [alice, bob, charly, dave]
timeout: 120s
steps:
  - start: all
  - await: converged
    within: 5x model
  - partition: [[alice, bob], [charly, dave]]
  - await: converged
    within: 15s
  - sleep: 17s
  - heal: all
  - await: converged
    within: 10s
`;

/** Every peer reaped every member of the other side before the heal: the premise of the scenario. */
function reapedBeforeHeal(t: {true: (v: boolean, m?: string) => void}, lines: Line[]) {
  const heal = lines.find((e) => e.type === 'fault' && e.data.kind === 'heal');
  if (!heal) return t.true(false, 'no heal in the history');
  const sides = [['alice', 'bob'], ['charly', 'dave']] as const;
  for (const [mine, theirs] of [sides, [sides[1], sides[0]]] as const) {
    for (const peer of mine) {
      for (const other of theirs) {
        const reaped = lines.some((e) => e.src === `peer:${peer}` && e.type === 'member.reaped' && e.data.name === other && e.t < heal.t);
        t.true(reaped, `${peer} forgot ${other} before the heal`);
      }
    }
  }
}

kernelSerial('a healed partition whose dead were reaped merges through the reconnector, and never with --no-reconnect', async (t) => {
  t.timeout(180_000, 'two runs of a 20 s partition');
  const dir = await tempDir(t, 'memberlist-reaped-');
  const file = path.join(dir, 'outlasting.yaml');
  await writeFile(file, outlasting);

  const withOut = path.join(dir, 'with');
  const merged = await peerlab(['run', '--faults', 'kernel', '--out', withOut, '--peer', binary, file], root, 90_000);
  t.is(merged.exitCode, 0, merged.all);
  t.regex(merged.all, /✔ 7 await converged within 10s \(/);
  reapedBeforeHeal(t, (await histories(withOut)).flat());

  const withoutOut = path.join(dir, 'without');
  const split = await peerlab(['run', '--faults', 'kernel', '--out', withoutOut, '--peer', `${binary} --no-reconnect`, file], root, 90_000);
  t.is(split.exitCode, 1, split.all);
  t.regex(split.all, /✘ 7 await converged within 10s \(10\.0 s\)[^\n]* — not within 10000 ms: \w+ sees \[\w+, \w+\] but the live set is \[alice, bob, charly, dave\]: lacks /);
  const lines = (await histories(withoutOut)).flat();
  reapedBeforeHeal(t, lines);
  for (const e of lines.filter((l) => l.type === 'peer.started')) t.like(e.data.timing as object, {reconnectIntervalMs: 0, reconnectTimeoutMs: 0});
});
