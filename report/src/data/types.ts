/**
 * The report's data: everything the page draws, computed in Node from a
 * history with the checkers' own code, so a picture never contradicts a
 * verdict. The page only lays it out; it decides nothing.
 *
 * Conventions, for size (a 1,000,000-event history must load in a browser):
 *  - times are integer milliseconds since `meta.t0` (the run's first event);
 *  - peers are indices into `peers`, event types into `eventLog.types`;
 *  - long series are columnar (parallel arrays of equal length), not arrays
 *    of objects.
 * Everything here is plain JSON: it travels as a classic script from
 * `file://` and as a socket.io message in the live view.
 */
import type {Status} from '@peerlab/checkers/history/types';

export const reportDataVersion = 1;

export interface ReportData {
  version: typeof reportDataVersion;
  meta: ReportMeta;
  /** Every peer the history names (spawned, reporting, or named in a view), sorted. Index = peer id everywhere. */
  peers: string[];
  timeline: Timeline;
  membership: Membership;
  convergence: ConvergenceChange[];
  detection: Detection;
  messages: Messages;
  eventLog: EventLogIndex;
}

export interface ReportMeta {
  scenario: string;
  file: string;
  runId: string;
  seed: number;
  status: Status;
  /** Why it did not pass, as result.json says it. */
  message?: string;
  /** Epoch ms of the first event: every other time is relative to it. */
  t0: number;
  /** Relative time of the last event. */
  end: number;
  /** The run is still going (live view): `end` moves. */
  live: boolean;
  /** The first failing (or, if none failed, undecided) step or invariant, where the page opens. */
  firstFailure?: {anchor: string; t: number; message: string};
  /** Figures of the run, as result.json has them. */
  figures: Record<string, number>;
  /**
   * Static reports of large runs only: `blocks` whose columns are not in
   * this data but in `parts` scripts `data-bulk-0.js` ... (see BulkPart), so
   * the first view paints without parsing them. Their arrays are empty here
   * (counts, such as `eventLog.count`, are kept); the page loads the parts
   * after its first paint and publishes the completed data without this
   * field. Absent: the data is whole (always so in the live view).
   */
  deferred?: {blocks: DeferredBlock[]; parts: number};
}

// ------------------------------------------------------------------ 1. overview strip

export interface Timeline {
  /** Scenario steps in the order they began; a block's children follow it, one level deeper. */
  steps: TimelineStep[];
  /** Faults as bands over time: from the fault to its heal/resume/restart, or to the end. */
  faults: FaultBand[];
  /** Per peer (index into `peers`): its process and membership states over time. */
  lifecycles: LifecycleSegment[][];
  /** Failed and undecided checks (steps and invariants), as markers. */
  checks: CheckMarker[];
  /** Events per bucket, over the whole run. */
  rate: {bucketMs: number; counts: number[]};
}

export interface TimelineStep {
  /** "3", or "5.2" inside a block. */
  path: string;
  /** `step-3`, `step-5.2`: the anchor a failure message links to (`report/index.html#step-5.2`). */
  anchor: string;
  kind: string;
  title: string;
  line: number;
  depth: number;
  begin: number;
  /** Undefined: it never ended (the run stopped in it). */
  end?: number;
  status: Status;
  message?: string;
  figures?: Record<string, number>;
}

export type FaultBandKind = 'partition' | 'isolate' | 'cut' | 'loss' | 'delay' | 'kill' | 'pause' | 'stop' | 'restart' | 'leave';

export interface FaultBand {
  kind: FaultBandKind;
  from: number;
  /** When it ended (healed, resumed, restarted, rejoined), or undefined: it lasted to the end. */
  to?: number;
  /** The peers it hit (a partition: all peers it separated). */
  peers: number[];
  /** One line for a tooltip: "partition [alice, bob] | [carol]". */
  label: string;
  /** For partitions and isolations: the sides, as peer indices. */
  sides?: number[][];
}

