/**
 * How the swarm runner reaches the engine, and the labels by which
 * everything of a run is found again. The engine is the one DOCKER_HOST
 * names (dockerode reads it), else the local socket.
 */
import {existsSync} from 'node:fs';
import Docker from 'dockerode';

export const LABEL_RUN = 'peerlab.run';
export const LABEL_PEER = 'peerlab.peer';
/** Which start of the peer a container is (0, then one more per restart): events name the container they are about. */
export const LABEL_GENERATION = 'peerlab.generation';
/** The coordinator's pid and host: `peerlab down` without a run id removes what a gone coordinator left. */
export const LABEL_COORDINATOR_PID = 'peerlab.coordinator-pid';
export const LABEL_COORDINATOR_HOST = 'peerlab.coordinator-host';

export function connect(): Docker {
  return new Docker();
}

/** No engine is configured here at all: nothing of ours can exist in one. */
export function noEngineConfigured(): boolean {
  return !process.env.DOCKER_HOST && !existsSync('/var/run/docker.sock');
}

export function statusOf(error: unknown): number | undefined {
  return (error as {statusCode?: number}).statusCode;
}

/** A run's filter for the engine's list calls. */
export function runFilter(runId?: string, ...more: string[]): {label: string[]} {
  return {label: [runId === undefined ? LABEL_RUN : `${LABEL_RUN}=${runId}`, ...more]};
}
