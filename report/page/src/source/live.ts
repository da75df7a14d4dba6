/**
 * The live view's data source: the coordinator that served the page pushes
 * the report as the run goes ('report'), and answers requests for the log's
 * text ('chunk', with an acknowledgement). A chunk still being written is not
 * cached, so a later request gets its newer events.
 */
import {io, type Socket} from 'socket.io-client';
import {liveNamespace, type EventChunk, type LiveHello, type ReportData} from '../../../src/data/types.js';
import type {DataSource} from '../view-props.js';

export interface LiveSource extends DataSource {
  /** Connection state changes, for the header. */
  onStatus(listener: (status: string) => void): void;
}

export function liveSource(token: string | undefined): LiveSource {
  // The server takes the WebSocket transport only.
  const socket: Socket = io(liveNamespace, {auth: token ? {token} : {}, transports: ['websocket']});
  const listeners = new Set<(data: ReportData) => void>();
  const statusListeners = new Set<(status: string) => void>();
  const cache = new Map<number, Promise<EventChunk>>();
  let latest: ReportData | undefined;
  let access = '';
  let last = 'connecting';
  const status = (s: string) => {
    last = s;
    statusListeners.forEach((l) => l(s));
  };
  socket.on('connect', () => status('connected'));
  socket.on('hello', (hello: LiveHello) => {
    access = hello.access === 'control' ? 'control' : 'read-only';
    status(`connected, ${access}`);
  });
  socket.on('problem', (problem: {message?: string}) => status(problem.message ?? 'the server reported a problem'));
  socket.on('disconnect', () => status('disconnected'));
  socket.on('connect_error', (error: Error) => status(`cannot connect: ${error.message}`));
  // The acknowledgement tells the server this viewer keeps up: it sends the next report only after it.
  socket.on('report', (data: ReportData, ack?: () => void) => {
    // A new scenario (`peerlab run --watch`) numbers its chunks from 0 again: the cached ones are the previous run's.
    if (latest && latest.meta.runId !== data.meta.runId) cache.clear();
    latest = data;
    listeners.forEach((l) => l(data));
    ack?.();
  });
  return {
    live: true,
    chunk(index) {
      const cached = cache.get(index);
      if (cached) return cached;
      const pending = new Promise<EventChunk>((resolve, reject) => {
        socket.timeout(10_000).emit('chunk', index, (error: Error | null, chunk: EventChunk | {error: string}) => {
          // One asked for before the run changed is no longer in the cache: leave the new run's entry alone.
          const current = cache.get(index) === pending;
          const incomplete = error || !chunk || 'error' in chunk || chunk.events.length < (latest?.eventLog.chunkSize ?? Infinity);
          if (current && incomplete) cache.delete(index);
          if (error || !chunk || 'error' in chunk) {
            reject(error ?? new Error(chunk && 'error' in chunk ? chunk.error : `no chunk ${index}`));
            return;
          }
          resolve(chunk);
        });
      });
      cache.set(index, pending);
      return pending;
    },
    subscribe(listener) {
      listeners.add(listener);
      if (latest) listener(latest);
      return () => listeners.delete(listener);
    },
    onStatus(listener) {
      statusListeners.add(listener);
      listener(access && last === 'connected' ? `connected, ${access}` : last);
    },
  };
}
