/**
 * `peerlab run [paths]`: loads every scenario first (any mistake stops the
 * run before a peer starts), runs each on fresh peers, reports, and exits
 * 0 only if all passed (1 failed, 3 undecided, 2 bad input). `--save-figures`
 * keeps every repeat's figures; `--baseline` compares them with an earlier
 * run's, and a run that passed then exits as the comparison does.
 */
import {access, constants, mkdir} from 'node:fs/promises';
import {killAllPeersNow, kubernetesSettings} from '../runners/factory.js';
import {dryRunManifests} from '../runners/kubernetes/dry-run.js';
import {cannot} from '../runners/limits.js';
import {runSuite} from '../engine/runner.js';
import {exitCodes} from '../engine/results.js';
import {createReporters, HtmlReporter, ReporterMux} from '../reporters/index.js';
import {startLiveServer} from '../live/server.js';
import type {LiveServer} from '../live/server.js';
import {loadScenarios, ScenarioLoadError} from '../scenario/load.js';
import {holdTimeout} from '../scenario/duration.js';
import {choosePeer} from './peer-choice.js';
import type {PeerFlags} from './peer-choice.js';
import {collectFigures, writeFigures} from '../compare/figures-file.js';
import type {FiguresFile} from '../compare/figures-file.js';
import {currentCommit} from '../compare/commit.js';
import {loadFigures, printComparison} from './compare.js';

export interface RunOptions extends PeerFlags {
  reporter: string[];
  /** Serve a live view of the running scenario. */
  watch?: boolean;
  watchPort?: number;
  out: string;
  seed?: number;
  filter?: string;
  bail: boolean;
  repeat: number;
  peersPerProcess?: number;
  /** `--timeout`, in ms: hold every scenario to at most this long. */
  timeout?: number;
  /** Where to write every repeat's figures. */
  saveFigures?: string;
  /** Figures to compare this run's with, after it. */
  baseline?: string;
  alpha?: number;
  threshold?: number;
  figures?: string[];
}

/** `--filter`: a substring (case-insensitive), or a /regex/flags. */
export function filterMatcher(filter: string): (text: string) => boolean {
  const regex = /^\/(.*)\/([a-z]*)$/s.exec(filter);
  if (regex) {
    let re: RegExp;
    try {
      re = new RegExp(regex[1]!, regex[2]);
    } catch (error) {
      throw new Error(`not a valid regular expression: ${(error as Error).message}`);
    }
    // A global or sticky regex keeps lastIndex between tests: the same name would match, then not.
    if (re.global || re.sticky) re = new RegExp(re.source, re.flags.replace(/[gy]/g, ''));
    return (text) => re.test(text);
  }
  return (text) => text.toLowerCase().includes(filter.toLowerCase());
}

