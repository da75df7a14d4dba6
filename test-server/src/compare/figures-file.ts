/**
 * The figures of a run, kept to compare with a later run: every scenario's
 * figures, and every step's, as one sample per repeat.
 *
 * A step is keyed by its path and title ("4 await dave rejoined within 10s"):
 * both are in every result.json, both stay put when a commit changes the
 * peers rather than the scenario, and a step whose position or wording
 * changed is a different step, shown on one side only.
 */
import {readFile, stat} from 'node:fs/promises';
import path from 'node:path';
import {writeFileAtomic} from '@peerlab/node-kit/write-file-atomic';
import type {RunResult, ScenarioResult} from '../engine/results.js';

export const FIGURES_FORMAT = 'peerlab-figures';
export const FIGURES_VERSION = 1;

/** Figure name → one value per repeat that produced it. */
export type Samples = Record<string, number[]>;

export interface ScenarioSamples {
  /** How many times the scenario ran; a figure with fewer samples was missing from some runs (a step that failed early). */
  runs: number;
  figures: Samples;
  /** Step key (`<path> <title>`) → its figures. */
  steps: Record<string, Samples>;
}

export interface FiguresFile {
  format: typeof FIGURES_FORMAT;
  version: typeof FIGURES_VERSION;
  createdAt: string;
  /** The commit checked out where the run was made, when git could tell. */
  commit?: string;
  scenarios: Record<string, ScenarioSamples>;
}

export class FiguresFileError extends Error {}

export function stepKey(step: {path: string; title: string}): string {
  return `${step.path} ${step.title}`;
}

function add(into: Samples, figures: Record<string, number> | undefined): void {
  for (const [name, value] of Object.entries(figures ?? {})) (into[name] ??= []).push(value);
}

/**
 * Every repeat's figures, grouped by scenario name (a scenario repeated K times gives K samples per figure).
 * Two scenarios of one name in different files are two scenarios, not repeats: each is keyed `name (file)`.
 */
export function collectFigures(results: readonly (Pick<ScenarioResult, 'name' | 'figures' | 'steps'> & {file?: string})[], meta: {createdAt: string; commit?: string}): FiguresFile {
  const filesOf = new Map<string, Set<string>>();
  for (const r of results) (filesOf.get(r.name) ?? filesOf.set(r.name, new Set()).get(r.name)!).add(r.file ?? '');
  const keyOf = (r: {name: string; file?: string}) => ((filesOf.get(r.name)?.size ?? 0) > 1 ? `${r.name} (${path.basename(r.file ?? '')})` : r.name);
  const scenarios: Record<string, ScenarioSamples> = {};
  for (const result of results) {
    const into = (scenarios[keyOf(result)] ??= {runs: 0, figures: {}, steps: {}});
    into.runs++;
    add(into.figures, result.figures);
    for (const step of result.steps) {
      if (!step.figures || Object.keys(step.figures).length === 0) continue;
      add((into.steps[stepKey(step)] ??= {}), step.figures);
    }
  }
  return {format: FIGURES_FORMAT, version: FIGURES_VERSION, createdAt: meta.createdAt, ...(meta.commit ? {commit: meta.commit} : {}), scenarios};
}

export async function writeFigures(file: string, figures: FiguresFile): Promise<void> {
  // One line per figure, so a baseline stays short enough to read and to diff. Only a pretty-printed array of
  // numbers has raw newlines between its items: a string's newlines are escaped, so no step title is touched.
  const text = JSON.stringify(figures, null, 2).replace(/\[\n\s*([-+\d.eE]+(?:,\n\s*[-+\d.eE]+)*)\n\s*\]/g, (_, items: string) => `[${items.split(/,\n\s*/).join(', ')}]`);
  await writeFileAtomic(file, `${text}\n`);
}

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON path for messages: scenarios["three peers"].figures.converge_ms[2]. */
function field(parent: string, key: string | number): string {
  if (typeof key === 'number') return `${parent}[${key}]`;
  const plain = /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
  return parent ? `${parent}${plain}` : plain.replace(/^\./, '');
}

class Validator {
  constructor(private readonly file: string) {}

  fail(at: string, problem: string): never {
    throw new FiguresFileError(`${this.file}: ${at || '(top level)'}: ${problem}`);
  }

  object(value: Json, at: string): Record<string, Json> {
    if (!isObject(value)) this.fail(at, `expected an object, got ${describe(value)}`);
    return value;
  }

  number(value: Json, at: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.fail(at, `expected a finite number, got ${describe(value)}`);
    return value;
  }

  samples(value: Json, at: string): Samples {
    const out: Samples = {};
    for (const [name, list] of Object.entries(this.object(value, at))) {
      if (!Array.isArray(list)) this.fail(field(at, name), `expected an array of numbers, got ${describe(list)}`);
      out[name] = list.map((v, i) => this.number(v, field(field(at, name), i)));
    }
    return out;
  }

