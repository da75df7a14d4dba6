/**
 * What the coordinator itself sees, into a history: peers' event batches,
 * registrations, gaps, refused messages, and processes starting and
 * exiting. A scenario run and `peerlab up` record the same lines, so either
 * history can be checked and reported on.
 */
import type {Coordinator} from '../coordinator.js';
import type {HistoryWriter} from './writer.js';

export function recordCoordinator(coordinator: Coordinator, history: HistoryWriter): void {
  const {hub, runner} = coordinator;
  hub.on('events', (name, events) => {
    const src = `peer:${name}` as const;
    for (const e of events) history.appendPeer(src, e);
  });
  hub.on('registered', (agent) => history.append('peer.registered', {peer: agent.name, pid: agent.pid, registrations: agent.registrations, capabilities: agent.capabilities}));
  hub.on('gap', (name, expected, got) => history.append('peer.gap', {peer: name, expected, got}));
  hub.on('protocol-error', (detail) => history.append('protocol.error', {...detail}));
  hub.on('rejected', (detail) => history.append('event.rejected', detail));
  runner.on('spawned', (host) => {
    for (const peer of host.names) history.append('peer.spawn', {peer, pid: host.pid ?? null});
  });
  runner.on('exit', (host, exit) => {
    for (const peer of host.names) history.append('peer.exit', {peer, pid: host.pid ?? null, code: exit.code, signal: exit.signal, unexpectedly: exit.unexpectedly});
  });
}
