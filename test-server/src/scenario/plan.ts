/** A scenario after loading: validated, names resolved, run lines parsed. The engine runs only this. */
import type {Args} from '@peerlab/client-agent';
import type {Condition} from '../history/types.js';

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
    | {kind: 'await'; condition: Condition; withinMs: number}
    | {kind: 'run'; target: Target; command: string; args: Args; text: string; expect?: Record<string, unknown>; timeoutMs: number}
    | {kind: 'kill'; target: Target}
    | {kind: 'stop'; target: Target}
    | {kind: 'sleep'; ms: number}
    | {kind: 'parallel'; steps: PlanStep[]}
    | {kind: 'repeat'; times: number; steps: PlanStep[]}
  );

export interface Scenario {
  name: string;
  file: string;
  /** Position in a file holding several scenarios. */
  index: number;
  /** The scenario's YAML as written, stored with the run. */
  source: string;
  peers: string[];
  profile: 'local' | 'lan';
  timeoutMs: number;
  seed?: number;
  peerArgs: Record<string, string[]>;
  invariants: string[];
  steps: PlanStep[];
}
