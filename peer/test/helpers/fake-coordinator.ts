/**
 * A stand-in coordinator for driving a real peer through its agent, as the
 * coordinator's REST API would: a socket.io server on 127.0.0.1 that accepts
 * the peer's hello and sends it commands. Only what the peer tests need.
 */
import {createServer} from 'node:http';
import type {AddressInfo} from 'node:net';
import {Server} from 'socket.io';
import type {Socket} from 'socket.io';
import type {CommandReply} from '@peerlab/client-agent';

export class FakeCoordinator {
  readonly token = 'peer-test-token';
  #peers = new Map<string, Socket>();
  #waiters: Array<() => void> = [];
  #seq = 0;

  private constructor(
    readonly url: string,
    private readonly io: Server,
  ) {
    io.use((socket, next) => (socket.handshake.auth?.token === this.token ? next() : next(new Error('unauthorized'))));
    io.on('connection', (socket) => {
      socket.on('hello', (hello: {peer: string}, ack: (reply: unknown) => void) => {
        this.#peers.set(hello.peer, socket);
        ack({ok: true, runId: 'peer-test', settings: {commandTimeoutMs: 10_000, flushIntervalMs: 50}});
        for (const wake of this.#waiters.splice(0)) wake();
      });
      socket.on('events', (_batch: unknown, ack: (reply: unknown) => void) => ack?.({ok: true, lastSeq: 0}));
    });
  }

  static async start(): Promise<FakeCoordinator> {
    const http = createServer();
    const io = new Server(http);
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return new FakeCoordinator(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, io);
  }

  /** Resolves once the named peer has registered. */
  async registered(name: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#peers.has(name)) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${name} did not register within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends one command as the coordinator would, and waits for the agent's reply. */
  async command(name: string, command: string, args: Record<string, unknown> = {}, timeoutMs = 5000): Promise<CommandReply> {
    const socket = this.#peers.get(name);
    if (!socket) throw new Error(`${name} is not registered`);
    const id = `c${++this.#seq}`;
    return socket.timeout(timeoutMs + 2000).emitWithAck('command', {id, name: command, args, timeoutMs});
  }

  close(): Promise<void> {
    return new Promise((resolve) => void this.io.close(() => resolve()));
  }
}
