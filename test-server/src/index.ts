/** What other packages (the bench) use of the harness: one coordinator, its runner's last resort, the history writer, and how a scenario writes a duration. */
export {Coordinator} from './coordinator.js';
export type {CoordinatorOptions} from './coordinator.js';
export {generateNames} from '@peerlab/events/names';
export {defaultPeerBin} from './peer-program/reference.js';
export {killAllPeersNow} from './runners/factory.js';
export {HistoryWriter} from './history/writer.js';
