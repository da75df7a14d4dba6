/**
 * `peerlab run [paths]`: loads every scenario first (any mistake stops the
 * run before a peer starts), runs each on fresh peers, reports, and exits
 * 0 only if all passed (1 failed, 3 undecided, 2 bad input).
 */
import {mkdir} from 'node:fs/promises';
import {killAllPeersNow} from '../fleet/fleet.js';
import {runSuite} from '../engine/runner.js';
import {exitCodes} from '../engine/results.js';
import {createReporters, ReporterMux} from '../reporters/index.js';
import {loadScenarios, ScenarioLoadError} from '../scenario/load.js';
import {peerCommandSpecs} from '../scenario/peer-commands.js';

export interface RunOptions {
  reporter: string[];
  out: string;
  seed?: number;
  filter?: string;
  bail: boolean;
  repeat: number;
  peersPerProcess?: number;
}

function matcher(filter: string): (text: string) => boolean {
  const regex = /^\/(.*)\/([a-z]*)$/.exec(filter);
  if (regex) {
    const re = new RegExp(regex[1]!, regex[2]);
    return (text) => re.test(text);
  }
  return (text) => text.toLowerCase().includes(filter.toLowerCase());
}

export async function run(paths: string[], options: RunOptions): Promise<number> {
  let reporters;
  try {
    reporters = createReporters(options.reporter, {outDir: options.out});
  } catch (error) {
    process.stderr.write(`peerlab run: --reporter: ${(error as Error).message}\n`);
    return exitCodes.usage;
  }
  let scenarios;
  try {
    scenarios = await loadScenarios(paths.length > 0 ? paths : ['scenarios'], await peerCommandSpecs());
  } catch (error) {
    if (!(error instanceof ScenarioLoadError)) throw error;
    process.stderr.write(`${error.message}\n${error.problems.length} problem${error.problems.length === 1 ? '' : 's'} in the scenarios; nothing was run.\n`);
    return exitCodes.usage;
  }
  if (options.filter) {
    const match = matcher(options.filter);
    scenarios = scenarios.filter((s) => match(s.name) || match(s.file));
    if (scenarios.length === 0) {
      process.stderr.write(`peerlab run: --filter ${options.filter} matches no scenario\n`);
      return exitCodes.usage;
    }
  }
  if (options.peersPerProcess) scenarios = scenarios.map((s) => ({...s, peersPerProcess: options.peersPerProcess!}));
  await mkdir(options.out, {recursive: true});
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    // Peers first, synchronously: whatever happens next, none outlives this command.
    killAllPeersNow();
    process.stderr.write(`\npeerlab run: ${signal}, stopped\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('exit', killAllPeersNow);
  const result = await runSuite(scenarios, {
    outDir: options.out,
    ...(options.seed !== undefined ? {seed: options.seed} : {}),
    repeat: options.repeat,
    bail: options.bail,
    reporter: new ReporterMux(reporters),
    signal: abort.signal,
  });
  return exitCodes[result.status];
}