/**
 * The one colour per fault kind: the bands and the legend both take it from
 * here, so the legend is exactly the bands' colours.
 */
export const faultColors: Record<FaultBandKind, string> = {
  partition: '#e4572e',
  isolate: '#f3a712',
  cut: '#a8201a',
  loss: '#7b68ee',
  delay: '#29a3a3',
  kill: '#222222',
  pause: '#8d99ae',
  stop: '#5c4d7d',
  restart: '#3a86ff',
  leave: '#6a994e',
};

export type LifecycleState = 'running' | 'paused' | 'left' | 'down';

export interface LifecycleSegment {
  from: number;
  /** Undefined: to the end. */
  to?: number;
  state: LifecycleState;
}

export interface CheckMarker {
  t: number;
  status: Status;
  /** "step 4 await converged within 5s" or "invariant membership-legality". */
  label: string;
  message: string;
  /** The step's anchor, or `invariant-<name>`. */
  anchor: string;
}

// ------------------------------------------------------------------ 2. membership matrix

/** Member states as numbers in the columnar arrays. `absent`: the view forgot the member, or was reset by a restart. */
export const memberStates = ['alive', 'suspect', 'dead', 'left', 'absent'] as const;
export type MemberStateName = (typeof memberStates)[number];

export interface Membership {
  /**
   * Every change of one observer's view of one subject, in history order
   * (columnar). A `peer.started` resets the observer's whole view: it is
   * written as `absent` for each subject it held, then its own entry.
   */
  changes: {t: number[]; observer: number[]; subject: number[]; state: number[]; incarnation: number[]};
  /**
   * What each view should be, from the coordinator's knowledge, as the
   * convergence checker defines it (its `expectedView`): one epoch per change
   * of the live set or of the network's sides. A live observer should hold
   * live exactly the members of its side; an observer out of the live set
   * should hold the live set.
   */
  epochs: {t: number[]; live: number[][]; sides: number[][][]};
}

// ------------------------------------------------------------------ 3. convergence against the model

export type ChangeKind = 'join' | 'kill' | 'leave' | 'heal' | 'restart' | 'pause' | 'resume';

export interface ConvergenceChange {
  kind: ChangeKind;
  t: number;
  /** The peer the change is about (undefined for a heal). */
  subject?: number;
  label: string;
  /** Live observers when it happened. */
  n: number;
  /** Fraction of live observers whose view reflects the change, and the number of distinct live views, over time. */
  curve: {t: number[]; fraction: number[]; views: number[]};
  /** When every live observer reflected it; undefined if it never did before the next change or the end. */
  completeAt?: number;
  /** The epidemic model's curve for this N and the peers' timing; undefined when the peers reported no usable timing. */
  model?: {t: number[]; fraction: number[]; ms: number};
}

// ------------------------------------------------------------------ 4. failure detection

export interface Detection {
  faults: DetectionFault[];
  /** Suspicions and deaths of a peer that was live and reachable from the observer at the time. */
  falseSuspicions: Array<{t: number; observer: number; subject: number}>;
  falseDeaths: Array<{t: number; observer: number; subject: number}>;
}

export interface DetectionFault {
  kind: 'kill' | 'pause' | 'stop' | 'isolate' | 'partition';
  t: number;
  subject: number;
  /** The bound from the model (failureDetectionBoundMs), if timing is known. */
  boundMs?: number;
  /** One bar per observer that was live at the fault. */
  observers: Array<{observer: number; suspectAt?: number; deadAt?: number; refutations: number[]}>;
}

// ------------------------------------------------------------------ 5, 6. messages

