/**
 * The `peerlab up` prompt: a line is either a coordinator command (peers,
 * spawn, kill, ...) or `<targets> <peer command>`, where targets are a name,
 * a comma list, or `all`. Peer command lines are parsed against the argument
 * schemas the peers sent in `hello`, so a typo is caught here, before anything
 * is sent; the agent validates again on its side.
 */
import type {CommandSpec} from '@peerlab/client-agent';
import {CommandError, parseWords, splitWords} from '@peerlab/client-agent';
import type {Coordinator} from '../coordinator.js';
import {peerRow} from '../peer-row.js';
import {RunnerError} from '../runners/runner.js';
import {renderTable} from '@peerlab/node-kit/table';
import {FaultInjector} from '../engine/faults.js';
import type {RecordFault} from '../engine/faults.js';
import {initialFaultState, planFault} from '../engine/fault-plan.js';
import type {FaultState, StepFault} from '../engine/fault-plan.js';
import {Random, randomSeed} from '../engine/random.js';
import type {Target} from '../scenario/plan.js';
import {partitionShapes} from '../scenario/schema.js';

export const consoleCommands: Record<string, {usage: string; summary: string}> = {
  help: {usage: 'help', summary: 'this list'},
  peers: {usage: 'peers', summary: 'table of peers: pid, state, members seen, messages'},
  spawn: {usage: 'spawn <name>...', summary: 'start more peers'},
  kill: {usage: 'kill <peers>', summary: 'SIGKILL a peer (no goodbye)'},
  terminate: {usage: 'terminate <peers>', summary: 'SIGTERM a peer (it leaves gracefully)'},
  restart: {usage: 'restart <peers>', summary: 'kill a peer and start it again under the same name'},
  pause: {usage: 'pause <peers>', summary: 'SIGSTOP a peer'},
  resume: {usage: 'resume <peers>', summary: 'SIGCONT a paused peer'},
  partition: {usage: 'partition <a,b> <c,d>... | halves | random-node | bridge | majorities-ring', summary: 'cut the links between groups'},
  isolate: {usage: 'isolate <peers>', summary: 'cut a peer off from every other peer'},
  cut: {usage: 'cut <from> <to>', summary: 'one-way cut: packets from -> to are dropped'},
  loss: {usage: 'loss <percent> [<a,b> <c,d>]', summary: 'drop packets on every link, or between two groups'},
  delay: {usage: 'delay <ms> [<jitter>]', summary: 'hold back packets on every link'},
  heal: {usage: 'heal', summary: 'clear every network fault'},
  exit: {usage: 'exit', summary: 'stop every peer and quit (also: quit, Ctrl-D)'},
};

export interface ConsoleResult {
  output: string;
  ok: boolean;
  exit?: boolean;
}

export function peersTable(coordinator: Coordinator): string {
  const rows = coordinator.runner.peers().map(({name}) => {
    const r = peerRow(coordinator, name);
    const state = r.exit ? `exited (${r.exit.signal ?? `code ${r.exit.code}`})` : r.registered ? r.state : `${r.state}, not registered`;
    return [r.name, String(r.pid ?? '-'), state, String(r.membersSeen), String(r.messages)];
  });
  return renderTable(['NAME', 'PID', 'STATE', 'MEMBERS', 'MESSAGES'], rows);
}

function helpText(coordinator: Coordinator): string {
  const lines = Object.values(consoleCommands).map((c) => `  ${c.usage.padEnd(18)} ${c.summary}`);
  const specs = coordinator.hub.agents()[0]?.commands ?? [];
  return [
    'coordinator commands (<peers>: a name, a list a,b, all, or random):',
    ...lines,
    '',
    'peer commands: <peer>|<a,b,...>|all <command> [args]   e.g. "alice send hi", "all members"',
    `  ${specs.map((s) => s.name).join(', ') || '(no peer registered yet)'}`,
  ].join('\n');
}

/** Resolves `all`, `a,b` or `a` to peer names; unknown names are an error. */
export function resolveTargets(coordinator: Coordinator, word: string): string[] {
  const registered = coordinator.hub.agents().map((a) => a.name);
  if (word === 'all') return registered;
  const names = word.split(',').filter(Boolean);
  const unknown = names.filter((n) => !coordinator.runner.get(n) && !coordinator.hub.get(n));
  if (unknown.length > 0) throw new CommandError(`no peer named ${unknown.join(', ')}; peers: ${registered.join(', ') || 'none'}`, 'bad-arguments');
  return names;
}

