/**
 * The commands a peer program offers, asked of the program itself
 * (`<program> --describe-commands`), so scenario run lines are checked
 * before any peer starts without the coordinator importing peer code. It
 * runs a process, so it lives here, not in scenario/: the loader
 * stays pure and takes the specs as an argument. A program is checked once
 * per command, cwd and env, however many scenarios name it.
 */
import {execa} from 'execa';
import type {Capabilities, CommandSpec} from '@peerlab/client-agent';
import {parseDescription, ProtocolError} from '@peerlab/client-agent/protocol';
import type {PeerProgram} from './program.js';
import {commandText, programKey} from './program.js';
import {findExecutable} from './executable.js';
import {defaultPeerBin, referencePeer} from './reference.js';

export type ProgramCheck = {ok: true; specs: CommandSpec[]; capabilities: Capabilities} | {ok: false; message: string};

/** How long a program may take to print its specs: a slow start is fine, a hang is not. */
const DESCRIBE_TIMEOUT_MS = 10_000;

const cache = new Map<string, Promise<ProgramCheck>>();

/**
 * Whether the program can be run (it exists, is a file and executable, its
 * cwd a folder) and answers --describe-commands with valid specs; the specs
 * and the capabilities it declares if so (none when it prints the older plain
 * list of specs), else why not, in a sentence for a located problem.
 */
export function checkPeerProgram(program: PeerProgram): Promise<ProgramCheck> {
  const key = programKey(program);
  let check = cache.get(key);
  if (!check) {
    check = describe(program);
    cache.set(key, check);
  }
  return check;
}

async function describe(program: PeerProgram): Promise<ProgramCheck> {
  const found = findExecutable(program);
  if (!found.ok) return found;
  const asked = `${commandText(program.command)} --describe-commands`;
  const result = await execa(found.file, [...program.command.slice(1), '--describe-commands'], {
    cwd: program.cwd,
    env: program.env,
    stdin: 'ignore',
    reject: false,
    timeout: DESCRIBE_TIMEOUT_MS,
  });
  const stderr = String(result.stderr).trim().split('\n').slice(-1)[0] ?? '';
  if (result.timedOut) return {ok: false, message: `${asked}: no answer within ${DESCRIBE_TIMEOUT_MS / 1000} s`};
  if (result.failed) {
    const how = result.signal ? `killed by ${result.signal}` : result.exitCode !== undefined ? `exit code ${result.exitCode}` : ((result as {cause?: unknown}).cause as Error | undefined)?.message ?? 'failed';
    return {ok: false, message: `${asked} failed (${how})${stderr ? `: ${stderr}` : ''}; a peer program prints its command specs as JSON and exits 0`};
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(result.stdout));
  } catch (error) {
    return {ok: false, message: `${asked} did not print JSON (${(error as Error).message}); a peer program prints {commands, capabilities} as its hello has them`};
  }
  try {
    const {commands, capabilities} = parseDescription(parsed);
    return {ok: true, specs: commands, capabilities};
  } catch (error) {
    if (error instanceof ProtocolError) return {ok: false, message: `${asked} printed a description that is not valid: ${error.message}`};
    throw error;
  }
}

/** The reference peer's specs (or another Node peer file's), for callers with no program of their own. */
export async function peerCommandSpecs(peerBin = defaultPeerBin()): Promise<CommandSpec[]> {
  const check = await checkPeerProgram(peerBin === defaultPeerBin() ? referencePeer() : {...referencePeer(), command: [process.execPath, peerBin]});
  if (!check.ok) throw new Error(check.message);
  return check.specs;
}
