/**
 * Loads scenario files: YAML parsed with positions, validated against the
 * schema, peer names and command lines checked against the peers' own
 * command specs. Every mistake is reported with file:line:column, the field
 * and what was expected, and all of them are reported before any peer starts.
 */
import {readdir, stat} from 'node:fs/promises';
import path from 'node:path';
import {LineCounter, isAlias, isCollection, isMap, isPair, isScalar, parseDocument, stringify} from 'yaml';
import type {Document, Node as YamlNode} from 'yaml';
import type {z} from 'zod';
import type {Args, Capabilities, Capability, CommandSpec} from '@peerlab/client-agent';
import {CommandError, FAULT_COMMANDS, parseWords, splitWords} from '@peerlab/client-agent';
import {conditionNeeds, firstLacking, invariantNeeds, trafficNeeds} from '@peerlab/checkers/capabilities';
import {generateNames} from '@peerlab/events/names';
import type {Condition, TrafficBounds} from '@peerlab/checkers/history/types';
import {effectiveInvariants} from '@peerlab/checkers/history/types';
import {hasModel} from '@peerlab/checkers/bound';
import {defaultScenarioTimeoutMs, formatDuration, parseDuration, parseModelMultiple} from './duration.js';
import type {PlanStep, Scenario, Target, Within} from './plan.js';
import type {ScenarioProblem} from './problems.js';
import {fileProblem, ScenarioLoadError} from './problems.js';
import {readScenarioFile} from './read-file.js';
import {MAX_PEERS, scenario as scenarioSchema, stateCondition, stepKinds} from './schema.js';
import type {PeerProgram} from '../peer-program/program.js';
import {REFERENCE_PEER, commandText, issueMessage, peerProgram, peerProgramSchema, programKey} from '../peer-program/program.js';
import {chooseBackend} from '../faults/choose.js';
import type {FaultsChoice, NetFaultStep} from '../faults/choose.js';
import type {RunnerTraits} from '../runners/limits.js';
import {cannot} from '../runners/limits.js';

/** Without a choice from the command line: auto, and kernel faults are not asked for. */
const PEER_FAULTS_ONLY: FaultsChoice = {kernel: () => ({ok: false, reason: 'kernel faults were not offered to this loader'})};

/** Without a runner named: local processes, which can do all a scenario asks. */
const LOCAL: RunnerTraits = {kind: 'local', limits: {}};

/** A runner that cannot give each peer its own loopback address cannot run kernel faults, whatever this machine allows. */
function faultsFor(choice: FaultsChoice, runner: RunnerTraits): FaultsChoice {
  const reason = runner.limits.kernelFaults;
  return reason === undefined ? choice : {...choice, kernel: () => ({ok: false, reason: cannot(runner, 'make kernel faults', reason)})};
}

export type {ScenarioProblem} from './problems.js';
export {formatProblem, ScenarioLoadError} from './problems.js';

/**
 * Bounds on a document's shape. YAML aliases can expand a few lines into
 * billions of nodes ("billion laughs"): 100 expansions is far more than a
 * scenario needs. Nesting 64 deep leaves room for blocks within blocks while
 * keeping every recursive pass (zod, the step builder, the engine) shallow.
 */
const MAX_ALIAS_COUNT = 100;
const MAX_DEPTH = 64;
/** Each step writes at least two history lines and a result entry: repeats multiplied out, 100 000 is hours of run. */
const MAX_STEPS = 100_000;
/** Each nemesis round writes history events and may restart a process. */
const MAX_NEMESIS_ROUNDS = 10_000;

type PathKey = string | number;

