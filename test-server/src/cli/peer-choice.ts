/**
 * Which program the peers of `peerlab run` and `peerlab up` run, and what
 * runs them (`--runner` over the config file's `runner:`, default local): the
 * `--peer` flag, else (for run) the scenario's `peer:` key, else the config
 * file's `peer:` key, else the reference peer. Everything named is read and
 * checked here, before any peer starts; a problem is written to stderr,
 * located, and the command exits 2.
 */
import {CommandError, splitWords} from '@peerlab/client-agent';
import {InvalidArgumentError} from 'commander';
import type {PeerPrograms} from '../scenario/load.js';
import type {PeerProgram} from '../peer-program/program.js';
import {ConfigError, findConfigFile, loadConfigFile} from '../peer-program/config-file.js';
import type {PeerlabConfig} from '../peer-program/config-file.js';
import {formatProblem} from '../scenario/problems.js';
import {checkPeerProgram} from '../peer-program/peer-commands.js';
import {referencePeer} from '../peer-program/reference.js';
import {FAULTS_MODES} from '../faults/backend.js';
import type {FaultsMode} from '../faults/backend.js';
import type {FaultsChoice} from '../faults/choose.js';
import {kernelSupport} from '../faults/kernel/nft.js';
import type {KernelSupport} from '../faults/kernel/nft.js';
import {RUNNER_KINDS} from '../runners/runner.js';
import type {RunnerKind, RunnerModule} from '../runners/runner.js';
import {configureKubernetes, runnerModule} from '../runners/factory.js';
import {configureSwarm} from '../runners/swarm/settings.js';
import {coordinatorListen, settingsProblem} from '../runners/kubernetes/settings.js';
import {loadKubeConfig} from '../runners/kubernetes/api.js';
import type {CoordinatorListen, KubernetesSettings} from '../runners/kubernetes/settings.js';
import {cannot} from '../runners/limits.js';

export interface PeerFlags {
  /** --peer, already split into words. */
  peer?: string[];
  /** --config: the config file instead of the one found from the current folder. */
  config?: string;
  /** --faults: what makes network faults (over a scenario's and the config file's faults:). */
  faults?: FaultsMode;
  /** --runner: what runs the peers (over the config file's runner:). */
  runner?: RunnerKind;
  /** The kubernetes runner's: --kubeconfig, --namespace, --image, --coordinator-address. */
  kubeconfig?: string;
  namespace?: string;
  image?: string;
  coordinatorAddress?: string;
  /** peerlab run --dry-run: the manifests only, no cluster asked (its kubeconfig is not read). */
  dryRun?: boolean;
}

