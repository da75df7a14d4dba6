// Bundles the peer into one file: a peer spawned by the hundred must start in
// about the time of a bare `node`, and resolving node_modules costs more than
// the code itself. Then builds its startup snapshot (build-snapshot.mjs),
// which the harness starts peers from when it matches the running Node.
import {build} from 'esbuild';
import {buildSnapshot} from './build-snapshot.mjs';

await build({
  entryPoints: ['dist/src/main.js'],
  outfile: 'dist/peer.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  // CommonJS dependencies bundled into ESM still call require() for Node built-ins.
  banner: {js: "import {createRequire as __peerlabRequire} from 'node:module'; const require = __peerlabRequire(import.meta.url);"},
});
await buildSnapshot();
