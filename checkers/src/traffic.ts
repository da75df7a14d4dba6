/**
 * What the peers cost the network, from their own counters: packets and bytes
 * sent per peer per second, in each phase of a run, and a scenario's bounds on
 * them judged like an invariant.
 *
 * The counters: each peer process reports `net.counters`, its cumulative
 * datagrams and connections sent (`udpOut + tcpOut` are its packets) and the
 * bytes of both, counted from its `peer.started` (which counts as a report of
 * zeros). Between two consecutive reports of one process, the differences are
 * spread evenly over the time between them; a counter that goes down means a
 * new process whose `peer.started` is missing, and starts again from there
 * without a rate. What a process sent after its last report is not counted.
 *
 * The phases, one at each instant, from the history alone:
 *  - forming: from the first peer spawned or started until the group is
 *    converged (checkers/src/converged.ts) for the first time at or after the
 *    end of the first `start` step: the peers meet and exchange state;
 *  - churn: afterwards, while the group is not converged (a peer killed,
 *    restarted, leaving or joining late, until every view agrees again) or a
 *    fault is in effect though views agree: a peer paused (until resumed),
 *    links blocked by partition, isolate or cut (until healed), loss or delay
 *    (until a heal that keeps none: its `kept_rates`);
 *  - rest: afterwards, the group converged and no fault in effect.
 * The run is measured until its last step ended (or its run.end): the peers'
 * shutdown is no phase.
 *
 * Per phase: each peer's rate is what it sent in the phase over the time it
 * spent reporting in it; `<phase>_packets_per_peer_s` and
 * `<phase>_bytes_per_peer_s` are the mean of those rates over the peers,
 * `<phase>_max_packets_per_peer_s` and `<phase>_max_bytes_per_peer_s` the
 * busiest peer's, and `<phase>_duration_s` how long the phase lasted in all.
 * A peer counts in a phase only when at least a quarter of the reports its
 * rate there rests on lies in the phase (MIN_PHASE_SHARE): the rates are only
 * as fine as the reports, and a phase much shorter than the time between two
 * has no figures rather than borrowed ones.
 */
import type {HistoryEvent, TrafficBounds, Verdict} from './history/types.js';
import {isEvent} from './history/types.js';
import {ConvergenceTracker} from './converged.js';
import {evidence, peerOf} from './model.js';

export type TrafficPhase = 'forming' | 'rest' | 'churn';
export const trafficPhaseNames: readonly TrafficPhase[] = ['forming', 'rest', 'churn'];

/** A stretch of the run in one phase: [from, to) in epoch ms. */
export interface PhaseSpan {
  phase: TrafficPhase;
  from: number;
  to: number;
}

/** The run cut into phases, in time order, adjacent spans in different phases. */
export function trafficPhases(history: readonly HistoryEvent[]): PhaseSpan[] {
  const startStepEnd = history.find((e) => e.src === 'coordinator' && isEvent(e, 'step.end') && e.data.kind === 'start')?.t;
  const lastStepEnd = history.findLast((e) => e.src === 'coordinator' && isEvent(e, 'step.end'))?.t;
  const runEnd = history.findLast((e) => e.src === 'coordinator' && isEvent(e, 'run.end'))?.t;
  let end = lastStepEnd ?? runEnd ?? -Infinity;
  if (end === -Infinity) for (const e of history) end = Math.max(end, e.t);
  const tracker = new ConvergenceTracker();
  const model = tracker.model;
  const spans: PhaseSpan[] = [];
  let begun: number | undefined;
  let formed = false;
  let paused = false;
  let lossOrDelay = false;
  let clock = -Infinity;
  const enter = (next: TrafficPhase, at: number) => {
    const last = spans.at(-1);
    if (last && last.phase === next) return;
    if (last) last.to = at;
    spans.push({phase: next, from: at, to: at});
  };
  for (const e of history) {
    // Peers' clocks and the coordinator's interleave: time only moves forward here.
    clock = Math.max(clock, e.t);
    if (clock >= end) break;
    tracker.apply(e);
    if (e.src === 'coordinator') {
      if (isEvent(e, 'peer.spawn') || isEvent(e, 'peer.exit') || isEvent(e, 'peer.kill')) paused = model.peers().some((p) => model.liveness(p) === 'paused');
      else if (isEvent(e, 'fault')) {
        if (e.data.kind === 'loss' || e.data.kind === 'delay') lossOrDelay = true;
        else if (e.data.kind === 'heal') lossOrDelay = e.data.kept_rates === true;
      }
    }
    if (begun === undefined && (isEvent(e, 'peer.spawn') || isEvent(e, 'peer.started'))) begun = clock;
    if (begun === undefined) continue;
    if (!formed && tracker.holds && (startStepEnd === undefined || clock >= startStepEnd)) formed = true;
    const phase: TrafficPhase = !formed ? 'forming' : tracker.holds && !paused && !lossOrDelay && !model.hasBlockedLinks() ? 'rest' : 'churn';
    enter(phase, clock);
  }
  const last = spans.at(-1);
  if (last) last.to = Math.max(last.from, end);
  // A phase left in the same ms it was entered is no span, and the spans around it are one.
  const merged: PhaseSpan[] = [];
  for (const span of spans) {
    if (span.to <= span.from) continue;
    const before = merged.at(-1);
    if (before && before.phase === span.phase) before.to = span.to;
    else merged.push(span);
  }
  return merged;
}

