/** The HTML report of a run: its data, computed from a history, and the files that show it. */
export * from './data/types.js';
export {decodePart, deferBulkAbove, mergeBulk, splitBulk} from './data/bulk.js';
export type {SplitReport} from './data/bulk.js';
export {buildReport} from './data/build.js';
export type {BuildOptions} from './data/build.js';
export {chunkCount, defaultChunkSize, eventChunk} from './data/event-log.js';
export {writeReport} from './write/write-report.js';
export type {ReportEvents, WrittenReport} from './write/write-report.js';
export {buildReportFiles, writeBuiltReport} from './write/build-files.js';
export type {BuiltReport, WriteBuiltOptions} from './write/build-files.js';
export {writeRunIndex, runIndexHtml} from './write/run-index.js';
export type {RunIndexEntry} from './write/run-index.js';
export {liveIndexHtml, staticIndexHtml} from './write/html.js';
export {pageAssets, pageAssetsProblem} from './write/assets.js';
