/**
 * A member played by a bare UDP socket on 127.0.0.1: it sends whatever JSON a
 * test forges and records every datagram it gets, in arrival order, so a test
 * can wait for one (with a deadline) and check what came before it.
 *
 * The peer answers datagrams in the order they arrive, and loopback keeps the
 * order of datagrams between two sockets: so after `pingBarrier` returns, all
 * the peer sent this socket in answer to what it sent before is recorded.
 */
import dgram from 'node:dgram';

export interface Datagram {
  t: string;
  s?: number;
  f?: string;
  u?: unknown[];
  m?: Array<{id: string; seq: number}>;
  [key: string]: unknown;
}

export class UdpMember {
  /** Datagrams as parsed JSON (`{t: '?'}` for one that is not), in arrival order. */
  readonly received: Datagram[] = [];
  /** The same datagrams as bytes. */
  readonly raw: Buffer[] = [];
  #wake: Array<() => void> = [];
  #seq = 1_000_000;

  private constructor(private readonly socket: dgram.Socket) {
    socket.on('message', (buf) => {
      this.raw.push(buf);
      let parsed: Datagram;
      try {
        parsed = JSON.parse(buf.toString('utf8')) as Datagram;
      } catch {
        parsed = {t: '?'};
      }
      this.received.push(parsed);
      for (const wake of this.#wake.splice(0)) wake();
    });
  }

  /** Binds a socket on 127.0.0.1, closed at the test's end. */
  static async bind(t: {teardown(fn: () => void): void}): Promise<UdpMember> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    t.teardown(() => socket.close());
    return new UdpMember(socket);
  }

  get address(): string {
    return `127.0.0.1:${this.socket.address().port}`;
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Sends a message as JSON, or a string as it is (to forge what JSON.stringify would not write). */
  send(to: string, message: unknown): Promise<void> {
    const [host, port] = to.split(':') as [string, string];
    const payload = typeof message === 'string' ? message : JSON.stringify(message);
    return new Promise((resolve, reject) => this.socket.send(payload, Number(port), host, (e) => (e ? reject(e) : resolve())));
  }

  /** The index of the first datagram at or after `from` that matches, once one has arrived; throws after `ms`. */
  async until(match: (d: Datagram) => boolean, ms: number, from = 0): Promise<number> {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.received.findIndex((d, j) => j >= from && match(d));
      if (i >= 0) return i;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching datagram within ${ms} ms; got ${this.received.slice(from).map((d) => d.t).join(', ') || 'nothing'}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Pings the peer named `peerName` at `peer` and waits for the ack: returns
   * the ack's index, so `received.slice(before, ack)` is everything the peer
   * sent this socket in answer to what was sent before the barrier.
   */
  async pingBarrier(peer: string, peerName: string, ms = 5000, f = 'barrier'): Promise<number> {
    const s = ++this.#seq;
    const from = this.received.length;
    await this.send(peer, {t: 'ping', s, f, to: peerName, a: this.address});
    return this.until((d) => d.t === 'ack' && d.s === s, ms, from);
  }
}
