/**
 * The peer's command API: one registry that both the interactive CLI and the
 * coordinator's agent execute. Handlers return plain data; `format` renders it
 * for a person, `--json` (or the agent) gets the data itself.
 */
import {readFile} from 'node:fs/promises';
import {renderTable} from '@peerlab/node-kit/table';
import {writeFileAtomic} from '@peerlab/node-kit/write-file-atomic';
import type {Args, Command, CommandCall} from '@peerlab/client-agent';
import {CommandError, Registry, usage, validateArgs} from '@peerlab/client-agent';
import {isComponent, isLevel, components, levels, printable} from './log.js';
import type {Component} from './log.js';
import type {Peer} from './peer.js';
import type {Address, Member} from './membership/types.js';
import {formatAddress, parseAddress} from './membership/types.js';
import {isProfileName, PROFILE_NAMES} from './config.js';
import type {TransportStats} from './membership/transport.js';
import {isValidName} from './membership/messages.js';
import type {FileAccess} from './file-access.js';
import {fileToRead, fileToWrite} from './file-access.js';

/** Scripts run inside scripts at most this deep (a script that runs itself stops here). */
export const MAX_SCRIPT_DEPTH = 8;
/**
 * Commands one top-level `run` may execute over its whole tree of scripts:
 * depth alone still lets eight distinct scripts, each running the next n
 * times, do n + n^2 + ... + n^8. (A script that runs itself is stopped by the
 * depth limit instead: its first line nests to depth 9, failing the tree.)
 */
export const MAX_SCRIPT_COMMANDS = 10_000;

/**
 * The command that hands a line to /bin/sh. Only the prompt's registry has it
 * (cli/local-registry.ts); the agent's withholds it with this reason.
 */
export const SHELL = 'shell';
export const SHELL_WITHHELD =
  'shell commands run only at the peer\'s own prompt and in scripts run there, never for the coordinator: ' +
  'whoever can reach it (its REST API on loopback needs no token) would have a shell on every peer';

/**
 * The command text of a shell line, `!<command>` or `shell <command>`, as
 * typed (its quotes are the shell's to read); undefined for any other line.
 */
export function shellText(line: string): string | undefined {
  const trimmed = line.trim();
  if (trimmed.startsWith('!')) return trimmed.slice(1).trim();
  const match = /^shell(?:\s+([\s\S]*))?$/.exec(trimmed);
  return match ? (match[1] ?? '') : undefined;
}

/**
 * One line from the prompt or a script: a shell line goes to the registry's
 * shell command whole (a registry without one refuses it with its reason),
 * any other line is words for a command.
 */
export function parseCommandLine<Ctx>(registry: Registry<Ctx>, line: string): {command: Command<Ctx>; args: Args} | undefined {
  const text = shellText(line);
  if (text === undefined) return registry.parseLine(line);
  const command = registry.resolve(SHELL);
  return {command, args: validateArgs(command, text === '' ? {} : {command: text}, true)};
}

/** Where a line runs inside a script: how deep, and what the whole tree may still do. */
export interface ScriptNesting {
  depth: number;
  /** Shared by every script under one top-level `run`. */
  budget: {commands: number};
  /** The top-level call's: once whoever asked for the `run` gives up, no script in the tree runs another line. */
  call: CommandCall;
}

/** What a command may ask of whoever runs it (the CLI session or the agent). */
export interface CommandContext {
  peer: Peer;
  /**
   * Runs one line of a script with the nesting `run` gives it. The nesting is
   * counted by `run` itself, so no caller (CLI, agent, script) can reset it.
   */
  runLine(line: string, script: ScriptNesting): Promise<void>;
  /** Ends the process after the command returns. */
  exit(code: number): void;
  /** Set when the command is a line of a script. */
  script?: ScriptNesting | undefined;
  /** Which files `run`, `load-config` and `save-config` may touch (see file-access.ts). */
  files: FileAccess;
  /**
   * Reports a failure a command goes on past (a script line under `run
   * --keep-going`) as it happens; without it the command's own error lists them.
   */
  warn?(message: string): void;
}

/** The settings that `save-config` writes and `load-config` or `--config` read. */
export interface SavedConfig {
  name?: string;
  host?: string;
  port?: number;
  profile?: string;
  join?: string[];
  bootstrap?: string;
  logLevel?: string;
  logFilter?: string[];
}

