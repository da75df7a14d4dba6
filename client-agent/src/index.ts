export * from './registry.js';
export * from './protocol.js';
export {Agent} from './agent.js';
export type {AgentOptions} from './agent.js';
