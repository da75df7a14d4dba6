/** The local runner as the factory offers it. */
import type {RunnerModule} from '../runner.js';
import {LOCAL_LIMITS, LocalRunner, killAllLocalPeersNow} from './local-runner.js';
import {reapLocal} from './reap.js';

export const localRunner: RunnerModule = {
  kind: 'local',
  limits: LOCAL_LIMITS,
  create: (options) => new LocalRunner(options),
  reap: reapLocal,
  killAllNow: killAllLocalPeersNow,
};