const json = {name: 'json', type: 'boolean', flag: true, description: 'print machine-readable JSON'} as const;

/** Everything this peer refused to take, hold or send for others, and the members it forgot. */
function refusalsOf(peer: Peer) {
  const {tcpRefused, tcpTooLarge, tcpTimedOut} = peer.transport.stats;
  return {...peer.membership.refusals, ...peer.chat.refusals, tcpRefused, tcpTooLarge, tcpTimedOut};
}

/** Packets and connections so far, for `status`: where this peer's traffic went. */
function trafficOf(stats: TransportStats) {
  return {
    udpIn: stats.udpIn,
    udpOut: stats.udpOut,
    tcpIn: stats.tcpIn,
    tcpOut: stats.tcpOut,
    udpInBytes: stats.udpInBytes,
    udpOutBytes: stats.udpOutBytes,
    tcpInBytes: stats.tcpInBytes,
    tcpOutBytes: stats.tcpOutBytes,
    dropped: stats.dropped,
    udpOutByType: {...stats.udpOutByType},
  };
}

function membersView(peer: Peer, all: boolean) {
  const members = all ? peer.membership.all() : peer.membership.live();
  return {
    self: peer.membership.name,
    checksum: peer.membership.checksum(),
    count: peer.membership.live().length,
    members: members.map((m: Member) => ({name: m.name, address: formatAddress(m.address), state: m.state, incarnation: m.incarnation})),
  };
}

function parseSeeds(words: string[]): Address[] {
  return words.map((word) => {
    const address = parseAddress(word);
    if (!address) throw new CommandError(`join: "${word}" is not host:port`, 'bad-arguments');
    return address;
  });
}

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : 'the caller gave up';
}

export function savedConfigOf(peer: Peer): SavedConfig {
  const s = peer.settings;
  return {
    name: s.name,
    host: s.host,
    port: s.port,
    profile: s.profile,
    join: s.join.map(formatAddress),
    ...(s.bootstrap ? {bootstrap: s.bootstrap} : {}),
    logLevel: peer.log.level,
    logFilter: [...peer.log.filter],
  };
}

/** Reads and checks a saved config file; errors name the file and the field. */
export async function readSavedConfig(file: string): Promise<SavedConfig> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    throw new CommandError(`${file}: ${error instanceof SyntaxError ? 'not valid JSON: ' + error.message : (error as Error).message}`, 'bad-arguments');
  }
  const fail = (field: string, expected: string): never => {
    throw new CommandError(`${file}: field "${field}" must be ${expected}`, 'bad-arguments');
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('(top level)', 'an object');
  const c = raw as Record<string, unknown>;
  const known = ['name', 'host', 'port', 'profile', 'join', 'bootstrap', 'logLevel', 'logFilter'];
  for (const key of Object.keys(c)) if (!known.includes(key)) fail(key, `one of ${known.join(', ')} (unknown field)`);
  if (c.name !== undefined && (typeof c.name !== 'string' || !isValidName(c.name))) fail('name', '1-64 characters of A-Z a-z 0-9 . _ -');
  if (c.host !== undefined && typeof c.host !== 'string') fail('host', 'a string');
  if (c.port !== undefined && (!Number.isInteger(c.port) || (c.port as number) < 0 || (c.port as number) > 65535)) fail('port', 'an integer 0-65535');
  if (c.profile !== undefined && (typeof c.profile !== 'string' || !isProfileName(c.profile))) fail('profile', `one of ${PROFILE_NAMES.join(', ')}`);
  if (c.join !== undefined && (!Array.isArray(c.join) || !c.join.every((j) => typeof j === 'string' && parseAddress(j)))) fail('join', 'a list of "host:port"');
  if (c.bootstrap !== undefined && typeof c.bootstrap !== 'string') fail('bootstrap', 'a URL');
  if (c.logLevel !== undefined && (typeof c.logLevel !== 'string' || !isLevel(c.logLevel))) fail('logLevel', `one of ${levels.join(', ')}`);
  if (c.logFilter !== undefined && (!Array.isArray(c.logFilter) || !c.logFilter.every((x) => typeof x === 'string' && isComponent(x)))) {
    fail('logFilter', `a list of ${components.join(', ')}`);
  }
  return c as SavedConfig;
}