function fieldName(pathKeys: readonly PathKey[]): string {
  return pathKeys.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${key}` : key), '');
}

/**
 * Which program a scenario's peers run, and what the loader needs of it, given
 * the scenario's own `peer:` key: the program, and its command specs (to check
 * run lines) or why it cannot run.
 */
export type ProgramLookup = (own: PeerProgram | undefined) => {program?: PeerProgram; specs?: readonly CommandSpec[]; capabilities?: Capabilities; problem?: string};

/** Chooses and checks peer programs for loadScenarios; the checking runs processes, so the caller brings it. */
export interface PeerPrograms {
  /** The program a scenario runs, given its own peer: key (--peer comes before it, the config file and the reference peer after). */
  choose(own: PeerProgram | undefined): PeerProgram;
  /** Its specs and declared capabilities, or why it cannot run (a sentence for a located problem). */
  check(program: PeerProgram): Promise<{ok: true; specs: readonly CommandSpec[]; capabilities: Capabilities} | {ok: false; message: string}>;
}

class Context {
  readonly problems: ScenarioProblem[] = [];
  readonly lookup: ProgramLookup;
  readonly faults: FaultsChoice;
  constructor(
    readonly file: string,
    readonly doc: Document,
    readonly lines: LineCounter,
    commands: readonly CommandSpec[] | ProgramLookup,
    faults: FaultsChoice = PEER_FAULTS_ONLY,
    /** What runs the peers: a scenario needing what it cannot do is refused here. */
    readonly runner: RunnerTraits = LOCAL,
  ) {
    this.faults = faultsFor(faults, runner);
    // A plain list: every scenario runs the one program that offers these commands.
    const lookup = typeof commands === 'function' ? commands : undefined;
    const specs = commands as readonly CommandSpec[];
    this.lookup = lookup ?? (() => ({specs}));
  }

  /** Position of the node at path, or of its nearest existing parent. */
  position(pathKeys: readonly PathKey[], key?: string): {line: number; column: number} {
    for (let n = pathKeys.length; n >= 0; n--) {
      const node = this.doc.getIn(pathKeys.slice(0, n), true) as YamlNode | undefined;
      if (!node?.range) continue;
      // For an unknown key, point at the key itself.
      if (key && n === pathKeys.length && isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === key);
        if (pair && isScalar(pair.key) && pair.key.range) return this.offsetPosition(pair.key.range[0]);
      }
      return this.offsetPosition(node.range[0]);
    }
    return {line: 1, column: 1};
  }

  offsetPosition(offset: number): {line: number; column: number} {
    const pos = this.lines.linePos(offset);
    return {line: pos.line, column: pos.col};
  }

  problem(pathKeys: readonly PathKey[], message: string, key?: string): void {
    const {line, column} = this.position(pathKeys, key);
    this.problems.push({file: this.file, line, column, field: fieldName(key ? [...pathKeys, key] : pathKeys), message});
  }

  /** Records zod's issues under a base path; returns the parsed value or undefined. */
  validate<T>(schema: z.ZodType<T>, value: unknown, base: readonly PathKey[]): T | undefined {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    for (const issue of result.error.issues) {
      const at = [...base, ...(issue.path as PathKey[])];
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) this.problem(at, `unknown field "${key}"${expectedKeys(schema, issue.path as PathKey[])}`, key);
      } else {
        this.problem(at, issueMessage(issue));
      }
    }
    return undefined;
  }
}

/** The keys the object at `path` in the schema takes, followed through nested objects (traffic.rest) and optionals. */
function expectedKeys(schema: z.ZodType, path: readonly PathKey[]): string {
  type Node = {shape?: Record<string, Node>; unwrap?: () => Node; _zod?: {def?: {type?: string}}};
  const unwrap = (n: Node | undefined): Node | undefined => (n?._zod?.def?.type === 'optional' && n.unwrap ? unwrap(n.unwrap()) : n);
  let node = unwrap(schema as unknown as Node);
  for (const key of path) node = typeof key === 'string' ? unwrap(node?.shape?.[key]) : undefined;
  return node?.shape ? `; expected one of: ${Object.keys(node.shape).join(', ')}` : '';
}

const actionKeys = [
  'start', 'await', 'on', 'kill', 'stop', 'sleep', 'terminate', 'restart', 'pause', 'resume',
  'partition', 'isolate', 'cut', 'heal', 'loss', 'delay', 'wait', 'parallel', 'repeat',
] as const;

/**
 * A scenario's own `peer:` key as a program, its cwd from the scenario's
 * folder; 'invalid' when the key is there but wrong (the schema says why).
 */
function ownProgram(value: unknown, file: string): PeerProgram | 'invalid' | undefined {
  if (typeof value !== 'object' || value === null || !('peer' in value)) return undefined;
  const parsed = peerProgramSchema.safeParse((value as {peer: unknown}).peer);
  return parsed.success ? peerProgram(parsed.data, path.dirname(path.resolve(file)), file) : 'invalid';
}

/** Every scenario's own program in a file's text, for checking before the file is loaded in full; none if it does not parse. */
function ownPrograms(text: string, file: string): Array<PeerProgram | undefined> {
  try {
    const doc = parseDocument(text, {uniqueKeys: true, logLevel: 'silent'});
    if (doc.errors.length > 0 || firstNodeDeeperThan(doc, MAX_DEPTH) !== undefined) return [];
    const root: unknown = doc.toJS({maxAliasCount: MAX_ALIAS_COUNT});
    return (Array.isArray(root) ? root : [root]).map((value) => {
      const own = ownProgram(value, file);
      return own === 'invalid' ? undefined : own;
    });
  } catch {
    return [];
  }
}

/**
 * Loads every scenario from files and folders (a folder is a suite: its own
 * *.yaml files, sorted). Run lines are checked against `commands`, or, given
 * PeerPrograms, against the specs of the program each scenario runs: each
 * program is checked once, before any scenario is built.
 */
export async function loadScenarios(paths: readonly string[], commands: readonly CommandSpec[] | PeerPrograms, faults?: FaultsChoice, runner?: RunnerTraits): Promise<Scenario[]> {
  const files: string[] = [];
  const problems: ScenarioProblem[] = [];
  for (const p of paths) {
    try {
      files.push(...(await expand(p)));
    } catch (error) {
      problems.push(fileProblem(p, error instanceof EmptyFolder ? error.message : `cannot read: ${(error as Error).message}`));
    }
  }
  const texts: Array<{file: string; text: string}> = [];
  for (const file of files) {
    try {
      texts.push({file, text: await readScenarioFile(file)});
    } catch (error) {
      if (error instanceof ScenarioLoadError) problems.push(...error.problems);
      else throw error;
    }
  }
  let lookup: readonly CommandSpec[] | ProgramLookup = commands as readonly CommandSpec[];
  if (!Array.isArray(commands)) {
    const programs = commands as PeerPrograms;
    const checks = new Map<string, Awaited<ReturnType<PeerPrograms['check']>>>();
    for (const {file, text} of texts) {
      for (const own of ownPrograms(text, file)) {
        const chosen = programs.choose(own);
        const key = programKey(chosen);
        if (!checks.has(key)) checks.set(key, await programs.check(chosen));
      }
    }
    lookup = (own) => {
      const program = programs.choose(own);
      const check = checks.get(programKey(program));
      // The first pass reads every scenario the second builds; one it missed must not load with its run lines unchecked.
      if (!check) return {program, problem: 'was not checked before loading (a bug in the loader)'};
      return check.ok ? {program, specs: check.specs, capabilities: check.capabilities} : {program, problem: check.message};
    };
  }
  const scenarios: Scenario[] = [];
  for (const {file, text} of texts) {
    try {
      scenarios.push(...parseScenarioText(text, file, lookup, faults, runner));
    } catch (error) {
      if (error instanceof ScenarioLoadError) problems.push(...error.problems);
      else throw error;
    }
  }
  if (problems.length > 0) throw new ScenarioLoadError(problems);
  return scenarios;
}

class EmptyFolder extends Error {}

async function expand(p: string): Promise<string[]> {
  const info = await stat(p);
  if (!info.isDirectory()) return [p];
  // Not recursive: a sub-folder is a suite of its own (scenarios/scale is not part of scenarios).
  const entries = await readdir(p, {withFileTypes: true});
  const files = entries
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name))
    .map((e) => path.join(p, e.name))
    .sort();
  // Running nothing and calling it a verdict would hide a wrong path.
  if (files.length === 0) throw new EmptyFolder('a folder of scenarios, but it holds no .yaml or .yml file');
  return files;
}

export function parseScenarioText(text: string, file: string, commands: readonly CommandSpec[] | ProgramLookup, faults?: FaultsChoice, runner?: RunnerTraits): Scenario[] {
  const lines = new LineCounter();
  // logLevel error: yaml's warnings (a collection as a key...) went to stderr; the schema reports such keys itself.
  const doc = parseDocument(text, {lineCounter: lines, prettyErrors: false, uniqueKeys: true, logLevel: 'error'});
  const ctx = new Context(file, doc, lines, commands, faults, runner);
  if (doc.errors.length > 0) {
    throw new ScenarioLoadError(
      doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        return {file, line: pos.line, column: pos.col, field: '', message: `YAML: ${e.message.split('\n')[0]}`};
      }),
    );
  }
  const tooDeep = firstNodeDeeperThan(doc, MAX_DEPTH);
  if (tooDeep !== undefined) throw new ScenarioLoadError([{file, ...ctx.offsetPosition(tooDeep), field: '', message: `YAML: nested more than ${MAX_DEPTH} levels deep`}]);
  let root: unknown;
  try {
    root = doc.toJS({maxAliasCount: MAX_ALIAS_COUNT});
  } catch (error) {
    // yaml throws a ReferenceError when aliases expand past the count (or an alias has no anchor).
    const alias = firstAlias(doc);
    const where = alias !== undefined ? ctx.offsetPosition(alias) : {line: 1, column: 1};
    throw new ScenarioLoadError([{file, ...where, field: '', message: `YAML: ${(error as Error).message.split('\n')[0]} (at most ${MAX_ALIAS_COUNT} alias expansions)`}]);
  }
  if (Array.isArray(root) && root.length === 0) {
    throw new ScenarioLoadError([{file, ...ctx.position([]), field: '', message: 'expected a scenario or a list of scenarios, got an empty list'}]);
  }
  const list = Array.isArray(root) ? root : [root];
  const base = (i: number): PathKey[] => (Array.isArray(root) ? [i] : []);
  const scenarios: Scenario[] = [];
  list.forEach((value, i) => {
    const built = buildScenario(ctx, value, base(i), i, Array.isArray(root) ? stringify(value) : text);
    if (built) scenarios.push(built);
  });
  if (ctx.problems.length > 0) throw new ScenarioLoadError(ctx.problems);
  return scenarios;
}

/** Every node of the document with its depth, depth first, without recursion (the document may be deep). */
function* walk(doc: Document): Generator<{node: YamlNode; depth: number}> {
  const stack: Array<{node: unknown; depth: number}> = [{node: doc.contents, depth: 1}];
  while (stack.length > 0) {
    const {node, depth} = stack.pop()!;
    if (isPair(node)) {
      stack.push({node: node.value, depth}, {node: node.key, depth});
      continue;
    }
    if (!node || typeof node !== 'object' || !('range' in node)) continue;
    yield {node: node as YamlNode, depth};
    if (isCollection(node)) for (let i = node.items.length - 1; i >= 0; i--) stack.push({node: node.items[i], depth: depth + 1});
  }
}

/** Offset of the first collection nested deeper than max, if any. */
function firstNodeDeeperThan(doc: Document, max: number): number | undefined {
  for (const {node, depth} of walk(doc)) if (depth > max) return node.range?.[0] ?? 0;
  return undefined;
}

function firstAlias(doc: Document): number | undefined {
  for (const {node} of walk(doc)) if (isAlias(node)) return node.range?.[0] ?? 0;
  return undefined;
}

function buildScenario(ctx: Context, value: unknown, base: PathKey[], index: number, source: string): Scenario | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.problem(base, 'expected a scenario: a mapping with name, peers and steps');
    return undefined;
  }
  // Steps are checked one by one below, so that an error points into the step, not at the list.
  const {steps: rawSteps, ...rest} = value as Record<string, unknown>;
  const shell = ctx.validate(scenarioSchema.omit({steps: true}), rest, base);
  if (!Array.isArray(rawSteps) || rawSteps.length === 0) {
    ctx.problem([...base, 'steps'], rawSteps === undefined ? 'missing: a scenario needs steps' : 'expected a non-empty list of steps');
  }
  const peers = shell ? generateNamesOrList(shell.peers) : generateNamesOrList(rest.peers);
  if (shell && Array.isArray(shell.peers)) {
    const seen = new Set<string>();
    shell.peers.forEach((p, i) => {
      if (seen.has(p)) ctx.problem([...base, 'peers', i], `peer "${p}" is listed twice`);
      seen.add(p);
    });
  }
  // Null prototypes: a name like "constructor" must find only what the scenario defined.
  const vars: Record<string, string | number> = Object.assign(Object.create(null), shell?.vars);
  const peerArgs: Record<string, string[]> = Object.assign(Object.create(null), shell?.peer_args);
  const timeoutMs = shell?.timeout ? parseDuration(shell.timeout)! : defaultScenarioTimeoutMs;
  const known = new Set(peers);
  if (shell?.peer_args) {
    for (const key of Object.keys(shell.peer_args)) {
      if (key !== 'all' && !known.has(key)) ctx.problem([...base, 'peer_args'], `unknown peer "${key}"; peers are ${peers.join(', ')}`, key);
    }
  }
  const peersValid = shell !== undefined || scenarioSchema.shape.peers.safeParse(rest.peers).success;
  const limits = {timeoutMs, timeoutText: shell?.timeout ?? `${defaultScenarioTimeoutMs / 1000}s (the default)`};
  const own = ownProgram(value, ctx.file);
  // A wrong peer: key is reported by the schema; checking run lines against some other program's commands would only add noise.
  const chosen: ReturnType<ProgramLookup> = own === 'invalid' ? {} : ctx.lookup(own);
  if (chosen.problem) {
    const at = own ? [...base, 'peer', chosen.problem.startsWith('cwd ') ? 'cwd' : 'command'] : base;
    ctx.problem(at, own ? chosen.problem : `${chosen.program?.origin ?? 'the peer program'}: ${chosen.problem}`);
  }
  const programText = chosen.program && chosen.program.origin !== REFERENCE_PEER ? commandText(chosen.program.command) : undefined;
  const needs = chosen.specs && chosen.capabilities ? new Needs(ctx, chosen.specs, chosen.capabilities, programText) : undefined;
  const builder = new StepBuilder(ctx, peersValid ? known : new Set(generateNamesOrList(rest.peers)), vars, peersValid, limits, chosen.specs, programText, needs);
  const steps = Array.isArray(rawSteps) ? builder.steps(rawSteps, [...base, 'steps'], '') : [];
  const total = stepCount(steps);
  if (total > MAX_STEPS) ctx.problem([...base, 'steps'], `the steps run ${total} steps in all (repeats multiplied out), at most ${MAX_STEPS}: each writes to the history and the report`);
  if (!shell) return undefined;
  let nemesis: Scenario['nemesis'];
  if (shell.nemesis) {
    const faults = shell.nemesis.faults.map((fault, i) => {
      const {recover_after: recover, ...stepInput} = fault as Record<string, unknown> & {recover_after?: string};
      const step = builder.step(stepInput, [...base, 'nemesis', 'faults', i], `nemesis.${i + 1}`);
      return step ? {step, ...(recover ? {recoverAfterMs: parseDuration(recover)!} : {})} : undefined;
    });
    nemesis = {
      everyMs: parseDuration(shell.nemesis.every)!,
      forMs: parseDuration(shell.nemesis.for)!,
      faults: faults.filter((f): f is NonNullable<typeof f> => f !== undefined),
    };
    const at = [...base, 'nemesis', 'for'];
    if (nemesis.forMs < nemesis.everyMs) ctx.problem(at, `expected at least every (${shell.nemesis.every}): the nemesis would never inject a fault`);
    else if (nemesis.forMs / nemesis.everyMs > MAX_NEMESIS_ROUNDS) ctx.problem(at, `${Math.floor(nemesis.forMs / nemesis.everyMs)} rounds of faults (for / every), at most ${MAX_NEMESIS_ROUNDS}: inject less often or for less long`);
    builder.withinTimeout(nemesis.forMs, shell.nemesis.for, at);
  }
  const peersPerProcess = shell.peers_per_process ?? 1;
  const shared = ctx.runner.limits.peersPerProcess;
  if (peersPerProcess > 1 && shared !== undefined) ctx.problem([...base, 'peers_per_process'], cannot(ctx.runner, `run ${peersPerProcess} peers in one process`, shared));
  const chosenFaults = chooseBackend({choice: ctx.faults, ...(shell.faults ? {scenario: shell.faults} : {}), steps: builder.netSteps, peersPerProcess});
  for (const problem of chosenFaults.problems) {
    if (problem.at === 'config') {
      const config = ctx.faults.config!;
      ctx.problems.push({file: config.file, line: config.line, column: config.column, field: 'faults', message: problem.message});
    } else ctx.problem(problem.at === 'faults' || problem.at === 'peers_per_process' ? [...base, problem.at] : problem.at, problem.message);
  }
  const traffic = shell.traffic && trafficBounds(ctx, shell.traffic, [...base, 'traffic']);
  if (traffic) needs?.capabilities(trafficNeeds, [...base, 'traffic'], 'traffic bounds');
  // Only the invariants a scenario lists: a default one it cannot feed is judged unknown, with the reason, not refused.
  (shell.invariants ?? []).forEach((name, i) => {
    if (Object.hasOwn(invariantNeeds, name)) needs?.capabilities(invariantNeeds[name as keyof typeof invariantNeeds], [...base, 'invariants', i], `the ${name} invariant`);
  });
  return {
    name: shell.name,
    file: ctx.file,
    index,
    source,
    peers,
    profile: shell.profile ?? 'local',
    timeoutMs,
    ...(chosen.program ? {peer: chosen.program} : {}),
    ...(shell.seed !== undefined ? {seed: shell.seed} : {}),
    peerArgs,
    invariants: effectiveInvariants(shell.invariants ?? []),
    peersPerProcess,
    faults: chosenFaults.backend,
    ...(nemesis ? {nemesis} : {}),
    ...(traffic ? {traffic} : {}),
    steps,
  };
}

/** The schema took each bound's shape; a phase, or the key, that bounds nothing is a mistake worth naming. */
function trafficBounds(ctx: Context, traffic: TrafficBounds, at: PathKey[]): TrafficBounds | undefined {
  const phases = Object.keys(traffic) as Array<keyof TrafficBounds>;
  if (phases.length === 0) {
    ctx.problem(at, 'expected at least one of forming, rest, churn: traffic bounds nothing');
    return undefined;
  }
  for (const phase of phases) {
    if (Object.keys(traffic[phase] ?? {}).length === 0) ctx.problem([...at, phase], 'expected max_packets_per_peer_s or max_bytes_per_peer_s: this phase is bounded by nothing');
  }
  return traffic;
}

function generateNamesOrList(peers: unknown): string[] {
  if (typeof peers === 'number' && Number.isInteger(peers) && peers > 0 && peers <= MAX_PEERS) return generateNames(peers);
  return Array.isArray(peers) ? peers.filter((p): p is string => typeof p === 'string') : [];
}

/** How many steps run in all, repeats multiplied out (a block counts as a step too). */
function stepCount(steps: readonly PlanStep[]): number {
  let total = 0;
  for (const step of steps) {
    if (step.kind === 'parallel') total += 1 + stepCount(step.steps);
    else if (step.kind === 'repeat') total += 1 + step.times * stepCount(step.steps);
    else total += 1;
  }
  return total;
}

/**
 * What a scenario asks of its peer program beyond command lines, checked
 * against what the program declared (its --describe-commands answer): events
 * it must report, and the net-* commands each network fault is made with.
 * Without a program check (a plain list of commands) there is nothing to
 * check against, and no Needs.
 */
class Needs {
  constructor(
    private readonly ctx: Context,
    private readonly commands: readonly CommandSpec[],
    private readonly declared: Capabilities,
    private readonly programText: string | undefined,
  ) {}

  private get program(): string {
    return this.programText ? `the peer program (${this.programText})` : 'the peer program';
  }

  capabilities(needs: readonly Capability[], at: PathKey[], what: string): void {
    const lacking = firstLacking(this.declared, needs);
    if (lacking === undefined) return;
    const has = [...this.declared.events, ...this.declared.fields];
    this.ctx.problem(at, `${what} needs a peer that reports ${lacking}; ${this.program} declares ${has.length > 0 ? has.join(', ') : 'nothing beyond its commands'}`);
  }

  /** The net-* commands a fault step needs that the program lacks, and what the peer backend would say of it. */
  fault(fault: keyof typeof FAULT_COMMANDS, what: string): {missing: string[]; peerProblem?: string} {
    const names = new Set(this.commands.map((c) => c.name));
    const missing = FAULT_COMMANDS[fault].filter((n) => !names.has(n));
    if (missing.length === 0) return {missing};
    return {missing, peerProblem: `${what} is made with the peers' ${FAULT_COMMANDS[fault].join(' and ')} commands; ${this.program} does not offer ${missing.join(' or ')}`};
  }
}

