/**
 * The event contract: every event a peer reports and every event the
 * coordinator writes to a run's history, with the fields of its `data`, as
 * zod schemas. Everything else derives from here: the TypeScript types the
 * peer, the agent, the hub, the engine and the checkers use (a renamed field
 * fails the build wherever it is written or read), the hub's check of each
 * event a peer sends, the check of each line of a history read back, and the
 * JSON Schema in docs/events.schema.json for agents in other languages.
 *
 * This module holds zod at run time. The peer's bundle must not: the peer and
 * the client agent import from here with `import type` only.
 *
 * Objects accept fields they do not name (the protocol ignores extra fields),
 * and a type the contract does not list is an extension: stored as it came
 * and otherwise ignored. A listed type with a missing or wrong field is
 * malformed.
 */
import {z} from 'zod';
import {Ajv} from 'ajv';
import type {ValidateFunction} from 'ajv';
import {PEER_NAME} from './names.js';
import {EVENT_FAMILIES, EVENT_FIELDS} from './capabilities.js';

// ---------------------------------------------------------------- field kinds

const peerName = z.string().regex(PEER_NAME, 'a peer name (1-64 characters of A-Z a-z 0-9 . _ -)');
/** `host:port`. */
const address = z.string().min(1).max(300);
/** 0 and up, a safe integer (the reference peer keeps it within 2^32 - 1). */
const incarnation = z.int().min(0);
/** What a peer's hello declares it reports (./capabilities). */
const capabilities = z.object({events: z.array(z.enum(EVENT_FAMILIES)), fields: z.array(z.enum(EVENT_FIELDS))});
const count = z.int().min(0);
/** Epoch ms. */
const time = z.number();
const pid = z.int().min(1);
const memberState = z.enum(['alive', 'suspect', 'dead', 'left']);
const status = z.enum(['pass', 'fail', 'unknown']);
/** A step's place in the scenario: "3", "5.2.1". */
const stepPath = z.string().regex(/^\d+(\.\d+)*$/, 'a step path like "3" or "5.2.1"');
const link = z.tuple([peerName, peerName]);
const links = z.union([z.literal('all'), z.array(link)]);
const figures = z.record(z.string(), z.number());
const wireError = z.object({message: z.string(), code: z.string()});
const anyObject = z.record(z.string(), z.unknown());
/** A chat message's id: `<sender>:<epoch>:<seq>`. */
const chatId = z.string().min(1).max(200);
/** Message ids a chat message depends on: its sender's causal frontier when it was sent. */
const chatDeps = z.array(chatId).max(1000);
const positive = z.number().positive();
/**
 * The timing knobs a peer runs with, memberlist's names (probeIntervalMs,
 * suspicionMult, suspicionMaxTimeoutMult, gossipIntervalMs, gossipNodes,
 * retransmitMult, pushPullIntervalMs, chatSyncIntervalMs): the harness's SWIM
 * and epidemic model reads them (@peerlab/checkers/swim-model) to turn
 * `within: 3x model` into milliseconds. Any object is accepted here and the
 * knobs are checked where they are used: a peer whose timing is wrong or
 * incomplete loses only its model bounds (they are unknown, saying why), not
 * its peer.started and with it every verdict.
 */
const timing = anyObject;
/** A model-relative bound as the engine resolved it: the model's figure for this condition at N members, and the multiple the scenario allows (absent for a wall-clock bound). */
const modelBound = z.object({ms: z.number().min(0), n: count, multiple: positive.optional()});
/** The most any one peer may send in a phase of the run, per second. */
const trafficLimit = z.object({max_packets_per_peer_s: z.number().min(0).optional(), max_bytes_per_peer_s: z.number().min(0).optional()});
/** A scenario's traffic bounds, by phase (checkers/src/traffic.ts defines the phases). */
export const trafficBounds = z.object({forming: trafficLimit.optional(), rest: trafficLimit.optional(), churn: trafficLimit.optional()});

// ---------------------------------------------------------------- peer events

