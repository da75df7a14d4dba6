/**
 * The scenario format, defined once with zod: the loader validates with it,
 * and `npm run schema` publishes it as scenarios/schema.json for editors.
 * Each step is an object with exactly one action key (start, await, on/run,
 * kill, stop, sleep, parallel, repeat) plus that action's options.
 */
import {z} from 'zod';
import {PEER_NAME, PEER_NAME_RULE} from '@peerlab/events/names';
import {defaultInvariants, invariantNames} from '@peerlab/checkers/history/types';
import {peerProgramSchema} from '../peer-program/program.js';
import type {DurationField} from './duration.js';
import {DURATION, MODEL_WITHIN, WITHIN, durationProblem, limitText, multipleProblem} from './duration.js';
import {PEER_PROFILES} from '../peer-program/profile.js';

/**
 * An await's bound: a duration, or a multiple of what the SWIM and epidemic
 * model predicts for the condition at the run's N and the peers' timing.
 */
function within() {
  const what = 'how long the condition may take before the step fails';
  return z
    .string()
    .regex(WITHIN, 'expected a duration like 500ms, 5s or 2m, or model, or a multiple of the model like 3x model')
    .superRefine((text, ctx) => {
      const problem = MODEL_WITHIN.test(text.trim()) ? multipleProblem(text) : durationProblem(text, 'within');
      if (problem) ctx.addIssue({code: 'custom', message: problem});
    })
    .describe(`${what}: a duration like 500ms, 5s, 1.5s or 2m, from ${limitText('within')}; or "model" or "<n>x model" (e.g. 3x model, 1.5x model), a multiple of the timing model's figure for the condition (converged, detected, rejoined, delivered only)`);
}

const name = z.string().regex(PEER_NAME, `expected a peer name: ${PEER_NAME_RULE}`);
/** The most peers a scenario may start: the reference peer's member table holds 2,048 (peer/src/config.ts, maxMembers). */
export const MAX_PEERS = 2000;
/** A duration within its field's limits (see durationLimits); the range is in the description, as JSON Schema cannot check it. */
function duration(field: DurationField, what: string) {
  return z
    .string()
    .regex(DURATION, 'expected a duration like 500ms, 5s or 2m')
    .superRefine((text, ctx) => {
      const problem = durationProblem(text, field);
      if (problem) ctx.addIssue({code: 'custom', message: problem});
    })
    .describe(`${what}; a duration like 500ms, 5s, 1.5s or 2m, from ${limitText(field)}`);
}
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
      z.literal('detected').describe('every killed, paused or isolated peer is dead for every peer that still reaches the others'),
      stateCondition,
      z.strictObject({rejoined: name}).describe('a restarted peer is alive everywhere with a higher incarnation'),
    ], {error: 'expected converged, delivered, detected, {state: {of, is, seen_by}} or {rejoined: name}'})
    .describe('a condition to wait for'),
  within: within(),
});
export const runStep = z.strictObject({
  on: target.describe('which peers run the command'),
  run: z.string().min(1).describe('a peer command line, e.g. "send hello" or "members"'),
  expect: z.record(z.string(), z.unknown()).optional().describe('fields the command\'s result must have (a partial match)'),
  timeout: duration('command', 'deadline for the command (default 10s)').optional(),
});
export const killStep = z.strictObject({kill: target.describe('SIGKILL: the peer dies without a goodbye')});
export const stopStep = z.strictObject({stop: target.describe('SIGTERM: the peer leaves gracefully and exits')});
export const sleepStep = z.strictObject({sleep: duration('sleep', 'pause the scenario (discouraged: prefer await)')});
export const terminateStep = z.strictObject({terminate: target.describe('SIGTERM: like stop')});
export const restartStep = z.strictObject({restart: target.describe('SIGKILL, then a new process under the same name; it must be accepted back with a higher incarnation')});
export const pauseStep = z.strictObject({pause: target.describe('SIGSTOP: the process freezes')});
export const resumeStep = z.strictObject({resume: target.describe('SIGCONT: a paused process goes on')});

const groups = z.array(z.array(name).min(1)).min(2).describe('groups of peers: links between different groups are cut');
export const partitionShapes = ['halves', 'random-node', 'bridge', 'majorities-ring'] as const;
export const partitionStep = z.strictObject({
  partition: z
    .union([groups, z.enum(partitionShapes)], {error: `expected groups like [[a, b], [c]] or one of ${partitionShapes.join(', ')}`})
    .describe('cut the network: explicit groups, or a shape with members chosen from the seed'),
});
export const isolateStep = z.strictObject({isolate: target.describe('cut the peer off from every other peer, both ways')});
export const cutStep = z.strictObject({
  cut: z.strictObject({from: target, to: target}).describe('a one-way cut: packets from -> to are dropped'),
});
export const healStep = z.strictObject({heal: z.literal('all').describe('clear every network fault')});
// The pattern itself stops at 100%, so the published schema says so too.
const rate = z.union([z.string().regex(/^(100(\.0+)?|\d{1,2}(\.\d+)?)%$/, 'expected a percentage from 0% to 100%, like 10%'), z.number().min(0).max(1)], {error: 'expected a percentage from 0% to 100%, like 10%, or a fraction 0-1'});
export const lossStep = z.strictObject({
  loss: z.strictObject({rate, between: groups.optional().describe('only links between these groups (default: every link)')}),
});
export const delayStep = z.strictObject({
  delay: z.strictObject({ms: z.int().min(0).max(60_000), jitter: z.int().min(0).max(60_000).optional(), between: groups.optional()}),
});
export const waitStep = z.strictObject({wait: z.literal('nemesis').describe('wait until the nemesis has finished and every fault it made has been recovered')});

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
  | z.infer<typeof terminateStep>
  | z.infer<typeof restartStep>
  | z.infer<typeof pauseStep>
  | z.infer<typeof resumeStep>
  | z.infer<typeof partitionStep>
  | z.infer<typeof isolateStep>
  | z.infer<typeof cutStep>
  | z.infer<typeof healStep>
  | z.infer<typeof lossStep>
  | z.infer<typeof delayStep>
  | z.infer<typeof waitStep>
  | ParallelStepInput
  | RepeatStepInput;

