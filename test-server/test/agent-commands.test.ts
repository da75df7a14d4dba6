/**
 * Commands that reach a real peer through its agent, sent by the real
 * coordinator (its hub, and its tokenless loopback REST API): a script that
 * runs itself stops at the depth limit and a tree of scripts at the command
 * budget, each with a clear error; a script the coordinator gave up on
 * (deadline passed, connection cut) stops running; and the file commands
 * reach only the folder the fleet gives each peer, or nothing for a peer
 * started without one; and the shell, which only the peer's own prompt has,
 * is neither offered nor run, by name or in a script. (The prompt's full file
 * access and its shell are tested in peer/.)
 */
import test from 'ava';
import type {ExecutionContext} from 'ava';
import {readFile, symlink, writeFile} from 'node:fs/promises';
import path from 'node:path';
import {execa} from 'execa';
import type {CommandReply, PeerEvent} from '@peerlab/client-agent/protocol';
import type {Coordinator} from '../src/coordinator.js';
import {defaultPeerBin} from '../src/peer-program/reference.js';
import {call, isAlive, startCoordinator, tempDir, until} from './support.js';

function errorOf(reply: CommandReply): string {
  return reply.ok ? '(no error: the command succeeded)' : reply.error.message;
}

/** Every event each peer has streamed, in arrival order. */
function eventLog(coordinator: Coordinator): Map<string, PeerEvent[]> {
  const log = new Map<string, PeerEvent[]>();
  coordinator.hub.on('events', (name, events) => log.set(name, [...(log.get(name) ?? []), ...events]));
  return log;
}

/** CPU seconds the process has used, from /proc (Linux). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Resolves once the process has used less than `maxSeconds` of CPU over a
 * whole `windowMs`; throws if it never goes that quiet before the deadline.
 */
async function goesQuiet(pid: number, timeoutMs = 8000, windowMs = 500, maxSeconds = 0.15): Promise<void> {
  const samples: Array<{at: number; cpu: number}> = [];
  await until(
    async () => {
      const now = {at: Date.now(), cpu: await cpuSeconds(pid)};
      samples.push(now);
      const start = samples.findLast((s) => now.at - s.at >= windowMs);
      return start !== undefined && now.cpu - start.cpu < maxSeconds;
    },
    timeoutMs,
    `pid ${pid} using less than ${maxSeconds} CPU-seconds per ${windowMs} ms`,
  );
}

/**
 * Waits for the agent's word that the command `id`, given up on, has ended;
 * then, past a barrier on the peer's event stream, returns how many messages
 * its scripts sent in all, checking none was sent after that word.
 */
async function stoppedAfterLate(t: ExecutionContext, coordinator: Coordinator, events: Map<string, PeerEvent[]>, name: string, id: string) {
  const late = await until(() => events.get(name)?.find((e) => e.type === 'command.late' && e.data.id === id), 10_000, `${name} reports the end of ${id}`);
  const status = await coordinator.hub.command(name, 'status', {json: true});
  if (!status.ok) throw new Error(`status: ${status.error.message}`);
  t.true(await coordinator.hub.waitForSeq(name, status.seq!, 5000), 'the events up to the status reply arrive');
  const sent = (events.get(name) ?? []).filter((e) => e.type === 'chat.sent');
  t.deepEqual(sent.filter((e) => e.seq > late.seq), [], 'no line ran after the script ended');
  // The peer's own count agrees with its event stream: nothing ran unseen.
  t.is((status.result as {messages: number}).messages, sent.length);
  return {late: late.data as {id: string; name: string; ms: number; ok: boolean; error?: string}, lateEvent: late, sent: sent.length};
}

/**
 * How many messages a script sent after the agent's deadline, by the peer's own clock: the
 * command started `ms` (the late event's) before the late event, and its deadline was
 * `timeoutMs` after that start. Counted in lines, not milliseconds: a loaded machine slows the
 * script and its stop alike, so the count stays small there too, while a script that ran on
 * regardless would add thousands. (The clocks are read a moment apart: this can miss a message
 * sent within a millisecond of the deadline, never count one too many.)
 */