/** What one peer sent in one phase, and over how long it reported in it. */
interface Sent {
  packets: number;
  bytes: number;
  ms: number;
  /** The whole length of the intervals between reports that reach into the phase: `ms` is part of it. */
  touched: number;
}

/**
 * A peer's rate in a phase is given only when at least this share of the
 * reports it rests on lies in the phase: a tenth of a second of rest inside
 * a one-second report would otherwise be measured as what the peer sent
 * while forming. A quarter keeps churn made of one-second pieces measured.
 */
export const MIN_PHASE_SHARE = 0.25;

interface Counters {
  t: number;
  packets: number;
  bytes: number;
}

/** Per phase, per peer: what it sent there. Spans must be in time order (as trafficPhases gives them). */
export function sentByPhase(history: readonly HistoryEvent[], spans: readonly PhaseSpan[]): Map<TrafficPhase, Map<string, Sent>> {
  const out = new Map<TrafficPhase, Map<string, Sent>>();
  const last = new Map<string, Counters>();
  const spread = (peer: string, a: Counters, b: Counters) => {
    const ms = b.t - a.t;
    if (!(ms > 0)) return;
    const touched = new Set<TrafficPhase>();
    // A long run under churn has many spans: start at the first that can overlap, not at the beginning.
    for (let i = firstEndingAfter(spans, a.t); i < spans.length && spans[i]!.from < b.t; i++) {
      const span = spans[i]!;
      const overlap = Math.min(span.to, b.t) - Math.max(span.from, a.t);
      if (overlap <= 0) continue;
      const share = overlap / ms;
      let phase = out.get(span.phase);
      if (!phase) out.set(span.phase, (phase = new Map()));
      const sent = phase.get(peer) ?? {packets: 0, bytes: 0, ms: 0, touched: 0};
      sent.packets += (b.packets - a.packets) * share;
      sent.bytes += (b.bytes - a.bytes) * share;
      sent.ms += overlap;
      if (!touched.has(span.phase)) sent.touched += ms;
      touched.add(span.phase);
      phase.set(peer, sent);
    }
  };
  for (const e of history) {
    const peer = peerOf(e.src);
    if (peer === undefined) continue;
    if (isEvent(e, 'peer.started')) {
      last.set(peer, {t: e.t, packets: 0, bytes: 0});
    } else if (isEvent(e, 'net.counters')) {
      const now: Counters = {t: e.t, packets: e.data.udpOut + e.data.tcpOut, bytes: e.data.udpOutBytes + e.data.tcpOutBytes};
      const before = last.get(peer);
      if (before && now.packets >= before.packets && now.bytes >= before.bytes) spread(peer, before, now);
      last.set(peer, now);
    }
  }
  return out;
}

