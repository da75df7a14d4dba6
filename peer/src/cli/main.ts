/**
 * `peerlab-peer`: starts one chat peer and gives it a prompt (or reads a
 * script from a pipe). Flags win over a --config file, which wins over
 * defaults.
 */
import os from 'node:os';
import path from 'node:path';
import {Command, InvalidArgumentError, Option} from 'commander';
import {isProfileName, PROFILE_NAMES, profiles} from '../config.js';
import type {ProfileName} from '../config.js';
import {readSavedConfig} from '../commands.js';
import type {SavedConfig} from '../commands.js';
import {isLevel, levels} from '../log.js';
import {isValidName} from '../membership/messages.js';
import type {Address} from '../membership/types.js';
import {parseAddress} from '../membership/types.js';
import {Peer} from '../peer.js';
import {Session} from './session.js';
import {createLocalRegistry} from './local-registry.js';
import {hostMain} from './host-main.js';
import {bugNames, isBugName} from '../policy.js';
import type {BugName} from '../policy.js';
import {PEER_CAPABILITIES, agentRegistry, limitCapabilities, linkAgent} from '../agent-link.js';
import {dataDirFor} from '../file-access.js';
import type {Capabilities} from '@peerlab/client-agent';

/**
 * A net against orphans: when the coordinator that spawned this peer dies, even
 * by SIGKILL, the peer is re-parented, and it exits within a poll interval.
 */
function watchParent(peer: Peer, exit: (code: number) => void): void {
  const expected = Number(process.env.PEERLAB_PARENT_PID);
  if (!Number.isInteger(expected) || expected <= 0) return;
  const timer = setInterval(() => {
    if (process.ppid !== expected) {
      peer.log.warn('agent', `parent ${expected} is gone; exiting`);
      clearInterval(timer);
      exit(4);
    }
  }, 250);
  timer.unref();
}

interface Flags {
  name?: string;
  host?: string;
  port?: number;
  join?: Address[];
  bootstrap?: string;
  profile?: ProfileName;
  config?: string;
  logLevel?: string;
  historyFile?: string;
  daemon?: boolean;
  coordinator?: string;
  describeCommands?: boolean;
  printProfile?: ProfileName;
  bug?: BugName[];
  token?: string;
  agentGrace?: number;
  names?: string[];
  dataDir?: string;
  capabilities?: Capabilities;
}

function parseCapabilities(value: string): Capabilities {
  try {
    return limitCapabilities(value.split(',').map((n) => n.trim()).filter((n) => n !== ''));
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('expected an integer 0-65535 (0 picks a free port)');
  return n;
}

/** A duration in ms: at least 1 (0 would give up at the first hiccup), at most what setTimeout takes. */
function parseMs(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 2_147_483_647) throw new InvalidArgumentError('expected a whole number of milliseconds, 1 or more');
  return n;
}

function parseJoin(value: string, previous: Address[] = []): Address[] {
  const address = parseAddress(value);
  if (!address) throw new InvalidArgumentError('expected host:port');
  return [...previous, address];
}

function parseBug(value: string, previous: BugName[] = []): BugName[] {
  if (!isBugName(value)) throw new InvalidArgumentError(`expected one of ${bugNames.join(', ')}`);
  return [...previous, value];
}

function parseNames(value: string): string[] {
  const names = value.split(',').filter(Boolean);
  if (names.length === 0 || !names.every(isValidName)) throw new InvalidArgumentError('expected comma-separated names of A-Z a-z 0-9 . _ -');
  return names;
}

function parseName(value: string): string {
  if (!isValidName(value)) throw new InvalidArgumentError('expected 1-64 characters of A-Z a-z 0-9 . _ -');
  return value;
}

function parseUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
  } catch {
    throw new InvalidArgumentError('expected an http:// URL');
  }
  return value;
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('peerlab-peer')
    .description('A decentralized chat peer over SWIM gossip membership: each message is delivered once, after everything it depends on (send --reply-to <id> answers a message; `messages --ids` shows the ids)')
    .option('--name <name>', 'member name, unique in the group', parseName)
    .option('--names <a,b,...>', 'peer-host mode: run several peers in this one process (needs --coordinator)', parseNames)
    .option('--host <host>', 'address to bind (default 127.0.0.1)')
    .option('--port <port>', 'UDP and TCP port; 0 picks a free one (default 0)', parsePort)
    .option('--join <host:port>', 'a member to join through (repeatable)', parseJoin)
    .option('--bootstrap <url>', 'bootstrap data service to find contacts through', parseUrl)
    .addOption(new Option('--profile <profile>', 'timing profile (default local)').choices(PROFILE_NAMES))
    .option('--config <file>', 'start from a file written by save-config')
    .addOption(new Option('--log-level <level>', 'log level (default info)').choices([...levels]))
    .option('--history-file <file>', 'prompt history (default ~/.peerlab/peer_history)')
    .option('--daemon', 'no prompt and no script: run until SIGINT, SIGTERM or SIGHUP')
    .option('--bug <name>', `start with a deliberate defect, to test the harness (repeatable): ${bugNames.join(', ')}`, parseBug)
    .option('--capabilities <a,b,...>', `declare and report only these (default all): ${[...PEER_CAPABILITIES.events, ...PEER_CAPABILITIES.fields].join(', ')}`, parseCapabilities)
    .option('--describe-commands', 'print the command specs and capabilities as JSON (as sent in the agent\'s hello: the prompt\'s shell is not among them) and exit')
    .addOption(new Option('--print-profile <profile>', 'print a timing profile\'s knobs as JSON and exit (the harness\'s SWIM model reads them)').choices(PROFILE_NAMES))
    .option('--coordinator <url>', 'connect to a peerlab coordinator (implies --daemon)', parseUrl)
    .option('--token <token>', 'run token for the coordinator (default: $PEERLAB_TOKEN)')
    .option('--agent-grace <ms>', 'exit when the coordinator is unreachable this long (default 5000)', parseMs)
    .option('--data-dir <dir>', "the peer's own folder: the only files the coordinator's run, load-config and save-config reach (none without it; with --names, <dir>/<name>)")
    .showHelpAfterError()
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
    .parse(argv);
  const flags = program.opts<Flags>();

  if (flags.describeCommands) {
    process.stdout.write(JSON.stringify({commands: agentRegistry().specs(), capabilities: flags.capabilities ?? PEER_CAPABILITIES}) + '\n');
    return;
  }
  if (flags.printProfile) {
    process.stdout.write(JSON.stringify(profiles[flags.printProfile]) + '\n');
    return;
  }
  if (flags.names) {
    if (!flags.coordinator) {
      process.stderr.write('peerlab-peer: --names (several peers in one process) needs --coordinator\n');
      process.exit(2);
    }
    await hostMain({
      names: flags.names,
      host: flags.host ?? '127.0.0.1',
      profile: flags.profile ?? 'local',
      join: flags.join ?? [],
      bootstrap: flags.bootstrap,
      coordinator: flags.coordinator,
      token: flags.token ?? process.env.PEERLAB_TOKEN ?? '',
      graceMs: flags.agentGrace ?? 5000,
      logLevel: flags.logLevel,
      bugs: new Set(flags.bug ?? []),
      dataDir: flags.dataDir,
      capabilities: flags.capabilities,
    });
    return;
  }
  let saved: SavedConfig = {};
  if (flags.config) {
    try {
      saved = await readSavedConfig(flags.config);
    } catch (error) {
      process.stderr.write(`peerlab-peer: --config ${(error as Error).message}\n`);
      process.exit(2);
    }
  }
  const name = flags.name ?? saved.name;
  if (!name) {
    process.stderr.write('peerlab-peer: --name is required (or a --config file with a name)\n');
    process.exit(2);
  }
  const profile = flags.profile ?? (saved.profile && isProfileName(saved.profile) ? saved.profile : 'local');
  const bootstrap = flags.bootstrap ?? saved.bootstrap;
  let peer: Peer;
  try {
    peer = await Peer.start({
      name,
      host: flags.host ?? saved.host ?? '127.0.0.1',
      port: flags.port ?? saved.port ?? 0,
      profile,
      join: flags.join ?? (saved.join ?? []).map((j) => parseAddress(j)!),
      bootstrap,
      bugs: new Set(flags.bug ?? []),
    });
    for (const bug of flags.bug ?? []) peer.log.warn('cli', `started with the deliberate defect "${bug}"`);
  } catch (error) {
    process.stderr.write(`peerlab-peer: cannot bind: ${(error as Error).message}\n`);
    process.exit(1);
  }
  const level = flags.logLevel ?? saved.logLevel;
  if (level && isLevel(level)) peer.log.level = level;
  if (saved.logFilter) peer.log.filter = new Set(saved.logFilter as never[]);

  let exiting = false;
  let agent: {close(): Promise<void>} | undefined;
  const shutdown = async (code: number, leave: boolean) => {
    if (exiting) return;
    exiting = true;
    if (leave) await peer.leave().catch(() => {});
    // The agent flushes the last events (our own leave among them) before it disconnects.
    await agent?.close().catch(() => {});
    await peer.close().catch(() => {});
    process.exit(code);
  };
  process.on('SIGINT', () => (exiting ? process.exit(130) : void shutdown(0, true)));
  process.on('SIGTERM', () => (exiting ? process.exit(143) : void shutdown(0, true)));
  // A hang-up (the terminal closed) ends the peer like SIGTERM: it leaves, and its running shell commands go with it.
  process.on('SIGHUP', () => (exiting ? process.exit(129) : void shutdown(0, true)));
  watchParent(peer, (code) => void shutdown(code, false));
  // Announced once the signals are handled: whoever waits for this line may signal the peer at once
  // (stdout to a pipe is written synchronously, so the reader can act before the next statement).
  process.stdout.write(`${name} listening on ${peer.address} (profile ${profile})\n`);

  let link: ReturnType<typeof linkAgent> | undefined;
  if (flags.coordinator) {
    link = linkAgent(peer, {
      url: flags.coordinator,
      token: flags.token ?? process.env.PEERLAB_TOKEN ?? '',
      graceMs: flags.agentGrace ?? 5000,
      dataDir: await dataDirFor(flags.dataDir),
      capabilities: flags.capabilities,
      exit: (code, reason) => {
        peer.log.warn('agent', `exiting: ${reason}`);
        void shutdown(code, code === 0);
      },
    });
    agent = link.agent;
  }

  if (link) {
    // Registered first, then the join: a run starts peers by the hundred, and the join's round
    // trips (the bootstrap service, three full-state exchanges, an event per member) competed
    // with every other peer's start-up for the CPU before the coordinator could drive anyone.
    // The agent subscribed before the join, so the coordinator still sees all of it.
    const ack = await link.registered;
    if (!ack.ok) return; // the agent gives up and exits
    peer.log.info('agent', `registered with ${flags.coordinator} (run ${ack.runId})`);
    // Peers started together join together, once all have registered (the hello's `hold`).
    await link.agent.released;
  }
  const joined = await peer.joinAtStart();
  if (joined.seeds > 0) peer.log.info('cli', `joined through ${joined.contacted} of ${joined.seeds} seeds`);
  for (const error of joined.errors) peer.log.warn('cli', `join: ${error}`);
  if (link) return;
  if (flags.daemon) return;
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY);
  const session = new Session({
    peer,
    registry: createLocalRegistry(),
    interactive,
    historyFile: interactive ? (flags.historyFile ?? path.join(os.homedir(), '.peerlab', 'peer_history')) : undefined,
    onExit: (code) => void shutdown(code, false),
  });
  await session.run();
  // End of a script: leave like `exit` would; a script with failed commands exits 1.
  await shutdown(session.failures > 0 ? 1 : 0, true);
}
