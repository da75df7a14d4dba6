/** What other packages (the bench) use of the harness: one coordinator, its fleet's names, and the history writer. */
export {Coordinator} from './coordinator.js';
export type {CoordinatorOptions} from './coordinator.js';
export {generateNames} from '@peerlab/events/names';
export {defaultPeerBin, killAllPeersNow} from './runners/local/local-runner.js';
export {HistoryWriter} from './history/writer.js';
