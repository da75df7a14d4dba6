export * from './registry.js';
export * from './protocol.js';
export {Agent} from './agent.js';
export type {AgentOptions, EventDataFor} from './agent.js';
export type {PeerEventType, PeerEventData} from '@peerlab/events/contract';
