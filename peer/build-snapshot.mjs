// Builds the peer's V8 startup snapshot (Node's --build-snapshot): the bundle's
// modules evaluated once here, at build time, instead of in each of the
// hundreds of peer processes a run starts. test-server's reference peer is
// launched from it when its blob matches the running Node (snapshot.ts).
//
// Node 20's snapshot builder takes one CommonJS script, and some built-in
// modules cannot be in a snapshot (node:http holds a parser binding it cannot
// serialize; others are "not verified"). So every built-in is bundled as a
// stand-in that requires the real module on first use, at run time. Its keys
// are known from this build's Node, so `import {x} from 'node:y'` still
// works; a function read at module load (`require('child_process').spawn`)
// is handed out as a forwarder, so the module is not loaded while building.
import {builtinModules, createRequire} from 'node:module';
import {execFileSync} from 'node:child_process';
import {rmSync} from 'node:fs';
import {build} from 'esbuild';

const require = createRequire(import.meta.url);

/** The snapshot file for this Node: a blob from another version or platform is refused by node, so the name says which. */
export function snapshotBlobName(version = process.version, platform = process.platform, arch = process.arch) {
  return `peer-snapshot-${version}-${platform}-${arch}.blob`;
}

// A module that is itself a function or class (events, stream, assert) is used as one at load time
// (`class X extends EventEmitter`); those are plain JavaScript and load in the builder as they are.
const builtins = new Set(builtinModules);
const isStandIn = (name) => builtins.has(name) && name !== 'v8' && typeof require(`node:${name}`) !== 'function';

function standIn(name) {
  const real = require(`node:${name}`);
  const kinds = Object.fromEntries(Object.keys(real).map((k) => [k, typeof real[k] === 'function' && !/^class\b/.test(Function.prototype.toString.call(real[k])) && real[k].prototype === undefined ? 'call' : 'value']));
  return `
const v8 = require('node:v8');
let real;
const load = () => (real ??= require(${JSON.stringify(`node:${name}`)}));
const kinds = ${JSON.stringify(kinds)};
const forwarders = {};
module.exports = new Proxy({}, {
  get(_, key) {
    if (real || !v8.startupSnapshot.isBuildingSnapshot() || kinds[key] !== 'call') return load()[key];
    return (forwarders[key] ??= function (...args) { return load()[key].apply(this, args); });
  },
  has: (_, key) => key in kinds,
  ownKeys: () => Object.keys(kinds),
  getOwnPropertyDescriptor: (_, key) => (key in kinds ? {value: undefined, writable: true, enumerable: true, configurable: true} : undefined),
});
`;
}

const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(b) {
    b.onResolve({filter: /^(node:)?[a-z_/]+$/}, (args) => {
      const name = args.path.replace(/^node:/, '');
      if (args.namespace === 'lazy-builtin' || !isStandIn(name)) return undefined;
      return {path: name, namespace: 'lazy-builtin'};
    });
    b.onLoad({filter: /.*/, namespace: 'lazy-builtin'}, (args) => ({contents: standIn(args.path), loader: 'js'}));
  },
};

/** Bundles dist/src/snapshot-main.js and builds dist/<blob> from it; returns the blob's path, or undefined (with the reason on stderr) when this Node cannot. */
export async function buildSnapshot() {
  const script = 'dist/peer-snapshot.cjs';
  const blob = `dist/${snapshotBlobName()}`;
  await build({entryPoints: ['dist/src/snapshot-main.js'], outfile: script, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning', plugins: [lazyBuiltins]});
  rmSync(blob, {force: true});
  try {
    // The builder warns about every built-in it has not verified; the stand-ins keep them out, so the warnings say nothing here.
    execFileSync(process.execPath, ['--no-warnings', '--snapshot-blob', blob, '--build-snapshot', script], {stdio: ['ignore', 'ignore', 'pipe']});
    return blob;
  } catch (error) {
    process.stderr.write(`peer: no startup snapshot (peers start from the bundle instead): ${String(error.stderr ?? error.message).slice(0, 2000)}\n`);
    return undefined;
  }
}
