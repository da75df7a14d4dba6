/** The swarm runner as the factory offers it; its settings come from the CLI (settings.ts). */
import type {RunnerModule} from '../runner.js';
import {SWARM_LIMITS, SwarmRunner, killAllSwarmPeersNow} from './swarm-runner.js';
import {reapSwarm} from './reap.js';
import {swarmSettings} from './settings.js';

export const swarmRunner: RunnerModule = {
  kind: 'swarm',
  limits: SWARM_LIMITS,
  create: (options) => new SwarmRunner(options, swarmSettings()),
  reap: reapSwarm,
  killAllNow: killAllSwarmPeersNow,
};
