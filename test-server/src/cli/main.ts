/**
 * The `peerlab` command. Flags are checked here, at the edge; a bad flag
 * exits 2 with a message naming it before anything starts.
 */
import {Command, InvalidArgumentError, Option} from 'commander';
import {up} from './up.js';
import {parseAuthority} from '@peerlab/node-kit/host-guard';
import {filterMatcher, run} from './run.js';
import {check} from './check.js';
import {checkList, conform} from './conform.js';
import {CHECK_NAMES} from '../conform/checks.js';
import {faultsFlag, peerFlag, runnerFlag} from './peer-choice.js';
import type {RunnerKind} from '../runners/runner.js';
import {RUNNER_KINDS} from '../runners/runner.js';
import {down} from './down.js';
import type {FaultsMode} from '../faults/backend.js';
import {report} from './report.js';
import {alphaArgument, compare, DEFAULT_ALPHA, DEFAULT_THRESHOLD, figureNames, thresholdArgument} from './compare.js';
import {MIN_TOKEN_LENGTH, tokenArgument} from '@peerlab/node-kit/token';
import {isValidPeerName} from '@peerlab/events/names';
import {CONFIG_FILE_NAME} from '../peer-program/config-file.js';
import {durationProblem, parseDuration} from '../scenario/duration.js';
import {PEER_PROFILES} from '../peer-program/profile.js';
import type {PeerProfile} from '../peer-program/profile.js';

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer ${min}-${max}`);
    return n;
  };
}

function nameList(value: string): string[] {
  const names = value.split(',').map((n) => n.trim()).filter(Boolean);
  const bad = names.filter((n) => !isValidPeerName(n));
  if (names.length === 0 || bad.length > 0) throw new InvalidArgumentError(`expected comma-separated names of A-Z a-z 0-9 . _ -${bad.length > 0 ? `; bad: ${bad.join(', ')}` : ''}`);
  if (new Set(names).size !== names.length) throw new InvalidArgumentError('names must be unique');
  return names;
}

/** Checks --filter when the flag is read, so a bad /regex/ stops the command before it loads or starts anything. */
function filter(value: string): string {
  try {
    filterMatcher(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
  return value;
}

/** `--timeout`: a duration as scenarios write it, within the range of a scenario's own timeout. */
function timeoutFlag(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 90s or 5m');
  const problem = durationProblem(value, 'timeout');
  if (problem) throw new InvalidArgumentError(problem);
  return ms;
}

/** A Host header value the coordinator should also answer to: a name with an optional port. */
function allowedHost(value: string, previous: string[]): string[] {
  if (parseAuthority(value, 0) === undefined) throw new InvalidArgumentError('expected a host name or address, optionally with :port');
  return [...previous, value];
}

export async function main(argv: string[]): Promise<void> {
  const program = new Command('peerlab')
    .description('Multi-client test orchestration for peer-to-peer systems')
    .showHelpAfterError()
    .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));

  program
    .command('up')
    .description('start a coordinator and N local peers, then drive them from a prompt')
    .option('--peers <n>', 'how many peers (default 3)', integer(1, 1000))
    .option('--names <a,b,...>', 'peer names instead of a count', nameList)
    .option('--host <host>', 'address to listen on; beyond loopback a token is required', '127.0.0.1')
    .option('--port <port>', 'HTTP port for the REST API and agents (0 picks one)', integer(0, 65535), 0)
    .option('--token <token>', `run token, at least ${MIN_TOKEN_LENGTH} characters (default: generated)`, tokenArgument)
    .addOption(new Option('--profile <profile>', 'peer timing profile').choices(PEER_PROFILES).default('local'))
    .option('--logs <dir>', 'where per-peer logs go (default runs/<run-id>/logs)')
    .option('--data-dir <dir>', "where each peer's own folder goes, <dir>/<name>: the files run, load-config and save-config reach (default runs/<run-id>/peers, or <logs>/peers)")
    .option('--grace <ms>', 'peers exit when the coordinator is unreachable this long', integer(100, 600_000), 3000)
    .option('--peers-per-process <k>', 'run K peers in each process (for scale)', integer(1, 1000), 1)
    .option('--allowed-host <name>', 'a name clients reach the coordinator by (Host header), besides its address; repeatable', allowedHost, [])
    .option('--serve', 'no prompt: run until SIGINT or SIGTERM (drive the peers over REST)', false)
    .option('--no-prompt', 'the same as --serve')
    .option('--peer <command line>', 'the program the peers run, split into words without a shell (default: the config file\'s, else the reference peer)', peerFlag)
    .option('--config <file>', `the config file (default: ${CONFIG_FILE_NAME} in the current folder or the nearest above it)`)
    .option('--faults <mode>', 'what makes network faults: peer (the peers\' net-* commands), kernel (nftables; root, no delay) or auto (default: a scenario\'s or the config file\'s faults:, else auto)', faultsFlag)
    .option('--runner <kind>', `what runs the peers: ${RUNNER_KINDS.join(', ')} (default: the config file's runner:, else local)`, runnerFlag)
    .option('--kubeconfig <file>', 'with --runner kubernetes: the cluster to run on (default: KUBECONFIG, else ~/.kube/config)')
    .option('--namespace <name>', "with --runner kubernetes: the namespace (default: the kubeconfig context's, else default)")
    .option('--image <image>', 'with --runner swarm or kubernetes: the image that holds the peer, as the engine gets it (swarm default: the reference peer\'s, made here from this Node)')
    .option('--coordinator-address <url>', 'with --runner kubernetes: the coordinator as the pods reach it, e.g. http://10.0.0.5 (it listens there, on the port given, else any, which the pods are told); never 127.0.0.1, which in a pod is the pod. With --runner swarm: the host peers on other nodes reach it at (its port stays its own)')
    .action(async (opts: {peer?: string[]; config?: string; faults?: FaultsMode; runner?: RunnerKind; kubeconfig?: string; namespace?: string; image?: string; coordinatorAddress?: string; peers?: number; names?: string[]; host: string; port: number; token?: string; profile: PeerProfile; logs?: string; dataDir?: string; grace: number; peersPerProcess: number; allowedHost: string[]; serve: boolean; prompt: boolean}) => {
      if (opts.peers !== undefined && opts.names) {
        process.stderr.write('peerlab up: give --peers or --names, not both\n');
        process.exit(2);
      }
      process.exitCode = await up({...opts, allowedHosts: opts.allowedHost, serve: opts.serve || !opts.prompt});
    });

  program
    .command('run')
    .description('run scenario files or folders (default: scenarios/) on fresh local peers')
    .argument('[paths...]', 'scenario files or folders')
    .option('--reporter <names...>', 'list, json, junit, html (several allowed, or comma-separated)', ['list'])
    .option('--watch', 'serve a live view of the running scenario on 127.0.0.1 and print its address', false)
    .option('--watch-port <port>', 'with --watch: the port of the live view (0 picks one)', integer(0, 65535), 0)
    .option('--out <dir>', 'where run folders and report files go', 'runs')
    .option('--seed <n>', 'seed for every random choice (default: the scenario\'s, else fresh)', integer(0, 2 ** 31 - 1))
    .option('--filter <text>', 'only scenarios whose name or file contains the text (or matches /regex/)', filter)
    .option('--bail', 'stop at the first scenario that does not pass', false)
    .option('--repeat <k>', 'run everything K times (to hunt flakes)', integer(1, 10_000), 1)
    .option('--peers-per-process <k>', 'run K peers in each process, overriding the scenarios (for scale)', integer(1, 1000))
    .option('--timeout <duration>', "hold every scenario to at most this long (e.g. 90s, 5m); a scenario's shorter timeout stands", timeoutFlag)
    .option('--save-figures <file>', "write every repeat's figures to FILE, a baseline for peerlab compare or --baseline")
    .option('--baseline <file>', 'compare the figures with a baseline (a --save-figures file or a results.json) and exit 1 on a significant regression')
    .option('--alpha <p>', 'with --baseline: significance level over all figures', alphaArgument, DEFAULT_ALPHA)
    .option('--threshold <percent>', 'with --baseline: smallest change of a median that counts', thresholdArgument, DEFAULT_THRESHOLD)
    .option('--figures <names>', 'with --baseline: compare only these figures (comma-separated names, e.g. converge_ms,rejoin_ms)', figureNames)
    .option('--peer <command line>', 'the program the peers run, split into words without a shell; over any scenario\'s peer: key and the config file\'s', peerFlag)
    .option('--config <file>', `the config file (default: ${CONFIG_FILE_NAME} in the current folder or the nearest above it)`)
    .option('--faults <mode>', 'what makes network faults: peer (the peers\' net-* commands), kernel (nftables; root, no delay) or auto (default: a scenario\'s or the config file\'s faults:, else auto)', faultsFlag)
    .option('--runner <kind>', `what runs the peers: ${RUNNER_KINDS.join(', ')} (default: the config file's runner:, else local)`, runnerFlag)
    .option('--kubeconfig <file>', 'with --runner kubernetes: the cluster to run on (default: KUBECONFIG, else ~/.kube/config)')
    .option('--namespace <name>', "with --runner kubernetes: the namespace (default: the kubeconfig context's, else default)")
    .option('--image <image>', 'with --runner swarm or kubernetes: the image that holds the peer, as the engine gets it (swarm default: the reference peer\'s, made here from this Node)')
    .option('--coordinator-address <url>', 'with --runner kubernetes: the coordinator as the pods reach it, e.g. http://10.0.0.5 (it listens there, on the port given, else any, which the pods are told); never 127.0.0.1, which in a pod is the pod. With --runner swarm: the host peers on other nodes reach it at (its port stays its own)')
    .option('--dry-run', 'with --runner kubernetes: print the manifests each scenario would create, as YAML, and run nothing', false)
    .action(async (paths: string[], opts: {peer?: string[]; config?: string; faults?: FaultsMode; runner?: RunnerKind; kubeconfig?: string; namespace?: string; image?: string; coordinatorAddress?: string; dryRun: boolean; reporter: string[]; watch: boolean; watchPort: number; out: string; seed?: number; filter?: string; bail: boolean; repeat: number; peersPerProcess?: number; timeout?: number; saveFigures?: string; baseline?: string; alpha: number; threshold: number; figures?: string[]}) => {
      process.exitCode = await run(paths, opts);
    });

  program
    .command('down')
    .description("remove what a run left behind (its peers' processes, services, containers, networks), asking every runner; without a run id, what runs whose coordinator is gone left")
    .argument('[run-id]', 'the run id (the run folder\'s name, or the id peerlab up prints)')
    .option('--kubeconfig <file>', 'the cluster the kubernetes runner looks in (default: KUBECONFIG, else ~/.kube/config; none: it looks nowhere)')
    .option('--namespace <name>', "the namespace it looks in (default: the kubeconfig context's, else default)")
    .action(async (runId: string | undefined, opts: {kubeconfig?: string; namespace?: string}) => {
      process.exitCode = await down(runId, opts);
    });

  program
    .command('conform')
    .description('run the agent-protocol conformance checks against a peer program (any language) and print what passes')
    .option('--peer <command line>', 'the program to check, split into words without a shell (default: the config file\'s, else the reference peer)', peerFlag)
    .option('--config <file>', `the config file (default: ${CONFIG_FILE_NAME} in the current folder or the nearest above it)`)
    .option('--only <checks>', `run only these checks, comma-separated: ${CHECK_NAMES.join(', ')}`, (value: string) => {
      try {
        return checkList(value);
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message);
      }
    })
    .option('--probe <command>', 'a command without side effects or required arguments that checks may send and expect ok (default: the first of status, ping, net-status, members, messages, echo the peer offers)')
    .option('--logs <dir>', 'keep the peers\' logs here, one folder per check (default: a temporary folder, kept only when a check fails)')
    .option('--json', 'print the results as JSON instead of a table', false)
    .addHelpText('after', '\nExit codes: 0 every check passed (or skipped, with its reason), 1 a check failed, 2 bad input.\nThe checks and what each needs are in docs/PROTOCOL.md, "Checking a peer with peerlab conform".\n')
    .action(async (opts: {peer?: string[]; config?: string; only?: string[]; probe?: string; logs?: string; json: boolean}) => {
      process.exitCode = await conform(opts);
    });

  program
    .command('compare')
    .description("compare two runs' figures, repeat by repeat, and exit 1 on a significant regression")
    .argument('<baseline>', 'a peerlab run --save-figures file, a results.json, or the run folder holding it')
    .argument('<new>', 'the same, for the run to judge')
    .option('--alpha <p>', 'significance level over all figures (Bonferroni)', alphaArgument, DEFAULT_ALPHA)
    .option('--threshold <percent>', 'smallest change of a median that counts', thresholdArgument, DEFAULT_THRESHOLD)
    .option('--figures <names>', 'compare only these figures (comma-separated names, e.g. converge_ms,rejoin_ms)', figureNames)
    .option('--json', 'print the comparison as JSON instead of a table', false)
    .action(async (baseline: string, next: string, opts: {alpha: number; threshold: number; json: boolean; figures?: string[]}) => {
      process.exitCode = await compare(baseline, next, opts);
    });

  program
    .command('report')
    .description("write a run's HTML report from its history alone and print the path of its index.html")
    .argument('<run>', 'a run folder (runs/<run-id>) or its history.jsonl')
    .option('--out <dir>', 'where the report goes (default: report/ beside the history)')
    .action(async (target: string, opts: {out?: string}) => {
      process.exitCode = await report(target, opts);
    });

  program
    .command('check')
    .description('re-run the checkers on a recorded history and print the verdict')
    .argument('<history>', 'a runs/<run-id>/history.jsonl file')
    .action(async (file: string) => {
      process.exitCode = await check(file);
    });

  await program.parseAsync(argv);
}