/** `data` of every event a peer's agent reports, by type (src `peer:<name>`). */
export const peerEventData = {
  /** Once per process, as its first event: its view starts from nothing but itself. */
  'peer.started': z.object({address, incarnation, profile: z.string(), timing: timing.optional()}),
  /** Its join exchanged state with a seed: from here on it is part of the group. */
  'peer.joined': z.object({via: address, seeds: count}),
  'member.joined': z.object({name: peerName, address, incarnation}),
  'member.alive': z.object({name: peerName, address, incarnation, previous: z.enum(['suspect', 'dead', 'left'])}),
  'member.suspect': z.object({name: peerName, incarnation, from: peerName}),
  'member.dead': z.object({name: peerName, incarnation, from: peerName}),
  /** `name` may be the peer itself: it left. */
  'member.left': z.object({name: peerName, incarnation}),
  'member.updated': z.object({name: peerName, address, incarnation, reason: z.enum(['refute', 'incarnation', 'address'])}),
  /** A dead or left member forgotten: out of this view. */
  'member.reaped': z.object({name: peerName, state: z.enum(['dead', 'left']), incarnation}),
  /**
   * `seq` is the message's number in its sender's stream, not the event's.
   * The id is `<sender>:<epoch>:<seq>`: the actor is the sender's name and a
   * boot epoch, new for every process, so a restarted peer never reuses one.
   * `deps` (causal chat) are the ids the sender had delivered and that no
   * other of its deliveries already depended on: its causal frontier when it
   * sent; `reply_to` the message it answers (one of `deps`). Optional for
   * peers without causal delivery; the causal checker builds happens-before
   * from the order of deliveries and sends, and only uses `deps` to catch a
   * dependency the sender had not delivered.
   */
  'chat.sent': z.object({id: chatId, sender: peerName, seq: z.int().min(1), text: z.string(), deps: chatDeps.optional(), reply_to: chatId.optional()}),
  'chat.delivered': z.object({id: chatId, sender: peerName, seq: z.int().min(1), sentAt: time, deps: chatDeps.optional()}),
  /**
   * Causal chat: a message from another peer arrived before something it
   * depends on was delivered here, and waits; `missing` are those of its
   * `deps` (or its sender's previous message) not yet delivered. Reported
   * once per message per process, when it is first held (again only if it
   * was evicted from a full hold-back buffer and had to wait again when it
   * came back).
   */
  'chat.held': z.object({id: chatId, sender: peerName, seq: z.int().min(1), deps: chatDeps, missing: chatDeps}),
  /**
   * Optional. What this process has sent so far, counted from its peer.started
   * (a restart starts again from 0), reported every second or so: packets and
   * bytes per second per peer are the differences between two reports.
   * `udpOut` counts datagrams, `tcpOut` connections opened; the bytes are
   * payload bytes (UDP) and bytes written (TCP, requests and replies alike).
   */
  'net.counters': z.object({udpOut: count, udpOutBytes: count, tcpOut: count, tcpOutBytes: count}),
  /** A command the coordinator stopped waiting for has really ended (client-agent). */
  'command.late': z.object({id: z.string(), name: z.string(), ms: z.number().min(0), ok: z.boolean(), error: z.string().optional()}),
} as const;

// ---------------------------------------------------------------- coordinator events

/** Awaitable conditions, as a scenario's `await` step holds them after normalisation. */
export const condition = z.discriminatedUnion('kind', [
  z.object({kind: z.literal('converged')}),
  z.object({kind: z.literal('delivered')}),
  z.object({kind: z.literal('state'), of: peerName, is: memberState, seenBy: z.union([z.literal('all'), z.array(peerName)])}),
  /** Every failed peer (killed, paused, isolated) is dead in the view of every peer that can still reach the others. */
  z.object({kind: z.literal('detected')}),
  /** A restarted peer is alive in every live view with a higher incarnation than before its restart. */
  z.object({kind: z.literal('rejoined'), of: peerName}),
]);

const faultKind = z.enum(['kill', 'terminate', 'pause', 'resume', 'restart', 'partition', 'isolate', 'cut', 'loss', 'delay', 'heal']);