/** `--runner local|swarm|kubernetes`: any kind peerlab knows; whether this build has it is said later, with exit 2. */
export function runnerFlag(value: string): RunnerKind {
  if (!(RUNNER_KINDS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${RUNNER_KINDS.join(', ')}`);
  return value as RunnerKind;
}

/** `--faults peer|kernel|auto`. */
export function faultsFlag(value: string): FaultsMode {
  if (!(FAULTS_MODES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${FAULTS_MODES.join(', ')}`);
  return value as FaultsMode;
}

/**
 * `--peer "<command line>"` split into words without a shell (quotes and
 * backslashes only: no variables, globs or pipes), so what was typed is
 * exactly the program's argv and no part of it runs as a shell command.
 */
export function peerFlag(value: string): string[] {
  let words: string[];
  try {
    words = splitWords(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof CommandError ? error.message : String(error));
  }
  if (words.length === 0) throw new InvalidArgumentError('expected a command line: the program, then its own arguments');
  return words;
}

export interface PeerChoice {
  /** The program of every scenario without a peer: key, and of `peerlab up`: --peer, else the config file's, else the reference peer. */
  fallback: PeerProgram;
  /** For the scenario loader: --peer over a scenario's own key over the fallback. */
  programs: PeerPrograms;
  /** The fallback's command names (for `peerlab up`'s choice of fault backend). */
  fallbackCommands: readonly string[];
  /** For the scenario loader: --faults, the config file's faults:, and what this machine and the runner allow. */
  faults: FaultsChoice;
  /** What runs the peers, with what it cannot do (the loader refuses scenarios that need it). */
  runner: RunnerModule;
  /** Where the coordinator must listen for the runner's peers to reach it (kubernetes: its coordinator address). */
  listen?: CoordinatorListen;
}

/** The program the flags and the config file name, and how to word a problem with it where it was named. */
export interface NamedPeer {
  program: PeerProgram;
  /** The origin of `program` when it came from the flag. */
  fromFlag: boolean;
  /** A problem with the program (a sentence from the program check), located where it was named. */
  locate(message: string): string;
  /** The config file read, if any (its other keys, such as faults:, apply too). */
  config?: PeerlabConfig | undefined;
}

/**
 * Reads the config file and the flag: --peer, else the config file's peer:,
 * else the reference peer; a string saying why not when the config file is
 * broken. Nothing is run here.
 */
export async function namePeer(command: string, flags: PeerFlags): Promise<NamedPeer | string> {
  let config: PeerlabConfig | undefined;
  try {
    const file = flags.config ?? (await findConfigFile(process.cwd()));
    if (file) config = await loadConfigFile(file);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  const flag: PeerProgram | undefined = flags.peer ? {command: flags.peer, cwd: process.cwd(), env: {}, origin: '--peer'} : undefined;
  const program = flag ?? config?.peer ?? referencePeer();
  const locate = (message: string): string => {
    if (program === flag) return `${command}: --peer: ${message}`;
    if (config?.peer && program === config.peer) {
      const field = message.startsWith('cwd ') ? 'cwd' : 'command';
      return formatProblem({file: config.file, ...config.position(['peer', field]), field: `peer.${field}`, message});
    }
    return `${command}: the reference peer: ${message}`;
  };
  return {program, fromFlag: program === flag, locate, config};
}

/**
 * Reads the config file and the flag and checks the fallback program (it
 * runs, it answers --describe-commands); undefined after writing why not.
 */
export async function choosePeer(command: string, flags: PeerFlags): Promise<PeerChoice | undefined> {
  const fail = (message: string): undefined => {
    process.stderr.write(`${message}\n${command === 'peerlab up' ? 'no peer was started' : 'nothing was run'}.\n`);
    return undefined;
  };
  const named = await namePeer(command, flags);
  if (typeof named === 'string') return fail(named);
  const fallback = named.program;
  const check = await checkPeerProgram(fallback);
  if (!check.ok) return fail(named.locate(check.message));
  const flag = named.fromFlag ? fallback : undefined;
  const kind = flags.runner ?? named.config?.runner ?? 'local';
  let listen: CoordinatorListen | undefined;
  if (kind === 'kubernetes') {
    const settings: KubernetesSettings = {
      // The flags over the config file's kubernetes: keys.
      ...named.config?.kubernetes,
      ...(flags.kubeconfig ? {kubeconfig: flags.kubeconfig} : {}),
      ...(flags.namespace ? {namespace: flags.namespace} : {}),
      ...(flags.image ? {image: flags.image} : {}),
      ...(flags.coordinatorAddress ? {coordinatorAddress: flags.coordinatorAddress} : {}),
    };
    let problem = settingsProblem(settings);
    if (!problem && !flags.dryRun) {
      try {
        loadKubeConfig(settings);
      } catch (error) {
        problem = (error as Error).message;
      }
    }
    if (problem) {
      if (flags.runner) return fail(`${command}: --runner kubernetes: ${problem}`);
      return fail(formatProblem({file: named.config!.file, ...named.config!.position(['runner']), field: 'runner', message: problem}));
    }
    configureKubernetes(settings);
    listen = coordinatorListen(settings.coordinatorAddress!);
  }
  if (kind === 'swarm') {
    configureSwarm({
      ...(flags.image ? {image: flags.image} : {}),
      // A URL (as the kubernetes runner takes it) or a bare host: the swarm runner needs the host.
      ...(flags.coordinatorAddress ? {coordinatorAddress: flags.coordinatorAddress.includes('://') ? new URL(flags.coordinatorAddress).hostname : flags.coordinatorAddress} : {}),
    });
  }
  const runner = runnerModule(kind);
  if ('unavailable' in runner) {
    if (flags.runner) return fail(`${command}: --runner ${kind}: ${runner.unavailable}`);
    return fail(formatProblem({file: named.config!.file, ...named.config!.position(['runner']), field: 'runner', message: runner.unavailable}));
  }
  let support: KernelSupport | undefined;
  const noKernel = runner.limits.kernelFaults;
  const faults: FaultsChoice = {
    ...(flags.faults ? {flag: flags.faults} : {}),
    ...(named.config?.faults ? {config: {mode: named.config.faults, file: named.config.file, ...named.config.position(['faults'])}} : {}),
    kernel: () => (support ??= noKernel !== undefined ? {ok: false, reason: cannot(runner, 'make kernel faults', noKernel)} : kernelSupport()),
  };
  // Refused here, once, before any scenario loads: the flag applies to all of them.
  if (flags.faults === 'kernel') {
    const here = faults.kernel();
    if (!here.ok) return fail(`${command}: --faults kernel: ${here.reason}`);
  }
  return {
    fallback,
    fallbackCommands: check.specs.map((s) => s.name),
    faults,
    runner,
    ...(listen ? {listen} : {}),
    programs: {
      choose: (own) => flag ?? own ?? fallback,
      check: checkPeerProgram,
    },
  };
}
