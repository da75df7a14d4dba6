/**
 * What a conformance check is and what it finds. A check collects failures
 * and notes as it goes rather than stopping at the first, so an implementer
 * sees everything wrong in one run; a check that cannot apply to this peer
 * says why it skipped, and is never counted as a pass.
 */
import type {CommandSpec} from '@peerlab/client-agent';
import type {ProgramCheck} from '../peer-program/peer-commands.js';
import type {PeerProgram} from '../peer-program/program.js';
import type {Session, SessionOptions} from './session.js';

export type CheckStatus = 'pass' | 'fail' | 'skip';

export interface CheckResult {
  name: string;
  title: string;
  /** Where docs/PROTOCOL.md says what is checked, e.g. "§6 The grace period". */
  section: string;
  status: CheckStatus;
  ms: number;
  /** Every failure, or the reason for a skip. */
  reasons: string[];
  /** What passed with a remark: a recommendation not followed, a measured time. */
  notes: string[];
}

/** The failures and notes of one check, as it runs. */
export class Findings {
  readonly failures: string[] = [];
  readonly notes: string[] = [];
  skipped: string | undefined;
  /** Time the check's work took before it ran (the program's description, asked once up front), counted in its time. */
  priorMs = 0;

  fail(reason: string): void {
    this.failures.push(reason);
  }

  note(text: string): void {
    this.notes.push(text);
  }

  skip(reason: string): void {
    this.skipped = reason;
  }

  /** Fails with the reason unless the condition holds; returns the condition. */
  expect(condition: boolean, reason: string): boolean {
    if (!condition) this.fail(reason);
    return condition;
  }
}

export interface CheckContext {
  program: PeerProgram;
  /** The program's answer to --describe-commands, as the load-time check judged it. */
  description: ProgramCheck;
  /** How long the program took to answer --describe-commands. */
  describeMs: number;
  /** The command without side effects a check may send, named with --probe; else one is chosen from the peer's. */
  probe?: string;
  findings: Findings;
  /** A coordinator with this check's own peer, stopped (and the peer killed) when the check ends. */
  session(options?: SessionOptions): Promise<Session>;
  signal: AbortSignal;
}

export interface Check {
  name: string;
  title: string;
  section: string;
  run(context: CheckContext): Promise<void>;
}

/** Names of read-only commands, tried in this order when --probe is not given. */
const PROBE_NAMES = ['status', 'ping', 'net-status', 'members', 'messages', 'echo'];

/**
 * The command a check may send to see an `ok` answer: one that changes
 * nothing and needs no argument. Undefined (with the reason) when the peer
 * offers none known to be harmless: the check then skips that part.
 */
export function chooseProbe(commands: readonly CommandSpec[], named?: string): {probe: CommandSpec} | {reason: string} {
  if (named) {
    const spec = commands.find((c) => c.name === named);
    return spec ? {probe: spec} : {reason: `--probe ${named}: the peer offers no such command`};
  }
  for (const name of PROBE_NAMES) {
    const spec = commands.find((c) => c.name === name);
    if (spec && !spec.args.some((a) => a.required)) return {probe: spec};
  }
  return {reason: `the peer offers none of ${PROBE_NAMES.join(', ')} without required arguments; name a harmless command with --probe`};
}