/**
 * A fault, recorded once it has taken effect. Process faults name `peer`
 * (with `skipped` when it could not be done); partition, isolate and cut add
 * `blocked` links (added to those already cut); loss has `rate` (0..1) and
 * `links`; delay `ms`, `jitter` and `links`; heal clears the network faults
 * of whoever healed (the steps, or the nemesis round that made them), and
 * `kept` lists the links still cut after it (the other side's): the blocked
 * links after a heal are exactly those, in one event, so no reader sees a
 * moment where every link was open; `kept_rates` says loss or delay (the
 * other side's) is still in force after it.
 * `groups`, `shape`, `targets`, `from`, `to`, `between` say how the scenario
 * described it, for people; `nemesis` is the nemesis round that made it.
 */
const faultData = z.looseObject({
  kind: faultKind,
  peer: peerName.optional(),
  skipped: z.string().optional(),
  blocked: z.array(link).optional(),
  rate: z.number().min(0).max(1).optional(),
  ms: z.number().min(0).optional(),
  jitter: z.number().min(0).optional(),
  links: links.optional(),
  groups: z.array(z.array(peerName)).optional(),
  shape: z.string().optional(),
  targets: z.array(peerName).optional(),
  from: z.array(peerName).optional(),
  to: z.array(peerName).optional(),
  between: z.array(z.array(peerName)).optional(),
  kept: z.array(link).optional(),
  kept_rates: z.literal(true).optional(),
  nemesis: count.optional(),
});

const stepBegin = {path: stepPath, kind: z.string(), title: z.string(), line: count};

/** `data` of every event the coordinator writes to the history, by type (src `coordinator`). */
export const coordinatorEventData = {
  /** The first line of every history. Every field is optional to a reader (evaluate has a default for each). */
  'run.begin': z.object({
    scenario: z.string().optional(),
    file: z.string().optional(),
    runId: z.string().optional(),
    seed: count.optional(),
    attempt: z.int().min(1).optional(),
    peers: z.array(peerName).optional(),
    profile: z.string().optional(),
    invariants: z.array(z.string()).optional(),
    timeoutMs: z.number().min(0).optional(),
    /** The file's own timeout, when the run held the scenario to a shorter one (`peerlab run --timeout`). */
    ownTimeoutMs: z.number().min(0).optional(),
    /** The scenario's traffic bounds, judged over the whole run like an invariant. */
    traffic: trafficBounds.optional(),
    /** What made the network faults: the peers' own net-* commands, or nftables rules in the kernel. */
    faults: z.enum(['peer', 'kernel']).optional(),
  }),
  /**
   * The coordinator begins stopping every peer (`peerlab up` on its way out):
   * what follows, peers leaving and exiting, is the run's end, not a fault.
   * A scenario run needs none: its teardown begins after its last step.
   */
  'run.stop': z.object({}),
  /** The last line: `error` when the run itself broke (not a failed step). */
  'run.end': z.object({error: z.string().optional()}),
  /** A process started; `pid` null if it could not be. */
  'peer.spawn': z.object({peer: peerName, pid: pid.nullable()}),
  /**
   * The hub accepted a hello; `registrations` counts reconnects. `capabilities`
   * is what the hello declared (empty lists when it declared nothing); absent
   * only in histories written before peers declared them.
   */
  'peer.registered': z.object({peer: peerName, pid, registrations: z.int().min(1), capabilities: capabilities.optional()}),
  'peer.exit': z.object({peer: peerName, pid: pid.nullable(), code: z.int().nullable(), signal: z.string().nullable(), unexpectedly: z.boolean()}),
  /** The coordinator sent a signal: SIGKILL, SIGTERM, SIGSTOP, SIGCONT. */
  'peer.kill': z.object({peer: peerName, signal: z.string()}),
  fault: faultData,
  /** `peers`, `command`, `args`, `expect` and a fault's description, by kind. */
  'step.begin': z.looseObject({
    ...stepBegin,
    peers: z.array(peerName).optional(),
    command: z.string().optional(),
    args: anyObject.optional(),
    expect: anyObject.optional(),
  }),
  'step.end': z.looseObject({
    ...stepBegin,
    status,
    message: z.string(),
    figures: figures.optional(),
    /** Why the step could not run (not a failed expectation). */
    error: z.string().optional(),
    durationMs: z.number().min(0),
  }),
  /** `step` is the step's path, or `fault` for a fault's own command. */
  'command.send': z.object({id: z.string(), step: z.string(), peer: peerName, name: z.string(), args: anyObject}),
  'command.reply': z.object({id: z.string(), step: z.string(), peer: peerName, ok: z.boolean(), result: z.unknown().optional(), error: wireError.optional()}),
  /** `withinMs` is the deadline in ms, resolved from the model for `within: model` (so a re-check uses the same number); `model` whenever a peer reported its timing. */
  'await.begin': z.object({step: stepPath, condition, withinMs: z.number({error: 'a duration in ms'}).min(0, {error: 'a duration in ms'}), model: modelBound.optional()}),
  'await.end': z.object({step: stepPath, condition, status, message: z.string(), figures: figures.optional()}),
  /** Events lost between two batches of a peer: `expected` .. `got - 1`. */
  'peer.gap': z.object({peer: peerName, expected: z.int().min(1), got: z.int().min(1)}),
  /** A malformed agent message, refused as a whole. */
  'protocol.error': z.object({socket: z.string(), peer: peerName.optional(), channel: z.string(), message: z.string()}),
  /**
   * A peer's event of a type this contract lists, with a field missing or
   * wrong: not recorded as the peer's, but as this. Its `seq` still counts
   * (it is no gap); `field` is the path in the event's data.
   */
  'event.rejected': z.object({peer: peerName, seq: z.int().min(1), time, type: z.string(), field: z.string(), message: z.string()}),
  /**
   * The nemesis: a round's fault (`round`, `fault`, and its description),
   * its `problems`, a recovery cut short by the scenario's end (`recover`,
   * `peers`, `early`), and its end (`done`, `rounds`, `stopped`).
   */
  nemesis: z.looseObject({
    round: count.optional(),
    fault: z.string().optional(),
    peers: z.array(peerName).optional(),
    problems: z.array(z.string()).optional(),
    recover: z.string().optional(),
    early: z.boolean().optional(),
    done: z.boolean().optional(),
    rounds: count.optional(),
    stopped: z.string().optional(),
  }),
} as const;