  /** Figures of one run, as a result.json has them: name → number. */
  figures(value: Json, at: string): Record<string, number> | undefined {
    if (value === undefined) return undefined;
    const out: Record<string, number> = {};
    for (const [name, v] of Object.entries(this.object(value, at))) out[name] = this.number(v, field(at, name));
    return out;
  }

  string(value: Json, at: string): string {
    if (typeof value !== 'string') this.fail(at, `expected a string, got ${describe(value)}`);
    return value;
  }
}

function describe(value: Json): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `a${typeof value === 'object' ? 'n' : ''} ${typeof value}`;
}

function parseFiguresFile(v: Validator, top: Record<string, Json>): FiguresFile {
  if (top.version !== FIGURES_VERSION) v.fail('version', `expected ${FIGURES_VERSION} (this peerlab reads version ${FIGURES_VERSION}), got ${describe(top.version)}`);
  const createdAt = v.string(top.createdAt, 'createdAt');
  const commit = top.commit === undefined ? undefined : v.string(top.commit, 'commit');
  const scenarios: Record<string, ScenarioSamples> = {};
  for (const [name, raw] of Object.entries(v.object(top.scenarios, 'scenarios'))) {
    const at = field('scenarios', name);
    const s = v.object(raw, at);
    const runs = v.number(s.runs, field(at, 'runs'));
    if (!Number.isSafeInteger(runs) || runs < 1) v.fail(field(at, 'runs'), `expected a whole number of runs, at least 1, got ${runs}`);
    const steps: Record<string, Samples> = {};
    for (const [key, figures] of Object.entries(v.object(s.steps, field(at, 'steps')))) steps[key] = v.samples(figures, field(field(at, 'steps'), key));
    scenarios[name] = {runs, figures: v.samples(s.figures, field(at, 'figures')), steps};
  }
  return {format: FIGURES_FORMAT, version: FIGURES_VERSION, createdAt, ...(commit !== undefined ? {commit} : {}), scenarios};
}

/** A scenario's result as result.json or results.json holds it: only the parts with figures are read. */
function parseScenarioResult(v: Validator, raw: Json, at: string): Pick<ScenarioResult, 'name' | 'figures' | 'steps'> {
  const s = v.object(raw, at);
  const name = v.string(s.name, field(at, 'name'));
  const figures = v.figures(s.figures, field(at, 'figures')) ?? {};
  if (!Array.isArray(s.steps)) v.fail(field(at, 'steps'), `expected an array, got ${describe(s.steps)}`);
  const steps = s.steps.map((rawStep, i) => {
    const sat = field(field(at, 'steps'), i);
    const step = v.object(rawStep, sat);
    const stepFigures = v.figures(step.figures, field(sat, 'figures'));
    return {path: v.string(step.path, field(sat, 'path')), title: v.string(step.title, field(sat, 'title')), ...(stepFigures ? {figures: stepFigures} : {})};
  });
  return {name, figures, steps: steps as ScenarioResult['steps']};
}

/**
 * Reads figures from a figures file (`peerlab run --save-figures`), a run's
 * results.json (or the --out folder holding it), or one scenario's result.json.
 */
export async function readFigures(file: string): Promise<FiguresFile> {
  let target = file;
  let text: string;
  try {
    if ((await stat(file)).isDirectory()) target = path.join(file, 'results.json');
    text = await readFile(target, 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? (target === file ? 'no such file' : 'no results.json in this folder (was the run made with --reporter json?)') : e.message;
    throw new FiguresFileError(`${target}: ${why}`);
  }
  return parseFigures(text, target);
}

/** Parses and checks the text of any file readFigures takes; `file` names it in errors. */
export function parseFigures(text: string, file: string): FiguresFile {
  let json: Json;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FiguresFileError(`${file}: not JSON: ${(error as Error).message}`);
  }
  const v = new Validator(file);
  const top = v.object(json, '');
  if (top.format !== undefined) {
    if (top.format !== FIGURES_FORMAT) v.fail('format', `expected "${FIGURES_FORMAT}", got ${describe(top.format)}`);
    return parseFiguresFile(v, top);
  }
  const meta = {createdAt: typeof top.createdAt === 'string' ? top.createdAt : ''};
  if (Array.isArray(top.scenarios)) {
    // A run's results.json: RunResult.
    const results = (top as unknown as RunResult).scenarios.map((s, i) => parseScenarioResult(v, s, field('scenarios', i)));
    return collectFigures(results, meta);
  }
  if (Array.isArray(top.steps) && typeof top.name === 'string') return collectFigures([parseScenarioResult(v, top, '')], meta);
  return v.fail('', `not a figures file (format "${FIGURES_FORMAT}"), a run's results.json or a scenario's result.json`);
}
