/**
 * Fault planning, pure: what a fault step, a nemesis round or a nemesis
 * recovery does, decided from a FaultState and a seeded Random alone, with
 * no I/O and no clock. The engine's steps, its nemesis and the `peerlab up`
 * console all plan here and carry the actions out through a FaultInjector.
 *
 * The state says what is down, partitioned or lossy and who did it (the
 * steps, or the nemesis in which round), so a nemesis recovery undoes only
 * what that round did and a heal clears only its own side's network rules.
 *
 * Determinism: a step draws its random victims from the peers started and
 * not taken down by steps, whatever the nemesis is doing. The nemesis draws
 * from the peers started when it began, less those its own rounds keep down
 * on its logical schedule (round k at k × every, undone recover_after later),
 * whatever the steps did and however late a recovery really finished. So for
 * one seed, both sequences of choices are fixed; only their interleaving, and
 * whether a fault finds its victim already down, depend on timing.
 */
import type {CoordinatorEventData} from '@peerlab/events/contract';
import type {NemesisPlan, PlanStep, Target} from '../scenario/plan.js';
import type {Random} from './random.js';

export type Link = [from: string, to: string];

/** Every link between members of different groups, both ways. */
export function linksBetween(groups: readonly (readonly string[])[]): Link[] {
  const links: Link[] = [];
  groups.forEach((a, i) =>
    groups.forEach((b, j) => {
      if (i === j) return;
      for (const from of a) for (const to of b) links.push([from, to]);
    }),
  );
  return links;
}