// ---------------------------------------------------------------- unions

type DataSchemas = Record<string, z.ZodType<Record<string, unknown>>>;

function variants<S extends DataSchemas>(schemas: S): Array<z.ZodObject<{type: z.ZodLiteral<keyof S & string>; data: S[keyof S]}>> {
  return Object.entries(schemas).map(([type, data]) => z.object({type: z.literal(type), data})) as never;
}

/** A peer event's `{type, data}`, one variant per type: zod dispatches on `type`. */
export const peerEvent = z.discriminatedUnion('type', variants(peerEventData) as never as [z.ZodObject<{type: z.ZodLiteral<string>; data: z.ZodType}>]);
/** A coordinator event's `{type, data}`. */
export const coordinatorEvent = z.discriminatedUnion('type', variants(coordinatorEventData) as never as [z.ZodObject<{type: z.ZodLiteral<string>; data: z.ZodType}>]);

export type PeerEventType = keyof typeof peerEventData;
export type CoordinatorEventType = keyof typeof coordinatorEventData;
export type EventType = PeerEventType | CoordinatorEventType;

export const peerEventTypes = new Set<string>(Object.keys(peerEventData));
export const coordinatorEventTypes = new Set<string>(Object.keys(coordinatorEventData));

export type PeerEventData<K extends PeerEventType> = z.infer<(typeof peerEventData)[K]>;
export type CoordinatorEventData<K extends CoordinatorEventType> = z.infer<(typeof coordinatorEventData)[K]>;
/** The data of any event type in the contract: `EventData<'member.dead'>`. */
export type EventData<K extends EventType> = K extends PeerEventType ? PeerEventData<K> : K extends CoordinatorEventType ? CoordinatorEventData<K> : never;

export type Condition = z.infer<typeof condition>;
export type Status = z.infer<typeof status>;
export type MemberState = z.infer<typeof memberState>;
export type FaultKind = z.infer<typeof faultKind>;
export type TrafficBounds = z.infer<typeof trafficBounds>;