export const step: z.ZodType<StepInput> = z.lazy(() =>
  z.union([
    startStep, awaitStep, runStep, killStep, stopStep, sleepStep, terminateStep, restartStep, pauseStep, resumeStep,
    partitionStep, isolateStep, cutStep, healStep, lossStep, delayStep, waitStep, parallelStep, repeatStep,
  ]),
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
  terminate: terminateStep,
  restart: restartStep,
  pause: pauseStep,
  resume: resumeStep,
  partition: partitionStep,
  isolate: isolateStep,
  cut: cutStep,
  heal: healStep,
  loss: lossStep,
  delay: delayStep,
  wait: waitStep,
  parallel: parallelStep,
  repeat: repeatStep,
} as const;

export const invariant = z.enum(invariantNames);
/** A default invariant (membership-legality) is checked unless the list opts out with `-name`. */
const invariantEntry = z.enum([...invariantNames, ...defaultInvariants.map((n) => `-${n}` as const)]);

const recoverAfter = duration('recover', 'when to undo the fault (restart, resume or heal); without it the fault stays').optional();

/** A fault the nemesis may choose, and when to undo it (restart, resume, heal). */
const nemesisFault = z.union(
  [
    killStep.extend({recover_after: recoverAfter}),
    pauseStep.extend({recover_after: recoverAfter}),
    isolateStep.extend({recover_after: recoverAfter}),
    partitionStep.extend({recover_after: recoverAfter}),
    lossStep.extend({recover_after: recoverAfter}),
    delayStep.extend({recover_after: recoverAfter}),
  ],
  {error: 'expected a kill, pause, isolate, partition, loss or delay fault, with an optional recover_after'},
);
export const nemesis = z.strictObject({
  every: duration('every', 'how often a fault is injected'),
  for: duration('for', 'how long the nemesis runs, from the end of the first start step; at least every'),
  faults: z.array(nemesisFault).min(1).describe('each time, one of these, chosen from the seed'),
});

/** A per-second limit on what the busiest peer sends (checkers/src/traffic.ts measures it). */
function perSecond(unit: string) {
  return z
    .number({error: `expected a number of ${unit} per second`})
    .min(0, {error: `expected a number of ${unit} per second, 0 or more`})
    .optional()
    .describe(`the most ${unit} any one peer may send per second in this phase`);
}
const trafficLimit = z.strictObject({
  max_packets_per_peer_s: perSecond('packets (datagrams and TCP connections)'),
  max_bytes_per_peer_s: perSecond('bytes'),
});
export const traffic = z.strictObject({
  forming: trafficLimit.optional().describe('from the first peer started until the group first converged'),
  rest: trafficLimit.optional().describe('the group converged and no fault in effect'),
  churn: trafficLimit.optional().describe('after forming, while a fault is in effect or the group is not converged'),
});

export const scenario = z.strictObject({
  name: z.string().min(1).max(200).describe('what the scenario shows'),
  description: z.string().optional(),
  peers: z.union([z.array(name).min(1).max(MAX_PEERS), z.int().min(1).max(MAX_PEERS)], {error: `expected a list of peer names, or a number of peers (1-${MAX_PEERS})`}).describe('peer names, or how many peers (named alice, bob, ...)'),
  profile: z.enum(PEER_PROFILES).optional().describe('peer timing profile (default local)'),
  timeout: duration('timeout', 'bound on the whole scenario (default 60s)').optional(),
  // The engine's generator keeps 32 bits of a seed, and --seed takes 0 to 2^31-1: the same range here.
  seed: z.int().min(0).max(2 ** 31 - 1).optional().describe('default seed for random choices (--seed overrides)'),
  vars: z.record(z.string().regex(/^\w+$/), z.union([z.string(), z.number()])).optional().describe('values for ${name} in run lines and expectations'),
  peers_per_process: z.int().min(1).max(1000).optional().describe('run this many peers in each process (for scale; process faults then hit them all)'),
  peer: peerProgramSchema.optional().describe('the peer program this scenario runs instead of the config file\'s or the reference peer (--peer overrides it); a relative cwd is from the scenario\'s folder'),
  faults: z.enum(['peer', 'kernel', 'auto']).optional().describe('what makes network faults: the peers\' own net-* commands (peer), nftables rules in the kernel (kernel: root, no delay), or peer when the program offers the commands and kernel otherwise (auto, the default); --faults overrides it'),
  peer_args: z.record(z.string(), z.array(z.string())).optional().describe('extra flags for the peer program, per peer name (or "all")'),
  invariants: z.array(invariantEntry).optional().describe('properties checked over the whole run; membership-legality is checked unless listed as -membership-legality'),
  nemesis: nemesis.optional().describe('faults injected on a schedule in the background while the steps go on'),
  traffic: traffic.optional().describe('bounds on packets and bytes sent per peer per second, by phase, judged over the whole run'),
  steps: z.array(step).min(1),
});

export type ScenarioInput = z.infer<typeof scenario>;

/** A file holds one scenario or a list of them. */
export const scenarioFile = z.union([scenario, z.array(scenario).min(1)]);

export function jsonSchema(): unknown {
  return {title: 'peerlab scenario', ...(z.toJSONSchema(scenarioFile, {target: 'draft-7', io: 'input'}) as object)};
}
