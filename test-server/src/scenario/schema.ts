/**
 * The scenario format, defined once with zod: the loader validates with it,
 * and `npm run schema` publishes it as scenarios/schema.json for editors.
 * Each step is an object with exactly one action key (start, await, on/run,
 * kill, stop, sleep, parallel, repeat) plus that action's options.
 */
import {z} from 'zod';
import {DURATION} from './duration.js';

const name = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'expected a peer name: 1-64 characters of A-Z a-z 0-9 . _ -');
const duration = z.string().regex(DURATION, 'expected a duration like 500ms, 5s or 2m').describe('a duration: 500ms, 5s, 1.5s, 2m');
const target = z
  .union([z.literal('all'), z.literal('random'), name, z.array(name).min(1)], {error: 'expected a peer name, a list of names, "all" or "random"'})
  .describe('a peer name, a list of names, "all", or "random" (drawn from the run\'s seed)');
const memberState = z.enum(['alive', 'suspect', 'dead', 'left']);

export const startStep = z.strictObject({start: target.describe('peers to spawn; they join through the bootstrap service')});
export const stateCondition = z.strictObject({
  state: z.strictObject({
    of: name,
    is: memberState,
    seen_by: target.optional().describe('observers (default all other live peers)'),
  }),
});
export const awaitStep = z.strictObject({
  await: z
    .union([
      z.literal('converged').describe('every live peer sees exactly the live set'),
      z.literal('delivered').describe('every message sent so far reached every member once, in per-sender order'),
      stateCondition,
    ], {error: 'expected converged, delivered, or {state: {of, is, seen_by}}'})
    .describe('a condition to wait for'),
  within: duration.describe('how long the condition may take before the step fails'),
});
export const runStep = z.strictObject({
  on: target.describe('which peers run the command'),
  run: z.string().min(1).describe('a peer command line, e.g. "send hello" or "members"'),
  expect: z.record(z.string(), z.unknown()).optional().describe('fields the command\'s result must have (a partial match)'),
  timeout: duration.optional().describe('deadline for the command (default 10s)'),
});
export const killStep = z.strictObject({kill: target.describe('SIGKILL: the peer dies without a goodbye')});
export const stopStep = z.strictObject({stop: target.describe('SIGTERM: the peer leaves gracefully and exits')});
export const sleepStep = z.strictObject({sleep: duration.describe('pause the scenario (discouraged: prefer await)')});

export interface ParallelStepInput {
  parallel: StepInput[];
}
export interface RepeatStepInput {
  repeat: number;
  steps: StepInput[];
}
export type StepInput =
  | z.infer<typeof startStep>
  | z.infer<typeof awaitStep>
  | z.infer<typeof runStep>
  | z.infer<typeof killStep>
  | z.infer<typeof stopStep>
  | z.infer<typeof sleepStep>
  | ParallelStepInput
  | RepeatStepInput;

export const step: z.ZodType<StepInput> = z.lazy(() =>
  z.union([startStep, awaitStep, runStep, killStep, stopStep, sleepStep, parallelStep, repeatStep]),
);
export const parallelStep: z.ZodType<ParallelStepInput> = z.strictObject({
  parallel: z.array(step).min(1).describe('steps run at once; the block ends when all have'),
});
export const repeatStep: z.ZodType<RepeatStepInput> = z.strictObject({
  repeat: z.int().min(1).max(10_000).describe('how many times'),
  steps: z.array(step).min(1),
});

/** Which schema validates a step, by its action key. */
export const stepKinds = {
  start: startStep,
  await: awaitStep,
  on: runStep,
  run: runStep,
  kill: killStep,
  stop: stopStep,
  sleep: sleepStep,
  parallel: parallelStep,
  repeat: repeatStep,
} as const;

export const invariant = z.enum(['no-duplicate-delivery', 'per-sender-order', 'no-unsent-delivery']);

export const scenario = z.strictObject({
  name: z.string().min(1).max(200).describe('what the scenario shows'),
  description: z.string().optional(),
  peers: z.union([z.array(name).min(1).max(1000), z.int().min(1).max(1000)], {error: 'expected a list of peer names, or a number of peers (1-1000)'}).describe('peer names, or how many peers (named alice, bob, ...)'),
  profile: z.enum(['local', 'lan']).optional().describe('peer timing profile (default local)'),
  timeout: duration.optional().describe('bound on the whole scenario (default 60s)'),
  seed: z.int().min(0).optional().describe('default seed for random choices (--seed overrides)'),
  vars: z.record(z.string().regex(/^\w+$/), z.union([z.string(), z.number()])).optional().describe('values for ${name} in run lines and expectations'),
  peer_args: z.record(z.string(), z.array(z.string())).optional().describe('extra peerlab-peer flags per peer name (or "all")'),
  invariants: z.array(invariant).optional().describe('properties checked over the whole run'),
  steps: z.array(step).min(1),
});

export type ScenarioInput = z.infer<typeof scenario>;

/** A file holds one scenario or a list of them. */
export const scenarioFile = z.union([scenario, z.array(scenario).min(1)]);

export function jsonSchema(): unknown {
  return {title: 'peerlab scenario', ...(z.toJSONSchema(scenarioFile, {target: 'draft-7', io: 'input'}) as object)};
}
