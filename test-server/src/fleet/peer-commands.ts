/**
 * The commands a peer offers, asked of the peer binary itself, so scenario
 * run lines are checked before any peer starts without the coordinator
 * importing peer code. It runs a process, so it lives with the fleet, not in
 * scenario/: the loader stays pure and takes the specs as an argument.
 */
import {execa} from 'execa';
import type {CommandSpec} from '@peerlab/client-agent';
import {defaultPeerBin} from './fleet.js';

const cache = new Map<string, Promise<CommandSpec[]>>();

export function peerCommandSpecs(peerBin = defaultPeerBin()): Promise<CommandSpec[]> {
  let specs = cache.get(peerBin);
  if (!specs) {
    specs = execa(process.execPath, [peerBin, '--describe-commands'], {timeout: 10_000}).then((r) => JSON.parse(r.stdout) as CommandSpec[]);
    cache.set(peerBin, specs);
  }
  return specs;
}
