/** The HTML report of a run: its data, computed from a history, and the files that show it. */
export * from './data/types.js';
export {buildReport} from './data/build.js';
export type {BuildOptions} from './data/build.js';
export {chunkCount, defaultChunkSize, eventChunk} from './data/event-log.js';