class StepBuilder {
  /** Every network fault step (the nemesis's too), for the choice of backend once all are read. */
  readonly netSteps: NetFaultStep<PathKey[]>[] = [];

  constructor(
    private readonly ctx: Context,
    private readonly peers: Set<string>,
    private readonly vars: Record<string, string | number>,
    private readonly checkNames: boolean,
    private readonly limits: {timeoutMs: number; timeoutText: string},
    /** The commands of the program the scenario runs; absent when it cannot run (already a problem). */
    private readonly commands: readonly CommandSpec[] | undefined,
    /** The program, named in a problem when it is not the reference peer. */
    private readonly programText?: string,
    /** What the program declared, when it was checked. */
    private readonly needs?: Needs,
  ) {}

  /** A process fault the run's runner cannot make is refused where the step names it. */
  runnerCan(kind: string, at: PathKey[]): void {
    const {runner} = this.ctx;
    const {pause, signals} = runner.limits;
    if ((kind === 'pause' || kind === 'resume') && pause !== undefined) this.ctx.problem(at, cannot(runner, 'pause', pause));
    if (kind === 'kill' && signals !== undefined) this.ctx.problem(at, cannot(runner, 'kill a peer hard, without its goodbye', signals));
  }

  /** A single wait longer than the whole scenario's timeout could only end in that timeout. */
  withinTimeout(ms: number, text: string, at: PathKey[]): void {
    if (ms > this.limits.timeoutMs) this.ctx.problem(at, `${text} is longer than the scenario's timeout, ${this.limits.timeoutText}: raise timeout or shorten this`);
  }