/** What a peer reports, as its agent records it: one variant per type. */
export type PeerEvent = {[K in PeerEventType]: {type: K; data: PeerEventData<K>}}[PeerEventType];
export type CoordinatorEvent = {[K in CoordinatorEventType]: {type: K; data: CoordinatorEventData<K>}}[CoordinatorEventType];

// ---------------------------------------------------------------- the history envelope

/** Where an event came from: the coordinator, or a peer (`peer:alice`). */
export type Source = 'coordinator' | `peer:${string}`;
export type PeerSource = `peer:${string}`;

/**
 * As read, an event's data may carry fields the contract does not name
 * (extra fields are allowed): they read as unknown.
 */
type Open<T> = T & {readonly [field: string]: unknown};

/** One line of history.jsonl for a coordinator event of type K. */
export type CoordinatorHistoryEvent<K extends CoordinatorEventType = CoordinatorEventType> = {
  [P in K]: {t: number; src: 'coordinator'; type: P; data: Open<CoordinatorEventData<P>>; seq?: undefined};
}[K];

/** One line of history.jsonl for a peer event of type K. `seq` is the agent's sequence number. */
export type PeerHistoryEvent<K extends PeerEventType = PeerEventType> = {
  [P in K]: {t: number; src: PeerSource; type: P; data: Open<PeerEventData<P>>; seq?: number};
}[K];

/** An event of a type the contract does not list (a peer's own extension): stored as it came. */
export interface ExtensionHistoryEvent {
  t: number;
  src: Source;
  type: string;
  data: Record<string, unknown>;
  seq?: number;
}

/**
 * One line of history.jsonl: `{t, src, type, data, seq?}`. Narrow it with
 * `isEvent(e, 'member.dead')` to read typed data.
 */
export type HistoryEvent = CoordinatorHistoryEvent | PeerHistoryEvent | ExtensionHistoryEvent;

/**
 * The history event of a type the contract lists, its data exactly as the
 * contract has it (no open fields): what `isEvent` narrows to, so a field
 * renamed in the contract fails the build where it is read.
 */
export type HistoryEventOf<K extends EventType> = K extends CoordinatorEventType
  ? {t: number; src: 'coordinator'; type: K; data: Declared<CoordinatorEventData<K>>; seq?: undefined}
  : K extends PeerEventType
    ? {t: number; src: PeerSource; type: K; data: Declared<PeerEventData<K>>; seq?: number}
    : never;

/**
 * The fields a schema declares, without the open rest a loose object
 * (`fault`, `step.begin`, `step.end`, `nemesis`) adds: there, a field renamed
 * in the contract would otherwise still read, as unknown, where it is read.
 */
export type Declared<T> = {[F in keyof T as string extends F ? never : number extends F ? never : F]: T[F]};

// ---------------------------------------------------------------- checking

/** Where a value broke the contract: the field's path (`data.incarnation`), what was expected there and the value found. */
/** `a member.dead event`, `an await.begin event`: how a problem names the event it was found in. */
export function eventPhrase(type: string): string {
  return `${/^[aeiou]/i.test(type) ? 'an' : 'a'} ${type} event`;
}

export interface ContractProblem {
  field: string;
  expected: string;
  value: unknown;
}

function expectation(issue: z.core.$ZodIssue): string {
  // A schema that says in words what it expects (a duration, a step path) keeps its words.
  if (!/^(Invalid|Too (small|big)|Unrecognized)/.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'int' ? 'an integer' : `${/^[aeiou]/.test(issue.expected) ? 'an' : 'a'} ${issue.expected}`;
    case 'invalid_value':
      return issue.values.map((v) => JSON.stringify(v)).join(' or ');
    case 'invalid_union':
      return 'one of the shapes the contract allows';
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const sign = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
      return issue.origin === 'string' || issue.origin === 'array' ? `a length ${sign} ${String(bound)}` : `a ${issue.origin} ${sign} ${String(bound)}`;
    }
    default:
      return issue.message.replace(/^Invalid [a-z]+: /, '');
  }
}

function firstProblem(error: z.ZodError, data: unknown): ContractProblem {
  const issue = error.issues[0]!;
  let value: unknown = data;
  for (const key of issue.path) value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined;
  const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  return {field: `data${path}`, expected: expectation(issue), value};
}

