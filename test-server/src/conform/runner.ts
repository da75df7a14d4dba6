/**
 * Runs checks one after another, each with its own coordinator and peer and
 * a deadline; whatever a check started is killed when it ends, pass, fail,
 * throw or time out.
 */
import {mkdir} from 'node:fs/promises';
import path from 'node:path';
import type {ProgramCheck} from '../peer-program/peer-commands.js';
import type {PeerProgram} from '../peer-program/program.js';
import type {Check, CheckResult} from './check.js';
import {Findings} from './check.js';
import {CheckStop} from './stop.js';
import {Session} from './session.js';
import {judgeStream} from './checks/events.js';

/** No check of a conforming peer comes near this; one that hangs is cut off here. */
const CHECK_DEADLINE_MS = 30_000;

export interface RunOptions {
  program: PeerProgram;
  description: ProgramCheck;
  describeMs: number;
  probe?: string;
  /** Each check's logs and peer folders go in <dir>/<check>. */
  dir: string;
  onResult?: (result: CheckResult) => void;
  signal?: AbortSignal;
  deadlineMs?: number;
}

export async function runChecks(checks: readonly Check[], options: RunOptions): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of checks) {
    if (options.signal?.aborted) break;
    const result = await runOne(check, options);
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}

async function runOne(check: Check, options: RunOptions): Promise<CheckResult> {
  const findings = new Findings();
  const sessions: Session[] = [];
  const abort = new AbortController();
  const started = Date.now();
  const dir = path.join(options.dir, check.name);
  const deadlineMs = options.deadlineMs ?? CHECK_DEADLINE_MS;
  let timer: NodeJS.Timeout | undefined;
  try {
    await mkdir(dir, {recursive: true});
    const running = check.run({
      program: options.program,
      description: options.description,
      describeMs: options.describeMs,
      ...(options.probe ? {probe: options.probe} : {}),
      findings,
      signal: abort.signal,
      session: async (sessionOptions) => {
        // A check cut off at its deadline runs on until its own waits end: it must start nothing more.
        if (abort.signal.aborted) throw new CheckStop('stopped at its deadline');
        const session = await Session.start(options.program, dir, sessionOptions);
        if (abort.signal.aborted) {
          await session.close();
          throw new CheckStop('stopped at its deadline');
        }
        sessions.push(session);
        return session;
      },
    });
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), deadlineMs)));
    if ((await Promise.race([running, late])) === 'late') {
      abort.abort();
      findings.fail(`did not finish within ${deadlineMs / 1000} s`);
      // Its own waits end by their deadlines; it is not awaited further.
      running.catch(() => {});
    }
  } catch (error) {
    if (error instanceof CheckStop) findings.fail(error.message);
    else findings.fail(`the check broke: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  } finally {
    clearTimeout(timer);
    abort.abort();
    for (const session of sessions) judgeStream(session, findings);
    await Promise.all(sessions.map((s) => s.close()));
  }
  const status = findings.failures.length > 0 ? 'fail' : findings.skipped ? 'skip' : 'pass';
  return {
    name: check.name,
    title: check.title,
    section: check.section,
    status,
    ms: Date.now() - started + findings.priorMs,
    reasons: status === 'fail' ? findings.failures : status === 'skip' ? [findings.skipped!] : [],
    notes: findings.notes,
  };
}