export interface Messages {
  /** One entry per sent message (columnar), in send order. */
  sent: {id: string[]; sender: number[]; t: number[]};
  /** One entry per delivery (columnar), in history order. `flag`: 0 ok, 1 duplicate, 2 out of order. */
  deliveries: {message: number[]; peer: number[]; t: number[]; flag: number[]};
  /** Receivers the delivered checker expected and that never delivered: the ✕ ends. */
  missing: {message: number[]; peer: number[]};
  /**
   * Receivers a `delivered` await that did not pass found missing when it was
   * judged: `t` is that await's end (its deadline), `step` its path. A
   * delivery of the message at that peer after `t` arrived late; none, and it
   * is in `missing` as well.
   */
  missingAtAwait: {message: number[]; peer: number[]; t: number[]; step: string[]};
  /** Delivered, never sent (by id): drawn with no send end. */
  unsent: Array<{id: string; peer: number; t: number}>;
  /** Delivery latency percentiles per bucket (ms); NaN-free: a bucket without deliveries is null. */
  latency: {bucketMs: number; p50: Array<number | null>; p99: Array<number | null>; max: Array<number | null>};
}

// ------------------------------------------------------------------ 7. event log

/**
 * The index of every event (columnar, in history order), in the main data
 * so the log can be filtered and scrolled at once; the events' text comes
 * in chunks, loaded when a row is shown (classic scripts `events-<n>.js`
 * from `file://`, a socket.io request live).
 */
export interface EventLogIndex {
  count: number;
  t: number[];
  /** Index into `sources`. */
  src: number[];
  /** Index into `types`. */
  type: number[];
  sources: string[];
  types: string[];
  /** Events per chunk: event i is in chunk floor(i / chunkSize). */
  chunkSize: number;
}

/** What a chunk holds: the events of its range, as the history has them. */
export interface EventChunk {
  index: number;
  events: Array<{t: number; src: string; type: string; data?: unknown}>;
}

/**
 * The names the static files use to hand data to the page (classic scripts
 * work from `file://`; fetch does not): `data.js`, loaded before `app.js`,
 * sets `window[reportGlobal] = data`; `events-<n>.js`, added as a script tag
 * when a row of its range is shown, calls `window[chunkGlobal](chunk)`.
 * A page without `window[reportGlobal]` is the live view: it connects to the
 * socket.io namespace `liveNamespace` of the server that served it.
 */
export const reportGlobal = 'peerlabReport';
export const chunkGlobal = 'peerlabEvents';
export function chunkFileName(index: number): string {
  return `events-${String(index).padStart(4, '0')}.js`;
}

/** `deliveries`: `messages.deliveries`; `eventLog`: the columns `t`, `src`, `type` of `eventLog`. */
export type DeferredBlock = 'deliveries' | 'eventLog';

/**
 * One deferred column, in its own script `data-bulk-<index>.js` that calls
 * `window[bulkGlobal](part)`: one column a script, so no single script is a
 * long task to parse. `delta`: the first value, then each next one as the
 * difference from the previous (times and message indices mostly grow by
 * little); `plain`: the values as they are. Those numbers are in `values`, or,
 * when every one is in [-bulkCharBias + 0x80, 0xd800 - bulkCharBias), in
 * `chars`: one UTF-16 unit each, the number plus `bulkCharBias` (a string
 * parses many times faster than an array of a million numbers).
 */
export interface BulkPart {
  index: number;
  block: DeferredBlock;
  column: string;
  encoding: 'delta' | 'plain';
  values?: number[];
  chars?: string;
}

export const bulkCharBias = 0x400;

export const bulkGlobal = 'peerlabBulk';
export function bulkFileName(index: number): string {
  return `data-bulk-${index}.js`;
}

/**
 * The live view's socket.io namespace. Server → page: `hello` (LiveHello) first, then
 * `report` (ReportData) whenever the history has grown (throttled). Page → server: `chunk`
 * (index, ack(EventChunk | {error})). The page connects with `auth: {token}` when it has one
 * (the URL's ?token=), over the WebSocket transport only (the server takes no polling).
 */
export const liveNamespace = '/view';

/** `read`: a viewer; `control`: it showed the run token, so it may drive peers over the REST API (with that token). */
export type LiveAccess = 'read' | 'control';

/** The first message of the live view, before any `report`. */
export interface LiveHello {
  access: LiveAccess;
  runId?: string;
}