  steps(list: unknown[], at: PathKey[], prefix: string): PlanStep[] {
    const out: PlanStep[] = [];
    list.forEach((raw, i) => {
      const step = this.step(raw, [...at, i], `${prefix}${i + 1}`);
      if (step) out.push(step);
    });
    return out;
  }

  step(raw: unknown, at: PathKey[], stepPath: string): PlanStep | undefined {
    const {ctx} = this;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      ctx.problem(at, `expected a step: a mapping with one of ${actionKeys.join(', ')}`);
      return undefined;
    }
    const keys = Object.keys(raw);
    const actions = keys.filter((k) => (actionKeys as readonly string[]).includes(k));
    if (actions.length === 0) {
      const hint = keys.includes('run') ? '; "run" needs "on: <peer>"' : '';
      ctx.problem(at, `expected one of ${actionKeys.join(', ')} in a step, found ${keys.map((k) => `"${k}"`).join(', ') || 'nothing'}${hint}`);
      return undefined;
    }
    if (actions.length > 1) {
      ctx.problem(at, `a step has exactly one action; found ${actions.join(' and ')}: split it into separate steps`);
      return undefined;
    }
    const kind = actions[0] as (typeof actionKeys)[number];
    const line = ctx.position(at).line;
    const base = {path: stepPath, line};
    if (kind === 'parallel' || kind === 'repeat') {
      const r = raw as Record<string, unknown>;
      const children = kind === 'parallel' ? r.parallel : r.steps;
      let shellOk = true;
      if (kind === 'repeat' && !(Number.isInteger(r.repeat) && (r.repeat as number) >= 1 && (r.repeat as number) <= 10_000)) {
        ctx.problem([...at, 'repeat'], `expected a whole number of times, 1-10000, got ${JSON.stringify(r.repeat)}`);
        shellOk = false;
      }
      const childKey = kind === 'parallel' ? 'parallel' : 'steps';
      for (const key of keys) if (key !== childKey && key !== kind) ctx.problem(at, `unknown field "${key}" in a ${kind} step`, key);
      if (!Array.isArray(children) || children.length === 0) {
        ctx.problem([...at, childKey], `expected a non-empty list of steps`);
        return undefined;
      }
      const steps = this.steps(children, [...at, childKey], `${stepPath}.`);
      if (!shellOk) return undefined;
      if (kind === 'parallel') return {...base, kind, title: `parallel (${steps.length} steps)`, steps};
      const times = r.repeat as number;
      return {...base, kind, title: `repeat ${times} times`, times, steps};
    }
    const awaited = (raw as {await?: unknown}).await;
    if (kind === 'await' && typeof awaited === 'object' && awaited !== null && 'state' in awaited) {
      // The union's message is vague; the state form's own schema says exactly what is wrong.
      if (ctx.validate(stateCondition, awaited, [...at, 'await']) === undefined) return undefined;
    }
    const schema = stepKinds[kind];
    const step = ctx.validate(schema as z.ZodType<Record<string, unknown>>, raw, at);
    if (!step) return undefined;
    // Made by the peers' own net-* commands or by the kernel: chooseBackend decides once every step is read.
    const fault = kind === 'loss' ? 'loss' : kind === 'delay' ? 'delay' : kind === 'heal' ? 'heal' : kind === 'partition' || kind === 'isolate' || kind === 'cut' ? 'cut' : undefined;
    if (fault) this.netSteps.push({at: [...at, kind], kind, ...(this.needs?.fault(fault, kind) ?? {missing: []})});
    this.runnerCan(kind, [...at, kind]);
    switch (kind) {
      case 'start':
        return {...base, kind, title: `start ${targetText(step.start)}`, target: this.target(step.start, [...at, 'start'])};
      case 'kill':
        return {...base, kind, title: `kill ${targetText(step.kill)}`, target: this.target(step.kill, [...at, 'kill'])};
      case 'stop':
        return {...base, kind, title: `stop ${targetText(step.stop)}`, target: this.target(step.stop, [...at, 'stop'])};
      case 'sleep': {
        const ms = parseDuration(step.sleep as string)!;
        this.withinTimeout(ms, step.sleep as string, [...at, 'sleep']);
        return {...base, kind, title: `sleep ${formatDuration(ms)}`, ms};
      }
      case 'terminate':
      case 'restart':
      case 'pause':
      case 'resume':
      case 'isolate': {
        const value = step[kind];
        return {...base, kind, title: `${kind} ${targetText(value)}`, target: this.target(value, [...at, kind])};
      }
      case 'partition': {
        const value = step.partition as string | string[][];
        if (typeof value === 'string') return {...base, kind, title: `partition ${value}`, shape: value};
        this.groups(value, [...at, 'partition']);
        return {...base, kind, title: `partition ${value.map((g) => `[${g.join(', ')}]`).join(' ')}`, groups: value};
      }
      case 'cut': {
        const cut = step.cut as {from: unknown; to: unknown};
        return {
          ...base,
          kind,
          title: `cut ${targetText(cut.from)} -> ${targetText(cut.to)}`,
          from: this.target(cut.from, [...at, 'cut', 'from']),
          to: this.target(cut.to, [...at, 'cut', 'to']),
        };
      }
      case 'heal':
        return {...base, kind, title: 'heal all'};
      case 'loss': {
        const loss = step.loss as {rate: string | number; between?: string[][]};
        const rate = typeof loss.rate === 'number' ? loss.rate : Number(loss.rate.slice(0, -1)) / 100;
        if (rate > 1) this.ctx.problem([...at, 'loss', 'rate'], 'expected at most 100%');
        if (loss.between) this.groups(loss.between, [...at, 'loss', 'between']);
        const where = loss.between ? ` between ${loss.between.map((g) => `[${g.join(', ')}]`).join(' ')}` : '';
        return {...base, kind, title: `loss ${+(rate * 100).toFixed(2)}%${where}`, rate, ...(loss.between ? {between: loss.between} : {})};
      }
      case 'delay': {
        const delay = step.delay as {ms: number; jitter?: number; between?: string[][]};
        if (delay.between) this.groups(delay.between, [...at, 'delay', 'between']);
        const where = delay.between ? ` between ${delay.between.map((g) => `[${g.join(', ')}]`).join(' ')}` : '';
        return {...base, kind, title: `delay ${delay.ms}ms±${delay.jitter ?? 0}${where}`, ms: delay.ms, jitter: delay.jitter ?? 0, ...(delay.between ? {between: delay.between} : {})};
      }
      case 'wait':
        return {...base, kind: 'wait-nemesis', title: 'wait for the nemesis'};
      case 'await':
        return this.awaitStep(step, at, base);
      case 'on':
        return this.runStep(step, at, base);
    }
  }

  awaitStep(step: Record<string, unknown>, at: PathKey[], base: {path: string; line: number}): PlanStep | undefined {
    const withinText = (step.within as string).trim();
    const multiple = parseModelMultiple(withinText);
    let within: Within;
    if (multiple === undefined) {
      const ms = parseDuration(withinText)!;
      this.withinTimeout(ms, withinText, [...at, 'within']);
      within = {kind: 'ms', ms};
    } else {
      within = {kind: 'model', multiple};
    }
    const value = step.await;
    let condition: Condition;
    let text: string;
    if (value === 'converged' || value === 'delivered' || value === 'detected') {
      condition = {kind: value};
      text = value;
    } else if (typeof value === 'object' && value !== null && 'rejoined' in value) {
      const of = (value as {rejoined: string}).rejoined;
      this.name(of, [...at, 'await', 'rejoined']);
      condition = {kind: 'rejoined', of};
      text = `${of} rejoined`;
    } else {
      const s = (value as {state: {of: string; is: Condition & {kind: 'state'} extends {is: infer I} ? I : never; seen_by?: unknown}}).state;
      this.name(s.of, [...at, 'await', 'state', 'of']);
      let seenBy: string[] | 'all' = 'all';
      if (s.seen_by !== undefined && s.seen_by !== 'all') {
        const target = this.target(s.seen_by, [...at, 'await', 'state', 'seen_by']);
        if (target.kind === 'random') this.ctx.problem([...at, 'await', 'state', 'seen_by'], 'expected names or "all"; "random" observers would make the verdict depend on luck');
        seenBy = target.kind === 'names' ? target.names : 'all';
      }
      condition = {kind: 'state', of: s.of, is: s.is, seenBy};
      text = `${s.of} ${s.is} seen by ${seenBy === 'all' ? 'all' : seenBy.join(', ')}`;
    }
    const needs = conditionNeeds[condition.kind];
    if (needs) this.needs?.capabilities(needs, [...at, 'await'], `await ${condition.kind}`);
    if (within.kind === 'model' && !hasModel(condition.kind)) {
      this.ctx.problem([...at, 'within'], `${withinText}: the timing model has no figure for a state condition; use a duration, or await converged, detected, rejoined or delivered`);
    }
    const bound = within.kind === 'ms' ? formatDuration(within.ms) : within.multiple === 1 ? 'model' : `${within.multiple}x model`;
    return {...base, kind: 'await', title: `await ${text} within ${bound}`, condition, within};
  }

  runStep(step: Record<string, unknown>, at: PathKey[], base: {path: string; line: number}): PlanStep | undefined {
    const target = this.target(step.on, [...at, 'on']);
    const text = this.interpolate(step.run as string, [...at, 'run']);
    if (text === undefined) return undefined;
    let args: Args = {};
    let command = '';
    try {
      const [name, ...words] = splitWords(text);
      command = name ?? '';
      if (!this.commands) return undefined;
      const spec = this.commands.find((c) => c.name === command);
      if (!spec) {
        this.ctx.problem([...at, 'run'], `unknown command "${command}"; ${this.programText ? `the peer program (${this.programText}) offers` : 'peers offer'}: ${this.commands.map((c) => c.name).join(', ')}`);
        return undefined;
      }
      args = parseWords(spec, words);
    } catch (error) {
      this.ctx.problem([...at, 'run'], error instanceof CommandError ? error.message : String(error));
      return undefined;
    }
    const expect = step.expect === undefined ? undefined : (this.interpolateDeep(step.expect, [...at, 'expect']) as Record<string, unknown>);
    const timeoutMs = step.timeout ? parseDuration(step.timeout as string)! : 10_000;
    if (step.timeout) this.withinTimeout(timeoutMs, step.timeout as string, [...at, 'timeout']);
    return {
      ...base,
      kind: 'run',
      title: `on ${targetText(step.on)} run "${text}"${expect ? ` expect ${JSON.stringify(expect)}` : ''}`,
      target,
      command,
      args,
      text,
      ...(expect ? {expect} : {}),
      timeoutMs,
    };
  }

  groups(groups: string[][], at: PathKey[]): void {
    const seen = new Set<string>();
    groups.forEach((group, i) =>
      group.forEach((name, j) => {
        this.name(name, [...at, i, j]);
        if (seen.has(name)) this.ctx.problem([...at, i, j], `peer "${name}" is in more than one group`);
        seen.add(name);
      }),
    );
  }

  target(value: unknown, at: PathKey[]): Target {
    if (value === 'all') return {kind: 'all'};
    if (value === 'random') return {kind: 'random'};
    const names = Array.isArray(value) ? (value as string[]) : [value as string];
    names.forEach((n, i) => this.name(n, Array.isArray(value) ? [...at, i] : at));
    return {kind: 'names', names};
  }

  name(name: string, at: PathKey[]): void {
    if (this.checkNames && !this.peers.has(name)) {
      this.ctx.problem(at, `unknown peer "${name}"; this scenario's peers are ${[...this.peers].join(', ')}`);
    }
  }

  interpolate(text: string, at: PathKey[]): string | undefined {
    let ok = true;
    const out = text.replace(/\$\{(\w+)\}/g, (_, name: string) => {
      if (Object.hasOwn(this.vars, name)) return String(this.vars[name]);
      ok = false;
      this.ctx.problem(at, `unknown variable \${${name}}; define it under vars:`);
      return '';
    });
    return ok ? out : undefined;
  }

  interpolateDeep(value: unknown, at: PathKey[]): unknown {
    if (typeof value === 'string') return this.interpolate(value, at) ?? value;
    if (Array.isArray(value)) return value.map((v, i) => this.interpolateDeep(v, [...at, i]));
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.interpolateDeep(v, [...at, k])]));
    }
    return value;
  }
}

function targetText(value: unknown): string {
  return Array.isArray(value) ? value.join(', ') : String(value);
}
