/**
 * What the tests of foreign peer programs share: the fixture programs (a
 * /bin/sh peer that execs the reference peer, and one that answers
 * --describe-commands in several ways), `peerlab` run as a CLI in a folder,
 * and what a program declares about its timing when the fleet starts it.
 */
import type {ExecutionContext} from 'ava';
import {execa} from 'execa';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {defaultPeerBin} from '../src/peer-program/reference.js';
import type {PeerProfile} from '../src/peer-program/profile.js';
import {record, startCoordinator, until} from './support.js';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const bin = path.join(root, 'test-server', 'bin', 'peerlab.mjs');
export const fixtures = path.join(root, 'test-server', 'test', 'fixtures', 'peers');
export const execPeer = path.join(fixtures, 'exec-peer.sh');
export const describes = path.join(fixtures, 'describes.sh');
export const node = process.execPath;

export function peerlab(args: string[], cwd: string, timeout = 120_000) {
  return execa(node, [bin, ...args], {cwd, reject: false, all: true, timeout});
}

/** The knobs of the harness's timing model (checkers/src/swim-model.ts), as a peer's `peer.started` declares them. */
const MODEL_KNOBS = ['probeIntervalMs', 'suspicionMult', 'suspicionMaxTimeoutMult', 'gossipIntervalMs', 'gossipNodes', 'retransmitMult', 'pushPullIntervalMs', 'chatSyncIntervalMs'] as const;

/** The reference peer's model knobs in `profile`, as it prints them (`--print-profile`). */
export async function referenceTiming(profile: PeerProfile): Promise<Record<string, unknown>> {
  const printed = JSON.parse((await execa(node, [defaultPeerBin(), '--print-profile', profile])).stdout) as Record<string, unknown>;
  return Object.fromEntries(MODEL_KNOBS.map((k) => [k, printed[k]]));
}

/**
 * Starts one peer of `command` as the fleet starts it under a scenario's
 * `profile`, and returns what its `peer.started` says: the profile and the
 * model knobs of its timing.
 */
export async function startedUnder(t: ExecutionContext, command: string[], profile: PeerProfile): Promise<{profile: unknown; timing: Record<string, unknown>}> {
  const coordinator = await startCoordinator(t, {peer: {command, cwd: root, env: {}, origin: 'test'}, profile});
  const batches = record<[string, Array<{type: string; data: Record<string, unknown>}>]>(coordinator.hub, 'events');
  await coordinator.spawn([`timed-${profile}`]);
  const started = await until(() => batches.flatMap(([, events]) => events).find((e) => e.type === 'peer.started'), 15_000, `peer.started under ${profile}`);
  const timing = (started.data.timing ?? {}) as Record<string, unknown>;
  await coordinator.close();
  return {profile: started.data.profile, timing: Object.fromEntries(MODEL_KNOBS.map((k) => [k, timing[k]]))};
}