/** The index of the first span that ends after t (spans are in time order and do not overlap). */
function firstEndingAfter(spans: readonly PhaseSpan[], t: number): number {
  let lo = 0;
  let hi = spans.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (spans[mid]!.to <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Packets to a tenth, bytes to the byte: finer would only be noise. Rounding by division leaves no 12.2999... */
const rounded = {packets: (v: number) => Math.round(v * 10) / 10, bytes: (v: number) => Math.round(v)};

/** One phase of a run: how long it lasted, and each peer's rates in it (rounded as the figures are). */
export interface PhaseTraffic {
  durationMs: number;
  peers: Map<string, {packets: number; bytes: number}>;
}

/** Per phase the run was in and some peer reported in: its rates. */
export type TrafficMeasure = Map<TrafficPhase, PhaseTraffic>;

export function measureTraffic(history: readonly HistoryEvent[]): TrafficMeasure {
  const spans = trafficPhases(history);
  const sent = sentByPhase(history, spans);
  const measure: TrafficMeasure = new Map();
  for (const phase of trafficPhaseNames) {
    const peers = new Map<string, {packets: number; bytes: number}>();
    for (const [peer, s] of sent.get(phase) ?? []) {
      if (s.ms > 0 && s.ms >= MIN_PHASE_SHARE * s.touched) peers.set(peer, {packets: rounded.packets((s.packets * 1000) / s.ms), bytes: rounded.bytes((s.bytes * 1000) / s.ms)});
    }
    if (peers.size === 0) continue;
    const durationMs = spans.filter((s) => s.phase === phase).reduce((a, s) => a + s.to - s.from, 0);
    measure.set(phase, {durationMs, peers});
  }
  return measure;
}

/** The peer with the highest rate of a kind, and that rate. */
function busiest(phase: PhaseTraffic, kind: 'packets' | 'bytes'): {peer: string; rate: number} {
  let top = {peer: '', rate: -Infinity};
  for (const [peer, rates] of phase.peers) if (rates[kind] > top.rate) top = {peer, rate: rates[kind]};
  return top;
}

function mean(phase: PhaseTraffic, kind: 'packets' | 'bytes'): number {
  let sum = 0;
  for (const rates of phase.peers.values()) sum += rates[kind];
  return rounded[kind](sum / phase.peers.size);
}

/** The traffic figures of a run (the module comment names them); none when no peer reported counters. */
export function trafficFigures(measure: TrafficMeasure): Record<string, number> {
  const figures: Record<string, number> = {};
  for (const [phase, traffic] of measure) {
    figures[`${phase}_packets_per_peer_s`] = mean(traffic, 'packets');
    figures[`${phase}_max_packets_per_peer_s`] = busiest(traffic, 'packets').rate;
    figures[`${phase}_bytes_per_peer_s`] = mean(traffic, 'bytes');
    figures[`${phase}_max_bytes_per_peer_s`] = busiest(traffic, 'bytes').rate;
    figures[`${phase}_duration_s`] = Math.round(traffic.durationMs / 100) / 10;
  }
  return figures;
}

/** A limit's key in a scenario, what it limits, and its unit in words. */
const limits = [
  {key: 'max_packets_per_peer_s', kind: 'packets', unit: 'packets/s'},
  {key: 'max_bytes_per_peer_s', kind: 'bytes', unit: 'bytes/s'},
] as const;

/** The peer's last counter reports in the phase: how fast its counters climbed there. */
function reportsIn(history: readonly HistoryEvent[], peer: string, phase: TrafficPhase): string[] {
  const spans = trafficPhases(history).filter((s) => s.phase === phase);
  const inPhase = (t: number) => spans.some((s) => t > s.from && t <= s.to);
  return evidence(history, Infinity, (e) => e.src === `peer:${peer}` && isEvent(e, 'net.counters') && inPhase(e.t), 5);
}

/**
 * Judges a scenario's traffic bounds: fails when, in a bounded phase, the
 * busiest peer sent more per second than allowed, naming it; unknown when a
 * bounded phase was not measured (the run never was in it, or no peer
 * reported counters).
 */
export function trafficVerdict(measure: TrafficMeasure, bounds: TrafficBounds, history?: readonly HistoryEvent[]): Verdict {
  const within: string[] = [];
  const unjudged: string[] = [];
  for (const phase of trafficPhaseNames) {
    const bound = bounds[phase];
    if (!bound) continue;
    for (const {key, kind, unit} of limits) {
      const max = bound[key];
      if (max === undefined) continue;
      const traffic = measure.get(phase);
      if (!traffic) {
        unjudged.push(`${phase}.${key}`);
        continue;
      }
      const top = busiest(traffic, kind);
      if (top.rate > max) {
        return {
          status: 'fail',
          message: `${phase}: ${top.peer} sent ${top.rate} ${unit}, above the bound of ${max} (mean ${mean(traffic, kind)} ${unit} per peer, over ${Math.round(traffic.durationMs / 100) / 10} s)`,
          ...(history ? {evidence: reportsIn(history, top.peer, phase)} : {}),
        };
      }
      within.push(`${phase} ${top.rate} ${unit} <= ${max}`);
    }
  }
  if (unjudged.length > 0) {
    const why = measure.size === 0 ? 'no peer reported net.counters' : 'the run was not in that phase long enough to measure, for the peers\' reports';
    return {status: 'unknown', message: `cannot judge ${unjudged.join(', ')}: ${why}`};
  }
  return {status: 'pass', message: `busiest peer: ${within.join('; ')}`};
}
