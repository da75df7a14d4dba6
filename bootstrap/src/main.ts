// Stand-alone entry point: `peerlab-bootstrap`. Importing this module runs the CLI,
// so library users import server.ts / router.ts / store.ts instead.

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { startBootstrapServer } from './server.js';
import type { BootstrapServer } from './server.js';
import { BootstrapFileError, MAX_MAXPEERS, MIN_MAXPEERS } from './store.js';
import { createStore } from './create-store.js';
import { parseStoreSpec, STORE_FORMS, StoreSpecError } from './store-spec.js';
import type { StoreSpec } from './store-spec.js';
import { MIN_TOKEN_LENGTH, tokenArgument } from '@peerlab/node-kit/token';

// Usage errors exit 2 (the shell convention), distinct from runtime failures (1).
const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

const STORE_ENV = 'PEERLAB_BOOTSTRAP_STORE';

interface CliOptions {
  host: string;
  port: number;
  store: StoreSpec;
  file?: string;
  maxpeers?: number;
  token?: string;
  allowedHost: string[];
}

function integer(min: number, max: number): (value: string) => number {
  return (value) => {
    // Number('') is 0 and Number('1e3') is 1000; accept plain digits only.
    const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer ${min}-${max}.`);
    }
    return n;
  };
}

function nonEmpty(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a non-empty value.');
  return value;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, nonEmpty(value)];
}

function parseArgs(argv: string[]): CliOptions {
  const program = new Command()
    .name('peerlab-bootstrap')
    .description('Bootstrap data service: tells joining peers whom to contact.')
    .option('--host <host>', 'interface to listen on', nonEmpty, '127.0.0.1')
    .option('--port <port>', 'port to listen on, 0 = pick a free one', integer(0, 65535), 0)
    // Parsed after commander, not by it: commander would echo a bad value, password and all.
    .addOption(new Option('--store <store>', `where the state lives: ${STORE_FORMS} (default: in memory)`).env(STORE_ENV))
    .option('--file <path>', 'state file (created on first change); same as --store file:PATH', nonEmpty)
    // No commander default: an explicit value overrides the state file, the default must not.
    .option('--maxpeers <n>', `contacts handed out, ${MIN_MAXPEERS}-${MAX_MAXPEERS} (default 8 for a new state)`, integer(MIN_MAXPEERS, MAX_MAXPEERS))
    // From the environment too: a flag's value is visible to anyone running ps.
    .addOption(
      new Option('--token <token>', `bearer token every request must carry, at least ${MIN_TOKEN_LENGTH} characters; required beyond loopback (default there: generated and printed)`)
        .env('PEERLAB_BOOTSTRAP_TOKEN')
        // Checked whether it comes from the flag or from the environment.
        .argParser(tokenArgument),
    )
    .option('--allowed-host <name>', 'a name clients reach this service by (Host header), besides its address; repeatable', collect, [])
    .exitOverride();
  try {
    program.parse(argv);
  } catch (error) {
    // Commander has already printed the message (or the help text).
    if (error instanceof CommanderError) process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
    throw error;
  }
  const options = program.opts<Omit<CliOptions, 'store'> & { store?: string }>();
  return { ...options, store: storeSpec(options.store, program.getOptionValueSource('store'), options.file) };
}

/**
 * The store the flags and the environment name. --file is --store file:PATH; both
 * flags at once is a usage error, and a flag wins over the environment.
 */
function storeSpec(value: string | undefined, source: string | undefined, file: string | undefined): StoreSpec {
  if (source === 'cli' && file !== undefined) {
    usageError(`--file and --store both name the store; give one (--file PATH is --store file:PATH)`);
  }
  if (file !== undefined) return { kind: 'file', file };
  if (value === undefined) return { kind: 'memory' };
  try {
    return parseStoreSpec(value);
  } catch (error) {
    if (!(error instanceof StoreSpecError)) throw error;
    usageError(`${source === 'env' ? `${STORE_ENV} (environment, for --store)` : '--store'}: ${error.message}`);
  }
}

function usageError(message: string): never {
  process.stderr.write(`peerlab-bootstrap: ${message}\n`);
  process.exit(EXIT_USAGE);
}

async function main(): Promise<void> {
  const { store: spec, file: _file, maxpeers, ...options } = parseArgs(process.argv);
  let server: BootstrapServer;
  try {
    const store = await createStore(spec, { maxpeers });
    server = await startBootstrapServer({ ...options, store, allowedHosts: options.allowedHost });
  } catch (error) {
    process.stderr.write(`peerlab-bootstrap: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof BootstrapFileError ? EXIT_USAGE : EXIT_FAILURE);
  }
  const { close } = server;
  const shutdown = (): void => {
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`peerlab-bootstrap: error while closing: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exit(EXIT_FAILURE);
      },
    );
  };
  // Before the lines below: whoever reads them may signal at once.
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);

  // Scripts and tests wait for exactly this line; keep its shape stable.
  process.stdout.write(`peerlab-bootstrap listening on ${server.url}\n`);
  if (server.tokenGenerated) process.stdout.write(`peerlab-bootstrap listening beyond loopback: every request needs "Authorization: Bearer ${server.token}"\n`);
  // Which backend serves, its password masked.
  process.stdout.write(`peerlab-bootstrap store: ${server.store.description}\n`);
}

await main();