export function createRegistry(): Registry<CommandContext> {
  const registry = new Registry<CommandContext>();

  registry.add({
    name: 'help',
    group: 'general',
    summary: 'list commands, or show one command in detail',
    args: [{name: 'command', type: 'string', description: 'a command name'}],
    run(args) {
      if (typeof args.command === 'string') {
        const command = registry.get(args.command);
        if (!command) throw new CommandError(`help: no command "${args.command}"`, 'bad-arguments');
        return {command: command.name, summary: command.summary, usage: usage(command), args: command.args};
      }
      const groups: Record<string, {name: string; summary: string}[]> = {};
      for (const c of registry.list()) (groups[c.group] ??= []).push({name: c.name, summary: c.summary});
      return {groups};
    },
    format(result) {
      const r = result as {groups?: Record<string, {name: string; summary: string}[]>; usage?: string; summary?: string; args?: {name: string; description: string}[]};
      if (r.groups) {
        return Object.entries(r.groups)
          .map(([group, list]) => `${group}:\n` + list.map((c) => `  ${c.name.padEnd(12)} ${c.summary}`).join('\n'))
          .join('\n');
      }
      return [r.usage, `  ${r.summary}`, ...(r.args ?? []).map((a) => `  ${a.name.padEnd(10)} ${a.description}`)].join('\n');
    },
  });

  registry.add({
    name: 'status',
    group: 'general',
    summary: 'show this peer: name, address, state, incarnation, profile',
    args: [json],
    run(_args, {peer}) {
      const self = peer.membership.self;
      return {
        name: self.name,
        address: formatAddress(self.address),
        state: self.state,
        incarnation: self.incarnation,
        profile: peer.config.profile,
        members: peer.membership.live().length,
        checksum: peer.membership.checksum(),
        messages: peer.chat.messages().length,
        malformed: peer.transport.stats.malformed,
        refused: refusalsOf(peer),
        traffic: trafficOf(peer.transport.stats),
      };
    },
    format(result) {
      return Object.entries(result as Record<string, unknown>)
        .map(([k, v]) => `${k}: ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
        .join('\n');
    },
  });

  registry.add({
    name: 'echo',
    group: 'general',
    summary: 'print the text (useful in scripts)',
    args: [{name: 'text', type: 'string', rest: true, description: 'text to print'}],
    run(args) {
      return {text: typeof args.text === 'string' ? args.text : ''};
    },
    format: (result) => (result as {text: string}).text,
  });

  registry.add({
    name: 'members',
    group: 'membership',
    summary: 'list alive and suspect members with incarnation, and the checksum of the live set',
    args: [json, {name: 'all', type: 'boolean', flag: true, description: 'include dead and left members'}],
    run(args, {peer}) {
      return membersView(peer, args.all === true);
    },
    format(result) {
      const r = result as ReturnType<typeof membersView>;
      const rows = r.members.map((m) => [m.name + (m.name === r.self ? ' (me)' : ''), m.address, m.state, String(m.incarnation)]);
      return `${renderTable(['NAME', 'ADDRESS', 'STATE', 'INCARNATION'], rows)}\n${r.count} live, checksum ${r.checksum}`;
    },
  });

  registry.add({
    name: 'join',
    group: 'membership',
    summary: 'join a group through host:port seeds, or the bootstrap service when none are given',
    args: [{name: 'seeds', type: 'string', repeatable: true, description: 'host:port of a member'}],
    async run(args, {peer}) {
      const seeds = parseSeeds((args.seeds as string[] | undefined) ?? []);
      const result = await peer.join(seeds.length > 0 ? seeds : undefined);
      if (result.seeds > 0 && result.contacted === 0) {
        throw new CommandError(`join: no seed answered (${result.errors.join('; ')})`, 'failed');
      }
      return {...result, members: peer.membership.live().length};
    },
    format(result) {
      const r = result as {contacted: number; seeds: number; members: number; errors: string[]};
      const base = r.seeds === 0 ? 'no seeds: started a group of my own' : `contacted ${r.contacted} of ${r.seeds} seeds; ${r.members} live members`;
      return [base, ...r.errors.map((e) => `  warning: ${e}`)].join('\n');
    },
  });

  registry.add({
    name: 'leave',
    group: 'membership',
    summary: 'leave the group gracefully (others record "left")',
    args: [],
    async run(_args, {peer}) {
      await peer.leave();
      return {left: true, incarnation: peer.membership.self.incarnation};
    },
    format: () => 'left the group',
  });

  registry.add({
    name: 'send',
    group: 'chat',
    summary: 'broadcast a message to every member; --reply-to makes it depend on a message delivered here',
    args: [
      {name: 'reply-to', type: 'string', flag: true, description: 'id of a delivered message this one answers (see `messages --ids`)'},
      {name: 'text', type: 'string', rest: true, required: true, description: 'the message'},
    ],
    run(args, {peer}) {
      const replyTo = args['reply-to'] as string | undefined;
      try {
        const message = peer.chat.send(args.text as string, {replyTo});
        return {id: message.id, seq: message.seq, sentAt: message.sentAt, deps: message.deps, ...(replyTo !== undefined ? {replyTo} : {})};
      } catch (error) {
        throw new CommandError(`send: ${(error as Error).message}`, 'failed');
      }
    },
    format(result) {
      const r = result as {id: string; replyTo?: string};
      return `sent ${r.id}${r.replyTo !== undefined ? ` in reply to ${r.replyTo}` : ''}`;
    },
  });

  registry.add({
    name: 'messages',
    group: 'chat',
    summary: 'list delivered messages, in delivery order; --ids shows the ids --reply-to takes',
    args: [
      json,
      {name: 'last', type: 'integer', flag: true, description: 'only the last N'},
      {name: 'ids', type: 'boolean', flag: true, description: "show each message's id"},
    ],
    run(args, {peer}) {
      const all = peer.chat.messages();
      const last = typeof args.last === 'number' ? all.slice(-args.last) : all;
      return {count: all.length, duplicates: peer.chat.duplicates, held: peer.chat.heldCount, messages: last};
    },
    format(result, args) {
      const r = result as {count: number; held: number; messages: {sender: string; text: string; deliveredAt: number; id: string; replyTo?: string}[]};
      const lines = r.messages.map((m) => {
        const id = args.ids === true ? `[${printable(m.id)}] ` : '';
        const reply = m.replyTo !== undefined ? `(re ${printable(m.replyTo)}) ` : '';
        return `${new Date(m.deliveredAt).toISOString().slice(11, 19)} ${id}<${m.sender}> ${reply}${printable(m.text)}`;
      });
      if (r.held > 0) lines.push(`${r.held} held: waiting for messages they depend on`);
      return lines.length > 0 ? lines.join('\n') : 'no messages yet';
    },
  });

  registry.add({
    name: 'log-level',
    group: 'logging',
    summary: `show or set the log level (${levels.join(', ')})`,
    args: [{name: 'level', type: 'enum', values: levels, description: 'new level'}],
    run(args, {peer}) {
      if (typeof args.level === 'string' && isLevel(args.level)) peer.log.level = args.level;
      return {level: peer.log.level};
    },
    format: (result) => `log level: ${(result as {level: string}).level}`,
  });

  registry.add({
    name: 'log-filter',
    group: 'logging',
    summary: `log only some components (${components.join(', ')}); "all" clears the filter`,
    args: [{name: 'components', type: 'string', repeatable: true, description: 'components, or all'}],
    run(args, {peer}) {
      const words = (args.components as string[] | undefined) ?? [];
      if (words.length === 1 && words[0] === 'all') peer.log.filter.clear();
      else if (words.length > 0) {
        const bad = words.filter((w) => !isComponent(w));
        if (bad.length > 0) throw new CommandError(`log-filter: unknown component ${bad.join(', ')}; known: ${components.join(', ')}, or all`, 'bad-arguments');
        peer.log.filter = new Set(words as Component[]);
      }
      return {filter: [...peer.log.filter]};
    },
    format(result) {
      const f = (result as {filter: string[]}).filter;
      return `log filter: ${f.length > 0 ? f.join(', ') : 'all components'}`;
    },
  });

  registry.add({
    name: 'run',
    group: 'scripts',
    summary: 'run a script: a command or a shell line (!<command>, prompt only) per line, # for comments; stops at the first failure',
    args: [
      {name: 'keep-going', type: 'boolean', flag: true, description: 'run every line even after one fails (run still fails at the end)'},
      {name: 'file', type: 'string', required: true, description: 'script file'},
    ],
    async run(args, ctx, ownCall) {
      const depth = (ctx.script?.depth ?? 0) + 1;
      if (depth > MAX_SCRIPT_DEPTH) throw new CommandError(`run: scripts nested more than ${MAX_SCRIPT_DEPTH} deep`, 'failed');
      const budget = ctx.script?.budget ?? {commands: MAX_SCRIPT_COMMANDS};
      const call = ctx.script?.call ?? ownCall;
      const name = String(args.file);
      const file = await fileToRead(ctx.files, 'run', args.file as string);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (error) {
        throw new CommandError(`run: cannot read ${name}: ${(error as Error).message}`, 'failed');
      }
      const lines = text
        .split('\n')
        .map((raw, i) => ({at: i + 1, line: raw.trim()}))
        .filter(({line}) => line !== '' && !line.startsWith('#'));
      // Where the shell is withheld (over the agent), a script with a shell line is refused whole
      // before any line runs, rather than stopped halfway, its first lines done. Where the shell is
      // offered, a shell line is checked when its turn comes like any other: a bad one (an empty
      // `!`) is one failing line, not a refusal of the script.
      const shellLine = lines.find(({line}) => shellText(line) !== undefined);
      if (shellLine) {
        try {
          registry.resolve(SHELL);
        } catch (error) {
          throw new CommandError(`${name}:${shellLine.at}: ${(error as Error).message} (no line of ${name} was run)`, 'failed');
        }
      }
      const failed: string[] = [];
      let count = 0;
      for (const {at, line} of lines) {
        // Between lines the peer's other work (its timers, the agent's deadline among them) gets
        // its turn: a script of quick lines would otherwise hold the event loop to its end.
        await new Promise((resolve) => setImmediate(resolve));
        // Checked between lines, so a script stops at the next one after the caller gave up
        // (even with --keep-going: giving up is not a failing line).
        const stop = call.signal.aborted ? reasonOf(call.signal) : call.deadline && Date.now() >= call.deadline.at ? call.deadline.message : undefined;
        if (stop !== undefined) throw new CommandError(`run: stopped before ${name}:${at}: ${stop}`, 'failed');
        if (budget.commands-- <= 0) throw new CommandError(`run: scripts ran more than ${MAX_SCRIPT_COMMANDS} commands; stopped`, 'failed');
        count++;
        try {
          await ctx.runLine(line, {depth, budget, call});
        } catch (error) {
          const failure = `${name}:${at}: ${(error as Error).message}`;
          if (args['keep-going'] !== true) throw new CommandError(failure, 'failed');
          if (ctx.warn) ctx.warn(failure);
          failed.push(ctx.warn ? `${name}:${at}` : failure);
        }
      }
      if (failed.length > 0) throw new CommandError(`run: ${failed.length} of ${count} lines of ${name} failed: ${failed.join('; ')}`, 'failed');
      return {file: args.file, commands: count};
    },
    format: (result) => `ran ${(result as {commands: number}).commands} commands`,
  });

  registry.add({
    name: 'save-config',
    group: 'config',
    summary: 'save name, address, profile, seeds and log settings to a JSON file',
    args: [{name: 'file', type: 'string', required: true, description: 'where to write'}],
    async run(args, {peer, files}) {
      const file = await fileToWrite(files, 'save-config', args.file as string);
      // The shared atomic write: a reader (or a crash) sees the old file or the new, never half of one.
      await writeFileAtomic(file, JSON.stringify(savedConfigOf(peer), null, 2) + '\n');
      return {file};
    },
    format: (result) => `saved to ${(result as {file: string}).file}`,
  });

  registry.add({
    name: 'load-config',
    group: 'config',
    summary: 'apply log settings and seeds from a saved file (name, address and profile apply at start: --config)',
    args: [{name: 'file', type: 'string', required: true, description: 'a file written by save-config'}],
    async run(args, {peer, files}) {
      const config = await readSavedConfig(await fileToRead(files, 'load-config', args.file as string));
      if (config.logLevel && isLevel(config.logLevel)) peer.log.level = config.logLevel;
      if (config.logFilter) peer.log.filter = new Set(config.logFilter as Component[]);
      const seeds = (config.join ?? []).map((j) => parseAddress(j)!);
      const join = seeds.length > 0 ? await peer.join(seeds) : undefined;
      const ignored = (['name', 'host', 'port', 'profile'] as const).filter((k) => config[k] !== undefined && config[k] !== peer.settings[k]);
      return {applied: {logLevel: peer.log.level, logFilter: [...peer.log.filter]}, joined: join?.contacted ?? 0, ignored};
    },
    format(result) {
      const r = result as {joined: number; ignored: string[]};
      const note = r.ignored.length > 0 ? ` (${r.ignored.join(', ')} differ and apply only at start, with --config)` : '';
      return `config loaded; joined through ${r.joined} seeds${note}`;
    },
  });

  const peersArg = {name: 'peers', type: 'string', repeatable: true, description: 'peer names, or * for every peer'} as const;
  const faultResult = (peer: Peer) => peer.faults.status();
  const faultText = (result: unknown) => {
    const r = result as ReturnType<Peer['faults']['status']>;
    const list = (xs: string[]) => (xs.length > 0 ? xs.join(', ') : 'none');
    const map = (m: Record<string, unknown>) => (Object.keys(m).length > 0 ? Object.entries(m).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ') : 'none');
    return `cut in: ${list(r.cutIn)}; cut out: ${list(r.cutOut)}; loss: ${map(r.loss)}; delay: ${map(r.delay)}; dropped ${r.dropped}, delayed ${r.delayed}`;
  };

  registry.add({
    name: 'net-cut',
    group: 'faults',
    summary: 'drop all traffic with the given peers (fault injection)',
    args: [{...peersArg, required: true}, {name: 'direction', type: 'enum', values: ['in', 'out', 'both'], flag: true, description: 'which way (default both)'}],
    run(args, {peer}) {
      peer.faults.cut(args.peers as string[], (args.direction as 'in' | 'out' | 'both' | undefined) ?? 'both');
      return faultResult(peer);
    },
    format: faultText,
  });

  registry.add({
    name: 'net-loss',
    group: 'faults',
    summary: 'drop this percentage of packets sent to the given peers, or to all',
    args: [{name: 'percent', type: 'number', required: true, description: '0-100'}, peersArg],
    run(args, {peer}) {
      const percent = args.percent as number;
      if (percent < 0 || percent > 100) throw new CommandError('net-loss: percent must be 0-100', 'bad-arguments');
      peer.faults.loss(percent / 100, (args.peers as string[] | undefined) ?? []);
      return faultResult(peer);
    },
    format: faultText,
  });

  registry.add({
    name: 'net-delay',
    group: 'faults',
    summary: 'hold back packets sent to the given peers, or to all',
    args: [{name: 'ms', type: 'integer', required: true, description: 'delay in ms'}, {name: 'jitter', type: 'integer', flag: true, description: 'plus or minus up to this many ms'}, peersArg],
    run(args, {peer}) {
      const ms = args.ms as number;
      const jitter = (args.jitter as number | undefined) ?? 0;
      if (ms < 0 || jitter < 0 || ms > 60_000) throw new CommandError('net-delay: ms and jitter must be 0-60000', 'bad-arguments');
      peer.faults.delay(ms, jitter, (args.peers as string[] | undefined) ?? []);
      return faultResult(peer);
    },
    format: faultText,
  });

  registry.add({
    name: 'net-heal',
    group: 'faults',
    summary: 'clear every network fault',
    args: [],
    run(_args, {peer}) {
      peer.faults.heal();
      return faultResult(peer);
    },
    format: faultText,
  });

  registry.add({
    name: 'net-status',
    group: 'faults',
    summary: 'show the network faults in force',
    args: [json],
    run: (_args, {peer}) => faultResult(peer),
    format: faultText,
  });

  registry.add({
    name: 'exit',
    group: 'general',
    summary: 'leave the group gracefully and exit',
    args: [{name: 'no-leave', type: 'boolean', flag: true, description: 'exit without leaving (others will detect a failure)'}],
    async run(args, ctx) {
      if (args['no-leave'] !== true) await ctx.peer.leave();
      ctx.exit(0);
      return {exiting: true};
    },
    format: () => 'bye',
  });

  return registry;
}

export function formatResult(registry: Registry<CommandContext>, name: string, result: unknown, args: Args): string {
  return registry.format(name, result, args) ?? JSON.stringify(result);
}
