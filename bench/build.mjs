// Bundles the bench's client processes like the peer, so they start as fast as a peer does
// and the baseline is fair.
import {build} from 'esbuild';

await build({
  entryPoints: ['dist/src/bench-agent.js'],
  outfile: 'dist/bench-agent.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  banner: {js: "import {createRequire as __peerlabRequire} from 'node:module'; const require = __peerlabRequire(import.meta.url);"},
});