/** The --out folder, made and writable; else why not. Checked before any peer starts, so nothing is left behind. */
async function outProblem(out: string): Promise<string | undefined> {
  try {
    await mkdir(out, {recursive: true});
    await access(out, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return e.code === 'EEXIST' || e.code === 'ENOTDIR' ? 'not a folder' : e.code === 'EACCES' || e.code === 'EPERM' ? 'not writable' : e.message;
  }
}

export async function run(paths: string[], options: RunOptions): Promise<number> {
  let reporters;
  try {
    reporters = createReporters(options.reporter, {outDir: options.out});
  } catch (error) {
    process.stderr.write(`peerlab run: --reporter: ${(error as Error).message}\n`);
    return exitCodes.usage;
  }
  const peer = await choosePeer('peerlab run', options);
  if (!peer) return exitCodes.usage;
  let scenarios;
  try {
    scenarios = await loadScenarios(paths.length > 0 ? paths : ['scenarios'], peer.programs, peer.faults, peer.runner);
  } catch (error) {
    if (!(error instanceof ScenarioLoadError)) throw error;
    process.stderr.write(`${error.message}\n${error.problems.length} problem${error.problems.length === 1 ? '' : 's'} in the scenarios; nothing was run.\n`);
    return exitCodes.usage;
  }
  if (options.filter) {
    let match;
    try {
      match = filterMatcher(options.filter);
    } catch (error) {
      process.stderr.write(`peerlab run: --filter: ${(error as Error).message}\n`);
      return exitCodes.usage;
    }
    scenarios = scenarios.filter((s) => match(s.name) || match(s.file));
    if (scenarios.length === 0) {
      process.stderr.write(`peerlab run: --filter ${options.filter} matches no scenario\n`);
      return exitCodes.usage;
    }
  }
  const oneEach = peer.runner.limits.peersPerProcess;
  if (options.peersPerProcess && options.peersPerProcess > 1 && oneEach !== undefined) {
    process.stderr.write(`peerlab run: --peers-per-process ${options.peersPerProcess}: ${cannot(peer.runner, `run ${options.peersPerProcess} peers in one process`, oneEach)}; nothing was run.\n`);
    return exitCodes.usage;
  }
  if (options.dryRun) {
    const settings = kubernetesSettings();
    if (peer.runner.kind !== 'kubernetes' || !settings) {
      process.stderr.write(`peerlab run: --dry-run: only the kubernetes runner has manifests to print (--runner kubernetes); nothing was run.\n`);
      return exitCodes.usage;
    }
    process.stdout.write(dryRunManifests(scenarios, settings));
    return exitCodes.pass;
  }
  if (options.peersPerProcess) scenarios = scenarios.map((s) => ({...s, peersPerProcess: options.peersPerProcess!}));
  if (options.timeout) scenarios = scenarios.map((s) => holdTimeout(s, options.timeout!));
  const shared = scenarios.find((s) => s.faults === 'kernel' && s.peersPerProcess > 1);
  if (shared) {
    process.stderr.write(`peerlab run: --peers-per-process ${shared.peersPerProcess}: ${shared.file} (${shared.name}) runs with kernel faults, which tell peers apart by their addresses, and peers in one process share one; nothing was run.\n`);
    return exitCodes.usage;
  }
  const problem = await outProblem(options.out);
  if (problem) {
    process.stderr.write(`peerlab run: --out ${options.out}: ${problem}; nothing was run.\n`);
    return exitCodes.usage;
  }
  let baseline: FiguresFile | undefined;
  if (options.baseline) {
    // Read first: a bad baseline stops the command before a peer starts, not after minutes of runs.
    baseline = await loadFigures('peerlab run: --baseline', options.baseline);
    if (!baseline) return exitCodes.usage;
  }
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    // Peers first, synchronously: whatever happens next, none outlives this command.
    killAllPeersNow();
    process.stderr.write(`\npeerlab run: ${signal}, stopped\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  let watch: LiveServer | undefined;
  if (options.watch) {
    try {
      watch = await startLiveServer({port: options.watchPort ?? 0});
    } catch (error) {
      process.stderr.write(`peerlab run: --watch: ${(error as Error).message}; nothing was run.\n`);
      return exitCodes.usage;
    }
    process.stdout.write(`live view: ${watch.url}\n`);
  }
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('exit', killAllPeersNow);
  let result;
  try {
    result = await runSuite(scenarios, {
      outDir: options.out,
      ...(options.seed !== undefined ? {seed: options.seed} : {}),
      repeat: options.repeat,
      bail: options.bail,
      reporter: new ReporterMux(reporters),
      signal: abort.signal,
      runner: peer.runner.kind,
      ...(peer.listen ? {listen: peer.listen} : {}),
      report: reporters.some((r) => r instanceof HtmlReporter),
      ...(watch ? {onHistory: (history) => watch.view.setSource(history)} : {}),
    });
  } finally {
    await watch?.close();
  }
  const runCode = exitCodes[result.status];
  if (!options.saveFigures && !baseline) return runCode;
  const commit = await currentCommit();
  const figures = collectFigures(result.scenarios, {createdAt: new Date().toISOString(), ...(commit ? {commit} : {})});
  if (options.saveFigures) {
    try {
      await writeFigures(options.saveFigures, figures);
    } catch (error) {
      process.stderr.write(`peerlab run: --save-figures ${options.saveFigures}: ${(error as Error).message}\n`);
      return runCode !== exitCodes.pass ? runCode : exitCodes.usage;
    }
    process.stdout.write(`figures of ${result.scenarios.length} ${result.scenarios.length === 1 ? 'run' : 'runs'} saved to ${options.saveFigures}\n`);
  }
  if (!baseline) return runCode;
  process.stdout.write(`\ncompared with ${options.baseline}:\n`);
  const compareCode = printComparison(baseline, figures, {alpha: options.alpha ?? 0.05, threshold: options.threshold ?? 0.25, json: false, ...(options.figures ? {figures: options.figures} : {})});
  // The run's own failure comes first: a comparison of a broken run's figures does not make it pass.
  return runCode !== exitCodes.pass ? runCode : compareCode;
}
