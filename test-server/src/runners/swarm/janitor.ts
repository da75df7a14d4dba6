/**
 * Run detached by a swarm runner whose coordinator is on its way out:
 * removes what the run (argv[2]) left in the engine, then ends.
 */
import {reapSwarm} from './reap.js';

const runId = process.argv[2];
if (runId) await reapSwarm(runId).catch(() => {});