function sentAfterDeadline(events: PeerEvent[], late: PeerEvent, timeoutMs: number): number {
  const deadline = late.time - (late.data.ms as number) + timeoutMs;
  return events.filter((e) => e.type === 'chat.sent' && e.seq < late.seq && e.time > deadline).length;
}

/** A peer started by hand, without --data-dir, that registers with the coordinator as any agent would. */
async function peerWithoutFolder(t: ExecutionContext, coordinator: Coordinator, name: string) {
  const child = execa(process.execPath, [defaultPeerBin(), '--name', name, '--port', '0', '--coordinator', coordinator.url, '--agent-grace', '2000'], {
    env: {PEERLAB_TOKEN: coordinator.token},
    reject: false,
  });
  t.teardown(async () => {
    child.kill('SIGKILL');
    await child;
  });
  await coordinator.hub.waitForRegistered([name], 15_000);
  // Wrapped: returned bare from an async function, the process (a promise too) would be awaited to its end.
  return {pid: child.pid!};
}

/**
 * Eight distinct scripts `<prefix>1.peer` .. `<prefix>8.peer`, each running the next `fanout`
 * times and the last `fanout` echoes: fanout + fanout^2 + ... + fanout^8 lines in all, and the
 * deepest at depth 8, inside the nesting limit. (A script that runs itself cannot get there: its
 * first line already nests to depth 9, which fails the whole tree.)
 */
async function chainOfScripts(dir: string, prefix: string, fanout: number): Promise<number> {
  for (let level = 1; level <= 8; level++) {
    const line = level < 8 ? `run ${prefix}${level + 1}.peer\n` : 'echo leaf\n';
    await writeFile(path.join(dir, `${prefix}${level}.peer`), line.repeat(fanout));
  }
  let total = 0;
  for (let level = 1; level <= 8; level++) total += fanout ** level;
  return total;
}

test.serial('a script that runs itself stops at the depth limit, a tree of scripts at the command budget, and the peer stays healthy', async (t) => {
  const coordinator = await startCoordinator(t);
  const [host] = await coordinator.spawn(['agent1']);
  const dir = coordinator.runner.dataDir('agent1');
  await writeFile(path.join(dir, 'loop.peer'), 'run loop.peer\n');

  // Through REST, as a tool outside the coordinator would send it: a failed command is a 422.
  const loop = await call(coordinator.url, 'POST', '/api/peers/agent1/commands', {json: {name: 'run', args: {file: 'loop.peer'}}});
  t.is(loop.status, 422, JSON.stringify(loop.body));
  t.regex(loop.body.error.message, /scripts nested more than 8 deep/);

  // 3 + 9 + ... + 3^8 = 9,840 lines fit the budget of 10,000 and run to the end ...
  t.is(await chainOfScripts(dir, 'fits', 3), 9840);
  const fits = await coordinator.hub.command('agent1', 'run', {file: 'fits1.peer'}, 60_000);
  t.true(fits.ok, errorOf(fits));
  // ... 4 + 16 + ... + 4^8 = 87,380 do not: the budget stops them, not the depth limit.
  t.is(await chainOfScripts(dir, 'over', 4), 87_380);
  const over = await coordinator.hub.command('agent1', 'run', {file: 'over1.peer'}, 60_000);
  t.false(over.ok);
  t.regex(errorOf(over), /over1\.peer:1: over2\.peer:\d+: .*run: scripts ran more than 10000 commands; stopped$/);
  t.notRegex(errorOf(over), /nested/);

  // Healthy: it answers, and it is not still spinning on the script after the reply.
  t.true((await coordinator.hub.command('agent1', 'status')).ok);
  await goesQuiet(host!.pid!);
  t.true(host!.alive && isAlive(host!.pid!));
});

