/** Durations as scenario authors write them: 500ms, 5s, 1.5s, 2m. */
export const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;

/** A model-relative bound: `model`, or a positive multiple of it like `3x model` or `1.5x model`. */
export const MODEL_WITHIN = /^(?:(\d+(?:\.\d+)?)x )?model$/;
/** What `within:` accepts: a duration or a model-relative bound (JSON Schema publishes it as the pattern). */
export const WITHIN = /^(?:\d+(?:\.\d+)?(?:ms|s|m)|(?:\d+(?:\.\d+)?x )?model)$/;

/** The multiple of `model` or `3x model`; undefined when the text is not a model bound. */
export function parseModelMultiple(text: string): number | undefined {
  const match = MODEL_WITHIN.exec(text.trim());
  if (!match) return undefined;
  return match[1] === undefined ? 1 : Number(match[1]);
}

/** Multiples a bound may take: below 0.1 the model would be judged by timer granularity; above 1000 it is no bound at all. */
export const multipleLimits = {min: 0.1, max: 1000} as const;

/** Why a model multiple is out of range, or undefined when it is fine (or not a model bound). */
export function multipleProblem(text: string): string | undefined {
  const multiple = parseModelMultiple(text);
  if (multiple === undefined || (multiple >= multipleLimits.min && multiple <= multipleLimits.max)) return undefined;
  return `expected a multiple of the model from ${multipleLimits.min}x to ${multipleLimits.max}x, got ${text.trim().slice(0, 20)}`;
}

/** A scenario's timeout when its file gives none. */
export const defaultScenarioTimeoutMs = 60_000;

export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = match[2];
  return Math.round(unit === 'ms' ? value : unit === 's' ? value * 1000 : value * 60_000);
}

/**
 * Holds a scenario to at most `capMs` (`peerlab run --timeout`). Only the
 * scenario's timeout changes: a step's bound longer than the cap cannot
 * outlast the scenario, whose timeout then ends it, as it would any step.
 */
export function holdTimeout<T extends {timeoutMs: number; ownTimeoutMs?: number}>(scenario: T, capMs: number): T {
  return scenario.timeoutMs > capMs ? {...scenario, timeoutMs: capMs, ownTimeoutMs: scenario.ownTimeoutMs ?? scenario.timeoutMs} : scenario;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${+(ms / 1000).toFixed(3)}s`;
}

const HOUR = 3_600_000;

/**
 * The range of every duration field of the format, in one place: the schema
 * checks them, `npm run schema` publishes them, and the engine can trust that
 * no timer it sets overflows (setTimeout fires at once past 2^31-1 ms, about
 * 24.8 days) and no loop it runs spins on a zero interval.
 */
export const durationLimits = {
  /** Peers take about a second to start and register; the ceiling stays far below setTimeout's 2^31-1 ms. */
  timeout: {min: 1000, max: 24 * HOUR},
  /** An await re-checks the history every 25 ms or more and peers report in batches: below 100 ms it could only fail by timing. */
  within: {min: 100, max: HOUR},
  /** A command is a round trip through the hub to a peer and back: below 100 ms it times out on a busy machine. */
  command: {min: 100, max: HOUR},
  /** Zero is a step that does nothing: surely a mistake. */
  sleep: {min: 1, max: HOUR},
  /** A fault round sends commands to peers or spawns a process, tens to hundreds of ms: a shorter interval would only queue rounds back to back and flood the history. */
  every: {min: 100, max: HOUR},
  /** The nemesis must have time for at least one round (checked against every as well). */
  for: {min: 100, max: 24 * HOUR},
  /** Undoing a fault at once would hide it from the peers altogether. */
  recover: {min: 10, max: HOUR},
} as const satisfies Record<string, {min: number; max: number}>;

export type DurationField = keyof typeof durationLimits;

/** "100ms to 1h": a limit in words, as the schema's description and the error messages say it. */
export function limitText(field: DurationField): string {
  const {min, max} = durationLimits[field];
  return `${formatDuration(min)} to ${formatDuration(max)}`;
}

/** Why a duration is out of its field's range, or undefined when it is in range (or not a duration at all). */
export function durationProblem(text: string, field: DurationField): string | undefined {
  const ms = parseDuration(text);
  if (ms === undefined) return undefined;
  const {min, max} = durationLimits[field];
  if (ms >= min && ms <= max) return undefined;
  const written = text.trim();
  return `expected a duration from ${limitText(field)}, got ${written.length > 20 ? `${written.slice(0, 20)}…` : written}`;
}
