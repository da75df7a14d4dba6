#!/usr/bin/env node
// How long a runner takes from "start these N peers" to every one of them
// registered at the hub: the figure that says what a runner costs per peer.
//
//   node scripts/registration-time.mjs <runner> <n> [<n>...]     e.g. swarm 10 50
// (after `npm run build`; for swarm, DOCKER_HOST names the engine). The
// swarm runner's image is made before the clock starts: that is once per build.
import {mkdtemp, rm} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import path from 'node:path';
import {Coordinator} from '../test-server/dist/src/coordinator.js';
import {generateNames} from '../events/dist/src/names.js';

const [runner = 'local', ...counts] = process.argv.slice(2);
for (const n of counts.map(Number)) {
  const dir = await mkdtemp(path.join(tmpdir(), 'peerlab-registration-'));
  const coordinator = await Coordinator.start({runner, logDir: path.join(dir, 'logs'), dataDir: path.join(dir, 'peers'), registerTimeoutMs: 600_000, log: () => {}});
  try {
    if (runner === 'swarm') {
      // One peer first, so that the image exists and the engine has its network settled before timing.
      await coordinator.spawn(['warmup']);
    }
    const started = Date.now();
    await coordinator.spawn(generateNames(n));
    const ms = Date.now() - started;
    process.stdout.write(`${runner}: ${n} peers registered in ${ms} ms (${(ms / n).toFixed(0)} ms per peer)\n`);
  } finally {
    await coordinator.close(10_000);
    await rm(dir, {recursive: true, force: true});
  }
}