test.serial('a long script the coordinator gave up on stops soon after the timeout reply', async (t) => {
  const coordinator = await startCoordinator(t);
  const events = eventLog(coordinator);
  const [host] = await coordinator.spawn(['agent2']);
  const dir = coordinator.runner.dataDir('agent2');
  // Thousands of lines, each pair a message (counted by the peer and in its event stream) and
  // a file write (slow enough that the whole script takes far longer than the deadline).
  const pairs = 4000;
  await writeFile(path.join(dir, 'long.peer'), 'send tick\nsave-config scratch.json\n'.repeat(pairs));

  const timeoutMs = 300;
  const reply = await coordinator.hub.command('agent2', 'run', {file: 'long.peer'}, timeoutMs);
  t.false(reply.ok);
  t.is(reply.ok ? undefined : reply.error.code, 'timeout', errorOf(reply));
  const {late, lateEvent, sent} = await stoppedAfterLate(t, coordinator, events, 'agent2', reply.id);
  const afterDeadline = sentAfterDeadline(events.get('agent2')!, lateEvent, timeoutMs);
  t.log(`stopped after ${late.ms} ms and ${sent} of ${pairs} messages, ${afterDeadline} of them after the deadline`);
  t.like(late, {name: 'run', ok: false});
  t.regex(late.error ?? '', /run: stopped before long\.peer:\d+: run did not finish within 300 ms/);
  t.true(sent > 0 && sent < pairs, `${sent} of ${pairs} messages sent`);
  // It stops at the next line: the line under way when the deadline fires may still send, a few at
  // most (a script that ran on would send thousands more).
  t.true(afterDeadline <= 3, `${afterDeadline} messages sent after the deadline`);
  // And soon: the line under way cannot hold it for long. Generous, for a loaded machine; the
  // line count above is the precise check (the whole script takes several seconds here).
  t.true(late.ms < timeoutMs + 5000, `the script ran on for ${late.ms - timeoutMs} ms after the deadline`);
  await goesQuiet(host!.pid!);

  // The same through REST, for a script that runs itself and, at each level, first the long one:
  // a 504, then it stops inside the nested script, and each level above says where it was.
  await writeFile(path.join(dir, 'deep.peer'), 'run long.peer\nrun deep.peer\n');
  const before = (events.get('agent2') ?? []).length;
  const viaRest = await call(coordinator.url, 'POST', '/api/peers/agent2/commands', {json: {name: 'run', args: {file: 'deep.peer'}, timeoutMs}});
  t.is(viaRest.status, 504, JSON.stringify(viaRest.body));
  const lateDeep = await until(() => events.get('agent2')?.slice(before).find((e) => e.type === 'command.late' && e.data.name === 'run'), 10_000, 'the self-running script ends');
  t.regex(String(lateDeep.data.error), /^deep\.peer:1: run: stopped before long\.peer:\d+: run did not finish within 300 ms$/);
  const deepAfterDeadline = sentAfterDeadline(events.get('agent2')!.slice(before), lateDeep, timeoutMs);
  t.true(deepAfterDeadline <= 3, `${deepAfterDeadline} messages sent after the deadline`);
  t.true((lateDeep.data.ms as number) < timeoutMs + 5000, `the script ran on for ${(lateDeep.data.ms as number) - timeoutMs} ms after the deadline`);
  await goesQuiet(host!.pid!);
  t.true((await coordinator.hub.command('agent2', 'status')).ok);
  t.true(host!.alive);
});

test.serial('a script stops when the connection to the coordinator drops, and says so once it is back', async (t) => {
  const coordinator = await startCoordinator(t);
  const events = eventLog(coordinator);
  const [host] = await coordinator.spawn(['agent3']);
  await writeFile(path.join(coordinator.runner.dataDir('agent3'), 'long.peer'), 'send tick\nsave-config scratch.json\n'.repeat(4000));
  const pending = coordinator.hub.command('agent3', 'run', {file: 'long.peer'}, 60_000);
  await until(() => events.get('agent3')?.some((e) => e.type === 'chat.sent'), 10_000, 'the script has started');
  coordinator.hub.disconnect('agent3');
  const reply = await pending;
  t.is(reply.ok ? undefined : reply.error.code, 'not-connected', errorOf(reply));
  // The agent reconnects on its own; the word that the script ended comes with its backlog.
  const {late, sent} = await stoppedAfterLate(t, coordinator, events, 'agent3', reply.id);
  t.regex(late.error ?? '', /connection to the coordinator dropped/);
  t.true(sent < 4000, `${sent} of 4000 messages sent`);
  await goesQuiet(host!.pid!);
});

