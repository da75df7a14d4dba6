/**
 * `peerlab compare BASELINE NEW`, and the same comparison at the end of
 * `peerlab run --baseline FILE`: prints the table of changes and exits 1 on
 * a significant regression, 3 when nothing could be judged, 0 otherwise.
 */
import {InvalidArgumentError} from 'commander';
import {compareFigures, comparisonExitCode} from '../compare/compare.js';
import type {CompareOptions} from '../compare/compare.js';
import type {FiguresFile} from '../compare/figures-file.js';
import {FiguresFileError, readFigures} from '../compare/figures-file.js';
import {renderComparison} from '../compare/render.js';
import {exitCodes} from '../engine/results.js';

export const DEFAULT_ALPHA = 0.05;
export const DEFAULT_THRESHOLD = 0.25;

/** `--alpha`: a probability strictly between 0 and 1. */
export function alphaArgument(value: string): number {
  const n = /^\d*\.?\d+(e-?\d+)?$/i.test(value.trim()) ? Number(value) : Number.NaN;
  if (!(n > 0 && n < 1)) throw new InvalidArgumentError('expected a number between 0 and 1, e.g. 0.05');
  return n;
}

/** `--figures`: figure names, comma-separated, each as a checker writes it (letters, digits, underscores). */
export function figureNames(value: string): string[] {
  const names = value.split(',').map((n) => n.trim()).filter((n) => n.length > 0);
  const bad = names.find((n) => !/^[a-z][a-z0-9_]*$/i.test(n));
  if (names.length === 0 || bad !== undefined) throw new InvalidArgumentError(`expected figure names separated by commas, e.g. converge_ms,rejoin_ms${bad !== undefined ? `; got ${JSON.stringify(bad)}` : ''}`);
  return [...new Set(names)];
}

/** `--threshold`: a percentage, the % sign optional ("25%" and "25" are both a quarter). */
export function thresholdArgument(value: string): number {
  const match = /^(\d*\.?\d+)\s*%?$/.exec(value.trim());
  const n = match ? Number(match[1]) : Number.NaN;
  if (!(n >= 0 && n <= 10_000)) throw new InvalidArgumentError('expected a percentage 0-10000, e.g. 25%');
  return n / 100;
}

export interface CompareCliOptions extends CompareOptions {
  json: boolean;
}

/** Reads a figures file for the command `who`; on bad input prints why and returns undefined. */
export async function loadFigures(who: string, file: string): Promise<FiguresFile | undefined> {
  try {
    return await readFigures(file);
  } catch (error) {
    if (!(error instanceof FiguresFileError)) throw error;
    process.stderr.write(`${who}: ${error.message}\n`);
    return undefined;
  }
}

/** Compares and prints; the exit code the comparison calls for. */
export function printComparison(baseline: FiguresFile, next: FiguresFile, options: CompareCliOptions): number {
  const comparison = compareFigures(baseline, next, options);
  process.stdout.write(options.json ? `${JSON.stringify(comparison, (_, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n` : `${renderComparison(comparison)}\n`);
  return comparisonExitCode(comparison);
}

export async function compare(baselineFile: string, newFile: string, options: CompareCliOptions): Promise<number> {
  const baseline = await loadFigures('peerlab compare', baselineFile);
  const next = baseline && (await loadFigures('peerlab compare', newFile));
  if (!baseline || !next) return exitCodes.usage;
  return printComparison(baseline, next, options);
}