/**
 * Checks a peer event's data against its type: the first problem, or
 * undefined when it conforms or the type is an extension. One dispatch on the type, one parse; the data is
 * not copied into the history (what was checked is what is stored).
 */
export function checkPeerEvent(type: string, data: unknown): ContractProblem | undefined {
  if (!Object.hasOwn(peerEventData, type)) return undefined;
  return check(peerChecks, type, (peerEventData as Record<string, z.ZodType>)[type]!, data);
}

/** Checks a coordinator event's data; an unlisted type is a problem of its own. */
export function checkCoordinatorEvent(type: string, data: unknown): ContractProblem | undefined {
  if (!coordinatorEventTypes.has(type)) return {field: 'type', expected: 'a coordinator event type', value: type};
  return check(coordinatorChecks, type, (coordinatorEventData as Record<string, z.ZodType>)[type]!, data);
}

/*
 * Every event the hub takes in and every line a history holds is checked, a
 * million of them in a long run. zod's parse cost 2.5 µs an event there (a
 * third of reading a history); the same schema as JSON Schema, compiled by
 * ajv, costs well under a tenth of that. So conforming data, nearly all of
 * it, takes ajv's path, and only data ajv refuses goes through zod, which
 * decides and words the problem: the contract stays written once, in zod,
 * and the schema ajv runs is generated from it, as docs/events.schema.json
 * is. Each type's check is compiled the first time it is needed.
 */
let ajv: Ajv | undefined;
const peerChecks = new Map<string, ValidateFunction>();
const coordinatorChecks = new Map<string, ValidateFunction>();

function check(compiled: Map<string, ValidateFunction>, type: string, schema: z.ZodType, data: unknown): ContractProblem | undefined {
  let fast = compiled.get(type);
  if (fast === undefined) {
    ajv ??= new Ajv({strict: false, allErrors: false});
    fast = ajv.compile(z.toJSONSchema(schema, {target: 'draft-07', io: 'input'}));
    compiled.set(type, fast);
  }
  if (fast(data)) return undefined;
  const result = schema.safeParse(data);
  return result.success ? undefined : firstProblem(result.error, data);
}

// ---------------------------------------------------------------- JSON Schema

/**
 * The contract as one JSON Schema (draft 2020-12): a history line is a peer
 * event or a coordinator event; `$defs` holds each event's data by type.
 */
export function eventsJsonSchema(): Record<string, unknown> {
  const envelope = (src: z.ZodType, union: z.ZodType, extra: Record<string, z.ZodType>) => z.intersection(z.object({t: time, src, ...extra}), union);
  // A peer event of a type the contract does not list is an extension, stored as it came: its data is any object.
  const extensionPeerEvent = z.object({type: z.string().min(1).max(64).meta({not: {enum: [...peerEventTypes]}}), data: anyObject});
  const line = z.union([
    envelope(z.literal('coordinator'), coordinatorEvent, {}),
    envelope(z.string().regex(new RegExp(`^peer:${PEER_NAME.source.slice(1, -1)}$`)), z.union([peerEvent, extensionPeerEvent]), {seq: z.int().min(1)}),
  ]);
  const wire = z.object({seq: z.int().min(1), time, type: z.string().min(1).max(64), data: anyObject});
  const schema = z.toJSONSchema(
    z.object({peerEvent, extensionPeerEvent, coordinatorEvent, historyLine: line, wireEvent: wire}),
    {target: 'draft-2020-12', io: 'input', unrepresentable: 'any'},
  ) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    $id: 'https://peerlab.dev/schema/events.schema.json',
    title: 'peerlab events',
    description:
      'The event contract between peers and the coordinator (events/src/contract.ts). A peer event is what an agent sends in an events batch ({seq, time, type, data}); its {type, data} must match peerEvent when its type is listed there, and any other type is an extension, stored as it came. A line of history.jsonl is a historyLine. Generated by `npm run schema`: do not edit.',
    $defs: schema.properties,
    anyOf: [{$ref: '#/$defs/historyLine'}],
  };
}
