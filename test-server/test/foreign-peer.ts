/**
 * What the tests of foreign peer programs share: the fixture programs (a
 * /bin/sh peer that execs the reference peer, and one that answers
 * --describe-commands in several ways) and `peerlab` run as a CLI in a folder.
 */
import {execa} from 'execa';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const bin = path.join(root, 'test-server', 'bin', 'peerlab.mjs');
export const fixtures = path.join(root, 'test-server', 'test', 'fixtures', 'peers');
export const execPeer = path.join(fixtures, 'exec-peer.sh');
export const describes = path.join(fixtures, 'describes.sh');
export const node = process.execPath;

export function peerlab(args: string[], cwd: string, timeout = 120_000) {
  return execa(node, [bin, ...args], {cwd, reject: false, all: true, timeout});
}
