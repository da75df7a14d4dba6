/** The reference peer as a peer program: the bundled peerlab-peer, run with this Node. */
import {statSync} from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import type {PeerProgram} from './program.js';
import {REFERENCE_PEER} from './program.js';

export function defaultPeerBin(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@peerlab/peer/package.json')), 'bin', 'peerlab-peer.mjs');
}

/**
 * The peer's startup snapshot (peer/build-snapshot.mjs) when it was built by
 * this very Node from the current bundle: node refuses a blob of another
 * version, and a blob older than the bundle would run old code. Starting
 * from it saves each peer process most of its module loading, about a third
 * of its CPU before it registers (docs/PERFORMANCE.md).
 * PEERLAB_PEER_SNAPSHOT=0 starts peers from the bundle.
 */
export function peerSnapshot(peerBin = defaultPeerBin()): string | undefined {
  if (process.env.PEERLAB_PEER_SNAPSHOT === '0') return undefined;
  const dist = path.join(path.dirname(peerBin), '..', 'dist');
  const blob = path.join(dist, `peer-snapshot-${process.version}-${process.platform}-${process.arch}.blob`);
  try {
    return statSync(blob).mtimeMs >= statSync(path.join(dist, 'peer.mjs')).mtimeMs ? blob : undefined;
  } catch {
    return undefined;
  }
}

/** The reference peer as a peer program: this Node running peerBin (from its snapshot when there is one), in the current folder. */
export function referencePeer(peerBin = defaultPeerBin()): PeerProgram {
  const blob = peerSnapshot(peerBin);
  // With a snapshot node runs the snapshot's main, not the script; peerBin stays as argv[1], where the peer's argument parser expects a script.
  return {command: [process.execPath, ...(blob ? ['--snapshot-blob', blob] : []), peerBin], cwd: process.cwd(), env: {}, origin: REFERENCE_PEER};
}
