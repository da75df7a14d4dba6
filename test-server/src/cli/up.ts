/**
 * `peerlab up`: starts a coordinator on 127.0.0.1, spawns N peers, shows them
 * registering, then a table, then a prompt that sends commands to one peer,
 * several, or all. With stdin not a terminal it reads the commands as a
 * script. However it ends, every peer it started is stopped.
 */
import readline from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import {appendFile, mkdir, readFile} from 'node:fs/promises';
import logUpdate from 'log-update';
import {Coordinator, isLoopback} from '../coordinator.js';
import {generateNames} from '@peerlab/events/names';
import {completeLine, peersTable, recordConsoleFaults, runLine} from './console-commands.js';
import {HistoryWriter} from '../history/writer.js';
import {recordCoordinator} from '../history/record.js';
import {choosePeer} from './peer-choice.js';
import {REFERENCE_PEER, commandText} from '../peer-program/program.js';
import type {PeerChoice, PeerFlags} from './peer-choice.js';
import {cannot} from '../runners/limits.js';
import type {PeerProfile} from '../peer-program/profile.js';

export interface UpOptions extends PeerFlags {
  peers?: number;
  names?: string[];
  host: string;
  port: number;
  token?: string;
  profile: PeerProfile;
  logs?: string;
  dataDir?: string;
  grace: number;
  historyFile?: string;
  peersPerProcess: number;
  /** Names the coordinator answers to besides its address (the Host header check). */
  allowedHosts?: string[];
  /** No prompt: run until SIGINT or SIGTERM, for tools that drive the peers over REST. */
  serve?: boolean;
}

const out = (line: string) => process.stdout.write(line + '\n');

/**
 * The console's network fault backend: --faults over the config file's, else
 * auto: the program's net-* commands when it has them, else the kernel when
 * it can run here, else the commands (the console then says what fails).
 */
function upFaults(peer: PeerChoice, peersPerProcess: number): {backend: 'peer'} | {backend: 'kernel'; nft: string} | string {
  const mode = peer.faults.flag ?? peer.faults.config?.mode ?? 'auto';
  if (mode === 'peer') return {backend: 'peer'};
  const offers = ['net-cut', 'net-loss', 'net-heal'].every((c) => peer.fallbackCommands.includes(c));
  if (mode === 'auto' && offers) return {backend: 'peer'};
  const support = peer.faults.kernel();
  if (!support.ok) return mode === 'kernel' ? `${peer.faults.flag ? '--faults kernel' : `${peer.faults.config!.file}: faults: kernel`}: ${support.reason}` : {backend: 'peer'};
  if (peersPerProcess > 1) return mode === 'kernel' ? `kernel faults tell peers apart by their addresses, and --peers-per-process ${peersPerProcess} puts several in one process with one address` : {backend: 'peer'};
  return {backend: 'kernel', nft: support.nft};
}

