/**
 * `peerlab conform`: runs the agent-protocol conformance checks against a
 * peer program, in any language, and prints what passes. Exit 0 when every
 * check passes (or skips, with its reason), 1 when one fails, 2 when the
 * input is wrong: a flag, a config file, a program that cannot be run.
 */
import {mkdtemp, rm} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {checkPeerProgram} from '../peer-program/peer-commands.js';
import {findExecutable} from '../peer-program/executable.js';
import {commandText} from '../peer-program/program.js';
import {CHECKS, CHECK_NAMES} from '../conform/checks.js';
import {runChecks} from '../conform/runner.js';
import {renderJson, renderSummary} from '../conform/render.js';
import type {Summary} from '../conform/render.js';
import {killEverythingNow} from '../conform/session.js';
import {namePeer} from './peer-choice.js';
import type {PeerFlags} from './peer-choice.js';

export interface ConformOptions extends PeerFlags {
  json: boolean;
  only?: string[];
  probe?: string;
  /** Keep the peers' logs here (default: a temporary folder, kept only when a check fails). */
  logs?: string;
}

const NAME = 'peerlab conform';

/** --only: check names, comma-separated, each one of the checks. */
export function checkList(value: string): string[] {
  const names = value.split(',').map((n) => n.trim()).filter(Boolean);
  const unknown = names.filter((n) => !CHECK_NAMES.includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(`expected comma-separated check names of ${CHECK_NAMES.join(', ')}${unknown.length ? `; unknown: ${unknown.join(', ')}` : ''}`);
  }
  return names;
}

export async function conform(options: ConformOptions): Promise<number> {
  const named = await namePeer(NAME, options);
  if (typeof named === 'string') {
    process.stderr.write(`${named}\nno check was run.\n`);
    return 2;
  }
  const {program} = named;
  const found = findExecutable(program);
  if (!found.ok) {
    process.stderr.write(`${named.locate(found.message)}\nno check was run.\n`);
    return 2;
  }
  const describing = Date.now();
  const description = await checkPeerProgram(program);
  const describeMs = Date.now() - describing;
  if (options.probe && description.ok && !description.specs.some((c) => c.name === options.probe)) {
    process.stderr.write(`${NAME}: --probe ${options.probe}: the peer offers no such command (it offers ${description.specs.map((c) => c.name).join(', ') || 'none'})\nno check was run.\n`);
    return 2;
  }
  const checks = options.only ? CHECKS.filter((c) => options.only!.includes(c.name)) : CHECKS;
  const dir = options.logs ? path.resolve(options.logs) : await mkdtemp(path.join(os.tmpdir(), 'peerlab-conform-'));

  const onSignal = (signal: NodeJS.Signals) => {
    // Peers first, synchronously: none outlives this command.
    killEverythingNow();
    process.stderr.write(`\n${NAME}: ${signal}, stopped; peer logs: ${dir}\n`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('exit', killEverythingNow);

  const started = Date.now();
  if (!options.json) process.stderr.write(`${NAME}: ${checks.length} check${checks.length === 1 ? '' : 's'} of ${commandText(program.command)}\n`);
  const results = await runChecks(checks, {
    program,
    description,
    describeMs,
    ...(options.probe ? {probe: options.probe} : {}),
    dir,
    onResult: (r) => {
      if (!options.json) process.stderr.write(`  ${r.name}: ${r.status} (${(r.ms / 1000).toFixed(1)} s)\n`);
    },
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  const ok = results.every((r) => r.status !== 'fail');
  const keep = options.logs !== undefined || !ok;
  if (!keep) await rm(dir, {recursive: true, force: true});
  const summary: Summary = {peer: commandText(program.command), ok, ms: Date.now() - started, checks: results, ...(keep ? {logs: dir} : {})};
  process.stdout.write(options.json ? renderJson(summary) : renderSummary(summary));
  return ok ? 0 : 1;
}