export function completeLine(coordinator: Coordinator, line: string): [string[], string] {
  const words = line.split(/\s+/);
  const current = words.at(-1) ?? '';
  const names = coordinator.runner.peers().map(({name}) => name);
  if (words.length <= 1) {
    const options = [...Object.keys(consoleCommands), 'quit', 'all', ...names];
    return [options.filter((o) => o.startsWith(current)).map((o) => o + ' '), current];
  }
  const first = words[0]!;
  if (first in consoleCommands) return [names.filter((n) => n.startsWith(current)), current];
  const specs = coordinator.hub.agents()[0]?.commands ?? [];
  if (words.length === 2) return [specs.map((s) => s.name).filter((n) => n.startsWith(current)).map((n) => n + ' '), current];
  const spec = specs.find((s) => s.name === words[1]);
  const flags = spec?.args.filter((a) => a.flag).map((a) => `--${a.name}`) ?? [];
  return [flags.filter((f) => f.startsWith(current)), current];
}

/**
 * The console's faults: its own FaultState (it acts as the steps do) and an
 * injector that keeps its network rules in force, per coordinator.
 */
interface ConsoleFaults {
  state: FaultState;
  injector: FaultInjector;
  random: Random;
}

const consoles = new WeakMap<Coordinator, ConsoleFaults>();
/** Where a coordinator's console faults are recorded (`peerlab up`'s history), so its live view shows them. */
const recorders = new WeakMap<Coordinator, RecordFault>();

export function recordConsoleFaults(coordinator: Coordinator, record: RecordFault): void {
  recorders.set(coordinator, record);
}

function faultsFor(coordinator: Coordinator): ConsoleFaults {
  let faults = consoles.get(coordinator);
  if (!faults) {
    const created: ConsoleFaults = {
      state: initialFaultState([]),
      injector: new FaultInjector(coordinator, (type, data) => recorders.get(coordinator)?.(type, data), (peer, name, args) => coordinator.hub.command(peer, name, args), () => created.state.net),
      random: new Random(randomSeed()),
    };
    faults = created;
    consoles.set(coordinator, faults);
  }
  // Peers come and go outside the console too (the REST API spawns): every peer the runner knows counts as started.
  const names = coordinator.runner.peers().map(({name}) => name);
  faults.state = {...faults.state, peers: names, started: names};
  return faults;
}

/** A console word as a step's target: `all`, `random`, or names (checked). */
function targetOf(coordinator: Coordinator, word: string): Target {
  if (word === 'all' || word === 'random') return {kind: word};
  return {kind: 'names', names: resolveTargets(coordinator, word)};
}

/** Plans a fault as a step would (fault-plan.ts) and carries it out; returns the problems and the plan's summary. */
async function consoleFault(coordinator: Coordinator, fault: StepFault): Promise<{problems: string[]; summary: string; peers: string[]}> {
  const faults = faultsFor(coordinator);
  const plan = planFault(faults.state, fault, faults.random);
  faults.state = plan.next;
  const problems = await faults.injector.apply(plan.actions);
  return {problems, summary: plan.summary, peers: (plan.describe.peers as string[] | undefined) ?? []};
}

async function networkFault(coordinator: Coordinator, name: string, args: string[]): Promise<ConsoleResult> {
  const usageError = () => new CommandError(`usage: ${consoleCommands[name]!.usage}`, 'bad-arguments');
  const groupsOf = (words: string[]) => words.map((w) => resolveTargets(coordinator, w));
  let fault: StepFault;
  let done: string | undefined;
  switch (name) {
    case 'partition': {
      if (args.length === 0) throw usageError();
      const shape = args.length === 1 && partitionShapes.includes(args[0] as never) ? args[0]! : undefined;
      if (!shape && args.length < 2) throw usageError();
      fault = shape ? {kind: 'partition', shape} : {kind: 'partition', groups: groupsOf(args)};
      break;
    }
    case 'isolate': {
      if (args.length !== 1) throw usageError();
      fault = {kind: 'isolate', target: targetOf(coordinator, args[0]!)};
      break;
    }
    case 'cut': {
      if (args.length !== 2) throw usageError();
      fault = {kind: 'cut', from: targetOf(coordinator, args[0]!), to: targetOf(coordinator, args[1]!)};
      done = `cut ${args[0]} -> ${args[1]}`;
      break;
    }
    case 'loss': {
      const percent = Number(args[0]);
      if (!(percent >= 0 && percent <= 100) || (args.length !== 1 && args.length !== 3)) throw usageError();
      fault = {kind: 'loss', rate: percent / 100, ...(args.length === 3 ? {between: groupsOf(args.slice(1))} : {})};
      done = `${percent}% loss ${args.length === 3 ? `between ${args[1]} and ${args[2]}` : 'on every link'}`;
      break;
    }
    case 'delay': {
      const ms = Number(args[0]);
      const jitter = args[1] === undefined ? 0 : Number(args[1]);
      if (!Number.isInteger(ms) || !Number.isInteger(jitter) || ms < 0 || jitter < 0 || args.length > 2) throw usageError();
      fault = {kind: 'delay', ms, jitter};
      done = `${ms} ms delay (±${jitter}) on every link`;
      break;
    }
    default:
      fault = {kind: 'heal'};
      done = 'healed every network fault';
  }
  const {problems, summary} = await consoleFault(coordinator, fault);
  return problems.length > 0 ? {ok: false, output: `error: ${problems.join('; ')}`} : {ok: true, output: done ?? summary};
}