test.serial('a peer started without a data folder may not read or write any file over the agent', async (t) => {
  const coordinator = await startCoordinator(t);
  const peer = await peerWithoutFolder(t, coordinator, 'by-hand');
  for (const [command, args] of [
    ['run', {file: '/etc/passwd'}],
    ['load-config', {file: '/etc/passwd'}],
    ['save-config', {file: 'x.json'}],
  ] as const) {
    const reply = await coordinator.hub.command('by-hand', command, args);
    t.false(reply.ok, command);
    t.regex(errorOf(reply), /not offered over the agent/, command);
  }
  t.true((await coordinator.hub.command('by-hand', 'status')).ok);
  t.true(isAlive(peer.pid));
});

test.serial('a fleet peer reaches only files inside its own folder', async (t) => {
  const coordinator = await startCoordinator(t);
  await coordinator.spawn(['agent4']);
  const data = coordinator.runner.dataDir('agent4');
  const outside = await tempDir(t, 'peerlab-outside-');
  await writeFile(path.join(outside, 'secret.peer'), 'echo secret\n');
  await writeFile(path.join(data, 'ok.peer'), 'echo inside\n');
  await symlink(path.join(outside, 'secret.peer'), path.join(data, 'link.peer'));
  await symlink(outside, path.join(data, 'out'));
  const refused: Array<[string, Record<string, unknown>, RegExp]> = [
    ['run', {file: '/etc/passwd'}, /absolute paths are not allowed/],
    ['run', {file: '../secret.peer'}, /".." is not allowed/],
    ['run', {file: 'link.peer'}, /leads out of the data folder/],
    ['run', {file: 'out/secret.peer'}, /leads out of the data folder/],
    ['load-config', {file: '/etc/shadow'}, /absolute paths are not allowed/],
    ['save-config', {file: '../evil.json'}, /".." is not allowed/],
    ['save-config', {file: path.join(outside, 'evil.json')}, /absolute paths are not allowed/],
    ['save-config', {file: 'out/evil.json'}, /leads out of the data folder/],
    ['save-config', {file: 'link.peer'}, /is a symlink/],
  ];
  for (const [command, args, expected] of refused) {
    const reply = await coordinator.hub.command('agent4', command, args);
    t.false(reply.ok, `${command} ${JSON.stringify(args)}`);
    t.regex(errorOf(reply), expected, `${command} ${JSON.stringify(args)}`);
  }
  await t.throwsAsync(readFile(path.join(path.dirname(data), 'evil.json')));
  await t.throwsAsync(readFile(path.join(outside, 'evil.json')));
  t.is(await readFile(path.join(outside, 'secret.peer'), 'utf8'), 'echo secret\n');

  // Control: inside the folder, all three work, through the hub and through REST.
  const ran = await coordinator.hub.command('agent4', 'run', {file: 'ok.peer'});
  t.true(ran.ok, errorOf(ran));
  const saved = await call(coordinator.url, 'POST', '/api/peers/agent4/commands', {json: {name: 'save-config', args: {file: 'peer.json'}}});
  t.is(saved.status, 200, JSON.stringify(saved.body));
  t.like(JSON.parse(await readFile(path.join(data, 'peer.json'), 'utf8')), {name: 'agent4'});
  const loaded = await coordinator.hub.command('agent4', 'load-config', {file: 'peer.json'});
  t.true(loaded.ok, errorOf(loaded));
});

