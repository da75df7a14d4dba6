/** The reference peer as a peer program: the bundled peerlab-peer, run with this Node. */
import path from 'node:path';
import {createRequire} from 'node:module';
import type {PeerProgram} from './program.js';
import {REFERENCE_PEER} from './program.js';

export function defaultPeerBin(): string {
  const require = createRequire(import.meta.url);
  return path.join(path.dirname(require.resolve('@peerlab/peer/package.json')), 'bin', 'peerlab-peer.mjs');
}

/** The reference peer as a peer program: this Node running peerBin, in the current folder. */
export function referencePeer(peerBin = defaultPeerBin()): PeerProgram {
  return {command: [process.execPath, peerBin], cwd: process.cwd(), env: {}, origin: REFERENCE_PEER};
}
