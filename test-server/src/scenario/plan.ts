/** A scenario after loading: validated, names resolved, run lines parsed. The engine runs only this. */
import type {Args} from '@peerlab/client-agent';
import type {Condition, TrafficBounds} from '@peerlab/checkers/history/types';
import type {PeerProgram} from '../peer-program/program.js';
import type {PeerProfile} from '../peer-program/profile.js';

/** An await's bound: milliseconds, or a multiple of the timing model's figure, which the engine resolves when the await begins. */
export type Within = {kind: 'ms'; ms: number} | {kind: 'model'; multiple: number};

export type Target = {kind: 'all'} | {kind: 'random'} | {kind: 'names'; names: string[]};

interface StepBase {
  /** "3", or "5.2" inside a block. */
  path: string;
  line: number;
  title: string;
}

export type PlanStep = StepBase &
  (
    | {kind: 'start'; target: Target}
    | {kind: 'await'; condition: Condition; within: Within}
    | {kind: 'run'; target: Target; command: string; args: Args; text: string; expect?: Record<string, unknown>; timeoutMs: number}
    | {kind: 'kill'; target: Target}
    | {kind: 'stop'; target: Target}
    | {kind: 'sleep'; ms: number}
    | {kind: 'restart' | 'pause' | 'resume' | 'terminate' | 'isolate'; target: Target}
    | {kind: 'partition'; shape?: string; groups?: string[][]}
    | {kind: 'cut'; from: Target; to: Target}
    | {kind: 'heal'}
    | {kind: 'loss'; rate: number; between?: string[][]}
    | {kind: 'delay'; ms: number; jitter: number; between?: string[][]}
    | {kind: 'wait-nemesis'}
    | {kind: 'parallel'; steps: PlanStep[]}
    | {kind: 'repeat'; times: number; steps: PlanStep[]}
  );

export interface NemesisPlan {
  everyMs: number;
  forMs: number;
  /** Each a fault step (kill, pause, isolate, partition, loss, delay) and when to undo it. */
  faults: Array<{step: PlanStep; recoverAfterMs?: number}>;
}

export interface Scenario {
  name: string;
  file: string;
  /** Position in a file holding several scenarios. */
  index: number;
  /** The scenario's YAML as written, stored with the run. */
  source: string;
  peers: string[];
  profile: PeerProfile;
  timeoutMs: number;
  /** The file's own timeout, when the run holds the scenario to a shorter one (`peerlab run --timeout`). */
  ownTimeoutMs?: number;
  seed?: number;
  /** The program its peers run (--peer, its own peer: key, the config file); absent: the reference peer. */
  peer?: PeerProgram;
  peerArgs: Record<string, string[]>;
  invariants: string[];
  /** Peers per process (peer-host mode); 1 is a process per peer. */
  peersPerProcess: number;
  /** What makes its network faults: the peers' net-* commands, or nftables rules in the kernel (chosen at load time). */
  faults: 'peer' | 'kernel';
  nemesis?: NemesisPlan;
  /** Bounds on what each peer sends per second, by phase; judged at the end like an invariant. */
  traffic?: TrafficBounds;
  steps: PlanStep[];
}
