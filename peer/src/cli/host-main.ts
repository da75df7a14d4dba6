/**
 * Peer-host mode (`--names a,b,c --coordinator URL`): one process carries
 * several peers, each with its own sockets, name and agent connection, for
 * the scale a machine cannot reach with one process per peer. Process faults
 * (kill, pause) hit every peer the process carries.
 */
import type {ProfileName} from '../config.js';
import type {Address} from '../membership/types.js';
import type {Bugs} from '../policy.js';
import type {Capabilities} from '@peerlab/client-agent';
import {Logger, isLevel} from '../log.js';
import {Peer} from '../peer.js';
import {linkAgent} from '../agent-link.js';
import path from 'node:path';
import {dataDirFor} from '../file-access.js';

export interface HostOptions {
  names: string[];
  host: string;
  profile: ProfileName;
  join: Address[];
  bootstrap?: string | undefined;
  coordinator: string;
  token: string;
  graceMs: number;
  logLevel?: string | undefined;
  bugs: Bugs;
  dataDir?: string | undefined;
  /** What each peer declares and reports (default everything). */
  capabilities?: Capabilities | undefined;
}

export async function hostMain(options: HostOptions): Promise<void> {
  const links: Array<{peer: Peer; close(): Promise<void>}> = [];
  let exiting = false;
  const shutdown = async (code: number, leave: boolean) => {
    if (exiting) return;
    exiting = true;
    await Promise.all(
      links.map(async ({peer, close}) => {
        if (leave) await peer.leave().catch(() => {});
        await close().catch(() => {});
        await peer.close().catch(() => {});
      }),
    );
    process.exit(code);
  };
  process.on('SIGINT', () => (exiting ? process.exit(130) : void shutdown(0, true)));
  process.on('SIGTERM', () => (exiting ? process.exit(143) : void shutdown(0, true)));
  // A hang-up (the terminal closed) ends the peers like SIGTERM: they leave.
  process.on('SIGHUP', () => (exiting ? process.exit(129) : void shutdown(0, true)));
  const parent = Number(process.env.PEERLAB_PARENT_PID);
  if (Number.isInteger(parent) && parent > 0) {
    setInterval(() => {
      if (process.ppid !== parent) void shutdown(4, false);
    }, 250).unref();
  }

  // Started one after another (binding is quick); each later peer can be told about the earlier ones.
  for (const name of options.names) {
    const log = new Logger(name);
    if (options.logLevel && isLevel(options.logLevel)) log.level = options.logLevel;
    const peer = await Peer.start({name, host: options.host, port: 0, profile: options.profile, join: options.join, bootstrap: options.bootstrap, bugs: options.bugs}, log);
    process.stdout.write(`${name} listening on ${peer.address} (profile ${options.profile})\n`);
    const link = linkAgent(peer, {
      url: options.coordinator,
      token: options.token,
      graceMs: options.graceMs,
      dataDir: await dataDirFor(options.dataDir && path.join(options.dataDir, name)),
      capabilities: options.capabilities,
      // One peer's agent giving up means the coordinator is gone for all of them.
      exit: (code, reason) => {
        log.warn('agent', `exiting: ${reason}`);
        void shutdown(code, code === 0);
      },
    });
    links.push({peer, close: () => link.agent.close()});
    // Joins go on in the background: waiting for each would start the last peer minutes late. Each peer joins
    // once it has registered, as a peer of its own does: a mass join's gossip otherwise starves the hellos.
    void link.registered.then(async (ack) => {
      if (!ack.ok) return; // the agent gives up, and the host exits
      await link.agent.released;
      const joined = await peer.joinAtStart();
      for (const error of joined.errors) log.warn('cli', `join: ${error}`);
    });
  }
}