export async function up(options: UpOptions): Promise<number> {
  const names = options.names ?? generateNames(options.peers ?? 3);
  // Checked before the coordinator starts: a program that cannot run stops here, exit 2.
  const peer = await choosePeer('peerlab up', options);
  if (!peer) return 2;
  const oneEach = peer.runner.limits.peersPerProcess;
  if (options.peersPerProcess > 1 && oneEach !== undefined) {
    process.stderr.write(`peerlab up: --peers-per-process ${options.peersPerProcess}: ${cannot(peer.runner, `run ${options.peersPerProcess} peers in one process`, oneEach)}\nno peer was started.\n`);
    return 2;
  }
  const faults = upFaults(peer, options.peersPerProcess);
  if (typeof faults === 'string') {
    process.stderr.write(`peerlab up: ${faults}\nno peer was started.\n`);
    return 2;
  }
  // The kubernetes runner's pods cannot reach loopback: the coordinator listens where its address says, unless --host says otherwise.
  const listen = peer.listen && isLoopback(options.host) ? peer.listen : undefined;
  const host = listen?.host ?? options.host;
  const allowedHosts = [...(options.allowedHosts ?? []), ...(listen?.allowedHosts ?? [])];
  const coordinator = await Coordinator.start({
    ...(faults.backend === 'kernel' ? {kernelFaults: {nft: faults.nft, peers: names}} : {}),
    peer: peer.fallback,
    runner: peer.runner.kind,
    host,
    port: options.port || (listen?.port ?? 0),
    ...(options.token ? {token: options.token} : {}),
    ...(allowedHosts.length ? {allowedHosts} : {}),
    profile: options.profile,
    expectedPeers: names.length,
    agentGraceMs: options.grace,
    ...(options.logs ? {logDir: options.logs} : {}),
    ...(options.dataDir ? {dataDir: options.dataDir} : {}),
  });
  // Synchronous last resort: whatever ends this process, the peers go with it.
  process.on('exit', () => coordinator.runner.killAllNow());
  // A history as a scenario run records one, for the live view and for peerlab check/report afterwards.
  const runDir = options.logs ?? path.join('runs', coordinator.runId);
  await mkdir(runDir, {recursive: true});
  const history = new HistoryWriter(path.join(runDir, 'history.jsonl'));
  history.append('run.begin', {scenario: 'peerlab up', runId: coordinator.runId, peers: names, profile: options.profile, faults: faults.backend});
  recordCoordinator(coordinator, history);
  recordConsoleFaults(coordinator, (type, data) => history.append(type, data));
  coordinator.liveView.setSource(history);
  let stopping: Promise<void> | undefined;
  const stop = (code: number) => {
    stopping ??= (async () => {
      out(`stopping ${coordinator.runner.peers().filter(({handle}) => handle.alive).length} peers...`);
      // Marks where the peers' leaving and exiting stops being faults, for the report.
      history.append('run.stop', {});
      await coordinator.close();
      history.append('run.end', {});
      await history.close();
      process.exit(code);
    })();
    return stopping;
  };
  process.on('SIGINT', () => void stop(130));
  process.on('SIGTERM', () => void stop(143));

  out(`peerlab coordinator on ${coordinator.url} (run ${coordinator.runId})${faults.backend === 'kernel' ? ` with kernel faults (table ${coordinator.kernelTable?.name})` : ''}`);
  if (peer.fallback.origin !== REFERENCE_PEER) out(`peer program: ${commandText(peer.fallback.command)} (from ${peer.fallback.origin}) in ${peer.fallback.cwd}`);
  out(`REST API: ${coordinator.url}/api/peers   logs: ${coordinator.runner.logFile('NAME')}   files: ${coordinator.runner.dataDir('NAME')}`);
  if (!isLoopback(host)) out(`listening beyond loopback: every request needs "Authorization: Bearer ${coordinator.token}"`);
  // The token in the address gives the page control (it may kill, pause, send); without it the view is read-only.
  // Beyond loopback every viewer needs it; on loopback anyone may watch, and whoever reads this terminal may take control.
  const withToken = `${coordinator.url}/view/?token=${encodeURIComponent(coordinator.token)}`;
  out(`live view: ${isLoopback(host) ? `${coordinator.url}/view/` : withToken}   history: ${history.file}`);
  if (isLoopback(host)) out(`live view with control: ${withToken}`);

  const tty = Boolean(process.stdout.isTTY);
  const started = Date.now();
  // The bar counts the first registration of each name it was asked to start. Anything
  // else that registers (a restart, a reconnect, a REST spawn, an external agent) is not
  // progress, and once counted it would push the bar past full.
  const awaited = new Set(names);
  let registered = 0;
  const progress = () => {
    const width = 30;
    const filled = Math.round((registered / names.length) * width);
    return `registering peers [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${registered}/${names.length}  ${((Date.now() - started) / 1000).toFixed(1)} s`;
  };
  let lastStep = 0;
  const onRegistered = ({name}: {name: string}) => {
    if (!awaited.delete(name)) return;
    registered++;
    if (tty) logUpdate(progress());
    else if (Math.floor((registered / names.length) * 4) > lastStep || registered === names.length) {
      lastStep = Math.floor((registered / names.length) * 4);
      out(progress());
    }
  };
  coordinator.hub.on('registered', onRegistered);
  try {
    await coordinator.spawn(names, {perProcess: options.peersPerProcess});
    if (tty) logUpdate.done();
    out(`${names.length} peers registered in ${Date.now() - started} ms`);
  } catch (error) {
    if (tty) logUpdate.done();
    out(`warning: ${(error as Error).message} (see their logs)`);
  } finally {
    coordinator.hub.off('registered', onRegistered);
  }

  await showTable(coordinator, names.length, tty);
  if (options.serve) {
    out('serving until SIGINT or SIGTERM (no prompt)');
    // The signal handlers above stop the peers and exit; the open server keeps the process up until then.
    await new Promise<never>(() => {});
  }
  const failures = await prompt(coordinator, options.historyFile ?? path.join(os.homedir(), '.peerlab', 'up_history'));
  await stop(failures > 0 ? 1 : 0);
  return 0;
}

/** The live table: on a terminal it redraws until every peer sees every other (or 10 s pass). */
async function showTable(coordinator: Coordinator, n: number, tty: boolean): Promise<void> {
  const converged = () => coordinator.runner.peers().every(({name, handle}) => !handle.alive || coordinator.views.liveCount(name) === n);
  const deadline = Date.now() + 10_000;
  await new Promise<void>((resolve) => {
    const tick = () => {
      if (tty) logUpdate(peersTable(coordinator));
      if (converged() || Date.now() > deadline) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 100);
    tick();
  });
  if (tty) logUpdate.done();
  else out(peersTable(coordinator));
  out(converged() ? `every peer sees all ${n}` : 'not every peer sees every other yet (type "peers" to look again)');
}

async function prompt(coordinator: Coordinator, historyFile: string): Promise<number> {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const history = interactive ? await loadHistory(historyFile) : [];
  const rl = readline.createInterface({
    input: process.stdin,
    output: interactive ? process.stdout : undefined,
    terminal: interactive,
    history,
    historySize: 1000,
    prompt: 'peerlab> ',
    ...(interactive ? {completer: (line: string) => completeLine(coordinator, line)} : {}),
  } as readline.ReadLineOptions);
  if (interactive) {
    out('type "help" for commands, e.g. "all members" or "alice send hi"');
    rl.prompt();
  }
  let failures = 0;
  for await (const line of rl) {
    if (interactive && line.trim() !== '') await appendFile(historyFile, line + '\n').catch(() => {});
    const result = await runLine(coordinator, line);
    if (!result.ok) failures++;
    if (result.output !== '') (result.ok ? process.stdout : process.stderr).write(result.output + '\n');
    if (result.exit) break;
    if (interactive) rl.prompt();
  }
  rl.close();
  return failures;
}

async function loadHistory(file: string): Promise<string[]> {
  await mkdir(path.dirname(file), {recursive: true}).catch(() => {});
  try {
    return (await readFile(file, 'utf8')).split('\n').filter(Boolean).slice(-1000).reverse();
  } catch {
    return [];
  }
}