function shuffled<T>(items: readonly T[], random: Random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Jepsen's partition shapes over the given peers, members drawn from the seed.
 * Returns the links to cut and the groups as a person would describe them.
 */
export function shapeLinks(shape: string, peers: readonly string[], random: Random): {links: Link[]; groups: string[][]} {
  const ring = shuffled([...peers].sort(), random);
  const n = ring.length;
  switch (shape) {
    case 'halves': {
      const groups = [ring.slice(0, Math.floor(n / 2)), ring.slice(Math.floor(n / 2))];
      return {links: linksBetween(groups), groups};
    }
    case 'random-node': {
      const groups = [ring.slice(0, 1), ring.slice(1)];
      return {links: linksBetween(groups), groups};
    }
    case 'bridge': {
      // The first peer sees both halves; the halves do not see each other.
      const [bridge, ...rest] = ring;
      const halves = [rest.slice(0, Math.floor(rest.length / 2)), rest.slice(Math.floor(rest.length / 2))];
      return {links: linksBetween(halves), groups: [...halves.map((h) => [...h]), ...(bridge === undefined ? [] : [[bridge]])]};
    }
    case 'majorities-ring': {
      // Each peer sees the r nearest on each side of a ring: a majority, and no two the same one.
      const majority = Math.floor(n / 2) + 1;
      const r = Math.ceil((majority - 1) / 2);
      const links: Link[] = [];
      const groups: string[][] = [];
      ring.forEach((from, i) => {
        const sees = [from];
        ring.forEach((to, j) => {
          const distance = Math.min(Math.abs(i - j), n - Math.abs(i - j));
          if (i === j) return;
          if (distance > r) links.push([from, to]);
          else sees.push(to);
        });
        groups.push(sees);
      });
      return {links, groups};
    }
    default:
      throw new Error(`unknown partition shape ${shape}`);
  }
}

type FaultKind = 'kill' | 'stop' | 'terminate' | 'restart' | 'pause' | 'resume' | 'partition' | 'isolate' | 'cut' | 'heal' | 'loss' | 'delay';
type Fault<S> = S extends {kind: FaultKind} ? Omit<S, 'path' | 'line' | 'title'> & {title?: string} : never;

/** A fault as a scenario step (or a console line) states it. */
export type StepFault = Fault<PlanStep>;

/** The nemesis's two moves: a round (one fault drawn from its plan), and undoing what a round did. */
export type NemesisAction =
  | {nemesis: 'round'; round: number; everyMs: number; faults: NemesisPlan['faults']}
  | {nemesis: 'recover'; round: number};

/** How a process was taken down. */
export type Down = 'kill' | 'terminate' | 'pause';

/** Who has a peer down: the steps, the nemesis (in which round), or both. */
export interface PeerDown {
  step?: Down;
  nemesis?: {how: Down; round: number};
}

/** Who made a network rule: the steps, or the nemesis in a round. */
export type Cause = {by: 'step'} | {by: 'nemesis'; round: number};

/** A network rule in force, as the peers' `net-*` commands apply it. */
export type NetRule = Cause & ({kind: 'cut'; links: Link[]} | {kind: 'loss'; percent: number; links: Link[] | 'all'} | {kind: 'delay'; ms: number; jitter: number; links: Link[] | 'all'});

/** What a nemesis round did, on its logical schedule. */
export interface NemesisRound {
  kind: PlanStep['kind'];
  title: string;
  victims: string[];
  /** Logical time (ms after the nemesis began) the round is undone at; null: left until the scenario ends. */
  untilMs: number | null;
  recoverAfterMs?: number;
}

export interface FaultState {
  /** Every peer of the scenario, in its order. */
  peers: readonly string[];
  /** Peers started so far, in the scenario's order. */
  started: readonly string[];
  down: Readonly<Record<string, PeerDown>>;
  net: readonly NetRule[];
  nemesis: {
    /** The peers the nemesis draws from: those started when it began. */
    peers: readonly string[];
    rounds: Readonly<Record<number, NemesisRound>>;
  };
}

/** What a planned action adds to the `fault` event it produces (its kind, when the scenario named it otherwise, e.g. a partition carried out as a cut). */
export type FaultRecord = Partial<CoordinatorEventData<'fault'>>;

/** One thing to do, in order. `record` goes into the `fault` event it produces. */
export type PlannedAction =
  | {kind: 'kill' | 'terminate' | 'pause' | 'resume' | 'restart'; peer: string; skipped?: string; record: FaultRecord}
  | {kind: 'cut'; links: Link[]; record: FaultRecord}
  | {kind: 'loss'; percent: number; links: Link[] | 'all'; record: FaultRecord}
  | {kind: 'delay'; ms: number; jitter: number; links: Link[] | 'all'; record: FaultRecord}
  /** Every peer's network rules back to those in force (`next.net`): what a heal leaves. */
  | {kind: 'heal'; record: FaultRecord};

export interface FaultPlan {
  actions: PlannedAction[];
  next: FaultState;
  /** The victims or groups as drawn, for the step.begin or nemesis event. */
  describe: Record<string, unknown>;
  /** What a step that goes through says. */
  summary: string;
  /** For a nemesis round: the fault it drew. */
  chosen?: NemesisRound & {round: number};
}

export function initialFaultState(peers: readonly string[]): FaultState {
  return {peers: [...peers], started: [], down: {}, net: [], nemesis: {peers: [], rounds: {}}};
}

/** Peers a start step started. */
export function withStarted(state: FaultState, names: readonly string[]): FaultState {
  const started = state.peers.filter((p) => state.started.includes(p) || names.includes(p));
  return {...state, started};
}

/** The nemesis begins: the peers started now are those it will draw from. */
export function nemesisBegins(state: FaultState): FaultState {
  return {...state, nemesis: {...state.nemesis, peers: [...state.started]}};
}

/** The peers a step's `random` or `all` draws from: started, and not taken down by a step. */
export function stepPool(state: FaultState): string[] {
  return state.started.filter((p) => !state.down[p]?.step);
}

/** The peers the nemesis's round at logical time `atMs` draws from. */
export function nemesisPool(state: FaultState, atMs: number): string[] {
  const busy = new Set(Object.values(state.nemesis.rounds).flatMap((r) => (r.untilMs === null || r.untilMs >= atMs ? r.victims : [])));
  return state.nemesis.peers.filter((p) => !busy.has(p));
}

function pick(target: Target, pool: readonly string[], random: Random): string[] {
  if (target.kind === 'names') return [...target.names];
  if (target.kind === 'all') return [...pool];
  const one = random.pick(pool);
  return one === undefined ? [] : [one];
}

function setDown(down: Readonly<Record<string, PeerDown>>, peer: string, value: PeerDown): Record<string, PeerDown> {
  const next = {...down};
  if (value.step === undefined && value.nemesis === undefined) delete next[peer];
  else next[peer] = value;
  return next;
}

const processKinds = new Set(['kill', 'stop', 'terminate', 'restart', 'pause', 'resume']);

export function planFault(state: FaultState, action: StepFault | NemesisAction, random: Random): FaultPlan {
  if ('nemesis' in action) return action.nemesis === 'round' ? planRound(state, action, random) : planRecovery(state, action.round);
  return planOne(state, action, {by: 'step'}, stepPool(state), random);
}

/** A fault, by the steps or by the nemesis, drawing random victims from `pool`. */
function planOne(state: FaultState, fault: StepFault, cause: Cause, pool: readonly string[], random: Random): FaultPlan {
  const tag: Record<string, unknown> = cause.by === 'nemesis' ? {nemesis: cause.round} : {};
  if (processKinds.has(fault.kind)) {
    const f = fault as Extract<StepFault, {target: Target}>;
    const kind = (f.kind === 'stop' ? 'terminate' : f.kind) as 'kill' | 'terminate' | 'restart' | 'pause' | 'resume';
    // What a step resumes at random or all: the peers the steps paused.
    const from = kind === 'resume' && cause.by === 'step' ? state.started.filter((p) => state.down[p]?.step === 'pause') : pool;
    const names = pick(f.target, from, random);
    let down = state.down;
    const actions: PlannedAction[] = [];
    const alreadyDown: string[] = [];
    for (const peer of names) {
      const was = down[peer] ?? {};
      if (cause.by === 'nemesis' && was.step && (kind === 'restart' || kind === 'resume')) {
        // The nemesis does not undo a step's hold: the steps' pool stays the steps' own, and the
        // process stays as the step and earlier rounds left it: their holds stand, their recoveries undo them.
        actions.push({kind, peer, skipped: 'a step has taken it down', record: tag});
      } else if (kind === 'restart') {
        actions.push({kind, peer, record: tag});
        down = setDown(down, peer, {});
      } else if (kind === 'resume') {
        // Killed by the nemesis: nothing to resume; its recovery restarts it, and the step's pause hold goes now.
        const dead = was.nemesis && was.nemesis.how !== 'pause';
        if (dead && cause.by === 'step') {
          alreadyDown.push(peer);
          actions.push({kind, peer, skipped: 'already down by the nemesis', record: tag});
        } else actions.push({kind, peer, record: tag});
        down = setDown(down, peer, {...(was.step && was.step !== 'pause' ? {step: was.step} : {}), ...(was.nemesis && was.nemesis.how !== 'pause' ? {nemesis: was.nemesis} : {})});
      } else if (cause.by === 'step') {
        // Down already by the nemesis (killed, or paused when a pause is asked): down as the step asks.
        // When the nemesis did it depends on timing, so it must not decide the step's verdict.
        if (was.nemesis && (was.nemesis.how !== 'pause' || kind === 'pause')) {
          alreadyDown.push(peer);
          actions.push({kind, peer, skipped: 'already down by the nemesis', record: tag});
        } else actions.push({kind, peer, record: tag});
        // A step's own kill stands: a second kill, or a pause, of a dead process fails and changes nothing.
        if (!(was.step && was.step !== 'pause')) down = setDown(down, peer, {...was, step: kind});
      } else {
        const round = (cause as {round: number}).round;
        const skipped = was.nemesis && (was.nemesis.how !== 'pause' || kind === 'pause') ? `down already since round ${was.nemesis.round}` : was.step && (was.step !== 'pause' || kind === 'pause') ? 'a step has taken it down' : undefined;
        actions.push({kind, peer, ...(skipped ? {skipped} : {}), record: tag});
        // Down already by an earlier round: that round's hold stands (its recovery brings it back), this one's is a no-op.
        const earlier = was.nemesis && (was.nemesis.how !== 'pause' || kind === 'pause');
        if (!earlier) down = setDown(down, peer, {...was, nemesis: {how: kind, round}});
      }
    }
    const note = alreadyDown.length > 0 ? ` (${alreadyDown.join(', ')} already down by the nemesis)` : '';
    return {actions, next: {...state, down}, describe: {peers: names}, summary: `${names.join(', ') || 'nobody'}: ${kind}${note}`};
  }
  const add = (rule: NetRule) => [...state.net, rule];
  switch (fault.kind) {
    case 'partition': {
      const {links, groups} = fault.groups ? {links: linksBetween(fault.groups), groups: fault.groups.map((g) => [...g])} : shapeLinks(fault.shape!, pool, random);
      return {
        actions: [{kind: 'cut', links, record: {kind: 'partition', groups, ...(fault.shape ? {shape: fault.shape} : {}), ...tag}}],
        next: {...state, net: add({...cause, kind: 'cut', links})},
        describe: {groups},
        summary: `partitioned ${groups.map((g) => `[${g.join(', ')}]`).join(' ')}`,
      };
    }
    case 'isolate': {
      const names = pick(fault.target, pool, random);
      const links = linksBetween([names, state.peers.filter((p) => !names.includes(p))]);
      return {
        actions: [{kind: 'cut', links, record: {kind: 'isolate', targets: names, ...tag}}],
        next: {...state, net: add({...cause, kind: 'cut', links})},
        describe: {peers: names},
        summary: `isolated ${names.join(', ')}`,
      };
    }
    case 'cut': {
      const from = pick(fault.from, pool, random);
      const to = pick(fault.to, pool, random);
      const links = from.flatMap((f) => to.filter((t) => t !== f).map((t): Link => [f, t]));
      return {
        actions: [{kind: 'cut', links, record: {kind: 'cut', from, to, ...tag}}],
        next: {...state, net: add({...cause, kind: 'cut', links})},
        describe: {from, to},
        summary: `cut ${from.join(', ')} -> ${to.join(', ')}`,
      };
    }
    case 'heal': {
      // A heal clears what its own side made: a step's heal leaves the nemesis's faults to their recovery.
      const net = state.net.filter((r) => !sameCause(r, cause));
      return {actions: [{kind: 'heal', record: tag}], next: {...state, net}, describe: {}, summary: 'healed'};
    }
    case 'loss': {
      const links = fault.between ? linksBetween(fault.between) : 'all';
      const percent = fault.rate * 100;
      return {
        actions: [{kind: 'loss', percent, links, record: {kind: 'loss', ...(fault.between ? {between: fault.between} : {}), ...tag}}],
        next: {...state, net: add({...cause, kind: 'loss', percent, links})},
        describe: {rate: fault.rate},
        summary: `loss ${percent}%`,
      };
    }
    case 'delay': {
      const links = fault.between ? linksBetween(fault.between) : 'all';
      return {
        actions: [{kind: 'delay', ms: fault.ms, jitter: fault.jitter, links, record: {kind: 'delay', ...(fault.between ? {between: fault.between} : {}), ...tag}}],
        next: {...state, net: add({...cause, kind: 'delay', ms: fault.ms, jitter: fault.jitter, links})},
        describe: {ms: fault.ms, jitter: fault.jitter},
        summary: `delay ${fault.ms}ms`,
      };
    }
    default:
      throw new Error(`${fault.kind} is not a fault`);
  }
}

function sameCause(rule: NetRule, cause: Cause): boolean {
  return rule.by === cause.by && (rule.by === 'step' || rule.round === (cause as {round: number}).round);
}

/**
 * Round k at logical time k × every: one fault drawn from the plan, victims drawn from the
 * nemesis's pool. Named and `all` targets become the names drawn, as before.
 */
function planRound(state: FaultState, action: Extract<NemesisAction, {nemesis: 'round'}>, random: Random): FaultPlan {
  const atMs = action.round * action.everyMs;
  const choice = action.faults[Math.floor(random.next() * action.faults.length)]!;
  const pool = nemesisPool(state, atMs);
  const step = choice.step;
  const plan = planOne(state, step as StepFault, {by: 'nemesis', round: action.round}, pool, random);
  const victims = (plan.describe.peers as string[] | undefined) ?? [];
  const round: NemesisRound = {
    kind: step.kind,
    title: step.title,
    victims,
    untilMs: choice.recoverAfterMs === undefined ? null : atMs + choice.recoverAfterMs,
    ...(choice.recoverAfterMs !== undefined ? {recoverAfterMs: choice.recoverAfterMs} : {}),
  };
  const next = {...plan.next, nemesis: {...plan.next.nemesis, rounds: {...plan.next.nemesis.rounds, [action.round]: round}}};
  return {...plan, next, chosen: {...round, round: action.round}};
}

/**
 * Undoes what round `n` did, and only that: its victims come back unless a step has them down (a
 * victim killed while a step holds it paused comes back paused); its network rules go.
 */
function planRecovery(state: FaultState, n: number): FaultPlan {
  const round = state.nemesis.rounds[n];
  const tag = {nemesis: n};
  if (!round) return {actions: [], next: state, describe: {}, summary: `no round ${n}`};
  if (round.kind === 'kill' || round.kind === 'pause') {
    const undo = round.kind === 'kill' ? 'restart' : 'resume';
    let down = state.down;
    const actions: PlannedAction[] = [];
    for (const peer of round.victims) {
      const was = down[peer] ?? {};
      if (was.nemesis?.round !== n) {
        // Recorded as the fault it would have been: the nemesis's sequence stays the same for the same seed.
        actions.push({kind: undo, peer, skipped: was.nemesis ? `round ${was.nemesis.round} has it down` : 'it is running again', record: tag});
        continue;
      }
      if (round.kind === 'kill' && was.step === 'pause') {
        // Killed by this round while a step holds it paused: restarted, then paused again, so the
        // step's hold is true again (a later resume step finds it paused, whatever the timing).
        actions.push({kind: 'restart', peer, record: tag});
        actions.push({kind: 'pause', peer, record: tag});
      } else if (was.step) actions.push({kind: undo, peer, skipped: 'a step has taken it down', record: tag});
      else actions.push({kind: undo, peer, record: tag});
      down = setDown(down, peer, was.step ? {step: was.step} : {});
    }
    return {actions, next: {...state, down}, describe: {peers: round.victims}, summary: `${round.victims.join(', ') || 'nobody'}: ${undo}`};
  }
  const net = state.net.filter((r) => !(r.by === 'nemesis' && r.round === n));
  return {actions: [{kind: 'heal', record: tag}], next: {...state, net}, describe: {}, summary: 'healed'};
}