/** kill, terminate, restart, pause, resume: planned as a step's, said as a person would. */
async function processFault(coordinator: Coordinator, name: 'kill' | 'terminate' | 'restart' | 'pause' | 'resume', word: string): Promise<ConsoleResult> {
  const started = Date.now();
  const {problems, peers} = await consoleFault(coordinator, {kind: name, target: targetOf(coordinator, word)});
  if (problems.length > 0) return {ok: false, output: `error: ${problems.join('; ')}`};
  const lines = await Promise.all(
    peers.map(async (peer) => {
      const exit = name === 'kill' || name === 'terminate' ? await coordinator.runner.get(peer)?.exited : undefined;
      switch (name) {
        case 'kill':
          return `${peer} killed (${exit?.signal ?? 'SIGKILL'})`;
        case 'terminate':
          return `${peer} exited with ${exit ? (exit.signal ?? `code ${exit.code}`) : 'no exit seen'}`;
        case 'restart':
          return `${peer} restarted and registered in ${Date.now() - started} ms`;
        case 'pause':
          return `${peer} paused`;
        default:
          return `${peer} resumed`;
      }
    }),
  );
  return {ok: true, output: lines.join('\n') || 'nobody to do that to'};
}

async function runConsoleCommand(coordinator: Coordinator, name: string, args: string[]): Promise<ConsoleResult> {
  const one = () => {
    if (args.length !== 1) throw new CommandError(`usage: ${consoleCommands[name]!.usage}`, 'bad-arguments');
    return args[0]!;
  };
  switch (name) {
    case 'help':
      return {ok: true, output: helpText(coordinator)};
    case 'peers':
      return {ok: true, output: peersTable(coordinator)};
    case 'exit':
    case 'quit':
      return {ok: true, output: '', exit: true};
    case 'spawn': {
      if (args.length === 0) throw new CommandError(`usage: ${consoleCommands.spawn!.usage}`, 'bad-arguments');
      const started = Date.now();
      await coordinator.spawn(args);
      return {ok: true, output: `registered ${args.join(', ')} in ${Date.now() - started} ms`};
    }
    case 'kill':
    case 'terminate':
    case 'restart':
    case 'pause':
    case 'resume':
      return processFault(coordinator, name, one());
    case 'partition':
    case 'isolate':
    case 'cut':
    case 'loss':
    case 'delay':
    case 'heal':
      return networkFault(coordinator, name, args);
    default:
      throw new CommandError(`unknown command ${name}`, 'unknown-command');
  }
}

/** Runs one prompt line; errors are returned as text, never thrown. */
export async function runLine(coordinator: Coordinator, line: string): Promise<ConsoleResult> {
  try {
    const words = splitWords(line);
    const [first, ...rest] = words;
    if (first === undefined) return {ok: true, output: ''};
    if (first in consoleCommands || first === 'quit') return await runConsoleCommand(coordinator, first, rest);
    const targets = resolveTargets(coordinator, first);
    const [commandName, ...commandWords] = rest;
    if (!commandName) throw new CommandError(`"${first}" what? Give a command, e.g. "${first} members"; "help" lists them`, 'bad-arguments');
    if (targets.length === 0) throw new CommandError('no peer is registered', 'failed');
    const spec = specFor(coordinator, targets, commandName);
    const args = parseWords(spec, commandWords);
    const replies = await Promise.all(targets.map((t) => coordinator.hub.command(t, commandName, args)));
    const blocks = replies.map((reply, i) => {
      const body = reply.ok ? (reply.text ?? JSON.stringify(reply.result)) : `error: ${reply.error.message}`;
      return targets.length === 1 ? body : `${targets[i]}:\n${indent(body)}`;
    });
    return {ok: replies.every((r) => r.ok), output: blocks.join('\n')};
  } catch (error) {
    const message = error instanceof CommandError || error instanceof RunnerError || error instanceof Error ? error.message : String(error);
    return {ok: false, output: `error: ${message}`};
  }
}

function specFor(coordinator: Coordinator, targets: string[], commandName: string): CommandSpec {
  const specs = targets.map((t) => coordinator.hub.get(t)?.commands).find((c) => c !== undefined);
  if (!specs) throw new CommandError(`${targets.join(', ')}: not registered (yet)`, 'failed');
  const spec = specs.find((s) => s.name === commandName);
  if (!spec) throw new CommandError(`unknown peer command "${commandName}"; peers offer: ${specs.map((s) => s.name).join(', ')}`, 'unknown-command');
  return spec;
}

function indent(text: string): string {
  return text.split('\n').map((l) => `  ${l}`).join('\n');
}