test.serial('each peer of a peer host gets a folder of its own, and a restart keeps it', async (t) => {
  const coordinator = await startCoordinator(t);
  const names = ['host-a', 'host-b'];
  const [host] = await coordinator.spawn(names, {perProcess: 2});
  t.deepEqual(host!.names, names, 'one process carries both');
  for (const name of names) {
    const saved = await coordinator.hub.command(name, 'save-config', {file: 'mine.json'});
    t.true(saved.ok, errorOf(saved));
    t.like(JSON.parse(await readFile(path.join(coordinator.runner.dataDir(name), 'mine.json'), 'utf8')), {name});
  }
  // The folder outlives the process: restarted, each peer finds what it saved.
  const restarted = await coordinator.runner.restart('host-a');
  await until(() => names.every((name) => coordinator.hub.get(name)?.pid === restarted.pid), 15_000, 'both peers register again');
  for (const name of names) {
    const loaded = await coordinator.hub.command(name, 'load-config', {file: 'mine.json'});
    t.true(loaded.ok, errorOf(loaded));
  }
});

test.serial('the shell is never offered to the coordinator, and asking for it, by name or in a script, runs nothing', async (t) => {
  const coordinator = await startCoordinator(t);
  const events = eventLog(coordinator);
  await coordinator.spawn(['agent5']);
  const offered = coordinator.hub.get('agent5')!.commands.map((c) => c.name);
  t.true(offered.includes('run') && offered.includes('send'), offered.join(', '));
  t.false(offered.includes('shell'), 'hello lists no shell');

  // Each would leave a file behind if a shell ran it.
  const outside = await tempDir(t, 'peerlab-shell-');
  const marker = (n: number) => path.join(outside, `ran-${n}`);
  const refusal = /shell: shell commands run only at the peer's own prompt .*never for the coordinator/;

  const byName = await coordinator.hub.command('agent5', 'shell', {command: `touch ${marker(1)}`});
  t.false(byName.ok);
  t.is(byName.ok ? undefined : byName.error.code, 'unknown-command');
  t.regex(errorOf(byName), refusal);
  const viaRest = await call(coordinator.url, 'POST', '/api/peers/agent5/commands', {json: {name: 'shell', args: {command: `touch ${marker(2)}`}}});
  t.is(viaRest.status, 400, JSON.stringify(viaRest.body));
  t.regex(viaRest.body.error.message, refusal);

  // A script with a shell line is refused whole, before its first line (a message) runs; nested too.
  const dir = coordinator.runner.dataDir('agent5');
  await writeFile(path.join(dir, 'bang.peer'), `send before\n!touch ${marker(3)}\n`);
  await writeFile(path.join(dir, 'word.peer'), `# a comment\nsend before\n\nshell touch ${marker(4)}\n`);
  await writeFile(path.join(dir, 'outer.peer'), `run --keep-going word.peer\nrun bang.peer\n`);
  // An empty shell line too: at the prompt it is one failing line, here the script is refused.
  await writeFile(path.join(dir, 'empty.peer'), `send before\n!\n`);
  const cases: Array<[string, RegExp]> = [
    ['empty.peer', /^empty\.peer:2: shell: .* \(no line of empty\.peer was run\)$/],
    ['bang.peer', /^bang\.peer:2: shell: .* \(no line of bang\.peer was run\)$/],
    ['word.peer', /^word\.peer:4: shell: .* \(no line of word\.peer was run\)$/],
    ['outer.peer', /^outer\.peer:1: word\.peer:4: shell: .* \(no line of word\.peer was run\)$/],
  ];
  for (const [file, expected] of cases) {
    const reply = await coordinator.hub.command('agent5', 'run', {file});
    t.false(reply.ok, file);
    t.regex(errorOf(reply), expected, file);
    t.regex(errorOf(reply), refusal, file);
  }
  // --keep-going goes on past failing lines, not past the refusal.
  const keepGoing = await coordinator.hub.command('agent5', 'run', {file: 'bang.peer', 'keep-going': true});
  t.regex(errorOf(keepGoing), /^bang\.peer:2: shell: /);

  const status = await coordinator.hub.command('agent5', 'status', {json: true});
  if (!status.ok) return t.fail(`status: ${status.error.message}`);
  t.is((status.result as {messages: number}).messages, 0, 'no line of a refused script ran');
  t.deepEqual((events.get('agent5') ?? []).filter((e) => e.type === 'chat.sent'), []);
  for (const n of [1, 2, 3, 4]) await t.throwsAsync(readFile(marker(n)), {code: 'ENOENT'}, `marker ${n}`);
});
