/**
 * The reporters of `peerlab run`, by name (`--reporter list,junit`).
 */
import {JsonReporter} from './json.js';
import {JunitReporter} from './junit.js';
import {ListReporter} from './list.js';
import {HtmlReporter} from './html.js';
import type {OutputStream} from './list.js';
import type {Reporter} from './reporter.js';

export type {Reporter, RunInfo, ScenarioInfo} from './reporter.js';
export {JsonReporter, writeFileAtomic} from './json.js';
export type {FileReporterOptions} from './json.js';
export {JunitReporter, buildJunitXml} from './junit.js';
export {ListReporter, formatDuration, formatFigures} from './list.js';
export type {ListReporterOptions, OutputStream} from './list.js';
export {ReporterMux} from './multiplexer.js';
export {HtmlReporter} from './html.js';
export type {HtmlReporterOptions} from './html.js';
export type {ReporterError, ReporterMuxOptions} from './multiplexer.js';

export const reporterNames = ['list', 'json', 'junit', 'html'] as const;
export type ReporterName = (typeof reporterNames)[number];

export interface CreateReportersOptions {
  /** The run's output directory: `results.json`, `junit.xml` and `report.html` go there. */
  outDir: string;
  /** The console reporter's stream; default process.stdout. */
  stream?: OutputStream;
}

export function isReporterName(name: string): name is ReporterName {
  return (reporterNames as readonly string[]).includes(name);
}

/**
 * One reporter per name, in the order given. Names may also come
 * comma-separated (`['list,junit']`); repeats are ignored. An unknown name
 * throws, listing the known ones.
 */
export function createReporters(names: readonly string[], options: CreateReportersOptions): Reporter[] {
  const wanted = names
    .flatMap((n) => n.split(','))
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const seen = new Set<ReporterName>();
  const reporters: Reporter[] = [];
  for (const name of wanted) {
    if (!isReporterName(name)) {
      throw new Error(`unknown reporter "${name}" (known reporters: ${reporterNames.join(', ')})`);
    }
    if (seen.has(name)) continue;
    seen.add(name);
    reporters.push(create(name, options));
  }
  return reporters;
}

function create(name: ReporterName, options: CreateReportersOptions): Reporter {
  switch (name) {
    case 'list':
      return new ListReporter(options.stream ?? process.stdout);
    case 'json':
      return new JsonReporter({outDir: options.outDir});
    case 'junit':
      return new JunitReporter({outDir: options.outDir});
    case 'html':
      return new HtmlReporter({outDir: options.outDir, stream: options.stream ?? process.stdout});
  }
}
