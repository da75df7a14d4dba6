/**
 * UDP for probes and gossip, TCP for push-pull, both on one host:port so a
 * member is known by a single address. Every packet in and out passes the
 * link filter: the one seam where fault injection (drop, delay, loss per
 * remote peer) plugs in without the protocol knowing.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import {EventEmitter} from 'node:events';
import {fairDelay} from './fair-deadline.js';
import type {Address} from './types.js';
import {formatAddress} from './types.js';

export interface Link {
  readonly direction: 'in' | 'out';
  readonly protocol: 'udp' | 'tcp';
  /** The remote member's advertised address (for TCP: as it announced itself). */
  readonly remote: Address;
}

/** What to do with one packet or connection: pass it, drop it, or hold it back first. */
export type LinkVerdict = {action: 'pass'} | {action: 'drop'} | {action: 'delay'; ms: number};

export type LinkFilter = (link: Link) => LinkVerdict;

export const passAll: LinkFilter = () => ({action: 'pass'});

/** The UDP receive buffer a member asks the OS for: memberlist's. */
export const UDP_RECEIVE_BUFFER_BYTES = 2 * 1024 * 1024;

export interface TransportStats {
  udpIn: number;
  udpOut: number;
  tcpIn: number;
  /** Connections opened to others (each push-pull or join exchange is one). */
  tcpOut: number;
  /** Payload bytes of the datagrams counted in udpIn and udpOut. */
  udpInBytes: number;
  udpOutBytes: number;
  /** Bytes read from and written to TCP connections, both those this peer opened and those it served. */
  tcpInBytes: number;
  tcpOutBytes: number;
  dropped: number;
  malformed: number;
  /** Inbound connections closed on arrival: maxInboundConnections were already open. */
  tcpRefused: number;
  /** Requests or replies cut off at the byte cap (also counted as malformed). */
  tcpTooLarge: number;
  /** Inbound connections that did not deliver their request within the read deadline. */
  tcpTimedOut: number;
  /** Datagrams sent, by message type: where a peer's traffic goes. */
  udpOutByType: Record<string, number>;
}

export interface TransportEvents {
  datagram: [payload: Buffer, from: Address];
}

/** What one peer spends on the TCP side for others (see config.ts for the values). */
export interface TransportLimits {
  /** Largest request or reply read from one connection. */
  maxBytes: number;
  /** Inbound connections served at once. */
  maxInbound: number;
  /**
   * An inbound request must arrive whole within this, however it trickles in:
   * an idle timeout alone lets a slow sender hold a connection for ever.
   */
  readDeadlineMs: number;
}

/** A reply already encoded as JSON, sent as it is: what many requests share is encoded once. */
export class EncodedReply {
  constructor(readonly json: string) {}
}

export type TcpHandler = (request: unknown, remote: (announced: Address) => LinkVerdict) => Promise<unknown>;

/** An address that binds every interface: the kernel picks the source of what goes out. */
function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

export class Transport extends EventEmitter<TransportEvents> {
  readonly stats: TransportStats = {udpIn: 0, udpOut: 0, tcpIn: 0, tcpOut: 0, udpInBytes: 0, udpOutBytes: 0, tcpInBytes: 0, tcpOutBytes: 0, dropped: 0, malformed: 0, tcpRefused: 0, tcpTooLarge: 0, tcpTimedOut: 0, udpOutByType: {}};
  #filter: LinkFilter = passAll;
  #inbound = 0;
  #tcpHandler: TcpHandler | undefined;
  #closed = false;

  private constructor(
    readonly address: Address,
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
    readonly limits: TransportLimits,
  ) {
    super();
    udp.on('message', (buf, rinfo) => this.#onDatagram(buf, {host: rinfo.address, port: rinfo.port}));
    tcp.on('connection', (socket) => this.#onConnection(socket));
    // A send to a vanished peer can surface as an async socket error; it must never crash the peer.
    udp.on('error', () => {});
    tcp.on('error', () => {});
  }

  /** Binds UDP and TCP on the same port; port 0 picks one that is free for both. */
  static async open(host: string, port: number, limits: TransportLimits): Promise<Transport> {
    const attempts = port === 0 ? 20 : 1;
    let lastError: unknown;
    for (let i = 0; i < attempts; i++) {
      const udp = dgram.createSocket({type: net.isIPv6(host) ? 'udp6' : 'udp4'});
      try {
        await new Promise<void>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind(port, host, () => {
            udp.off('error', reject);
            resolve();
          });
        });
      } catch (error) {
        udp.close();
        throw error;
      }
      // memberlist asks for 2 MB (net_transport.go, setUDPRecvBuf), and reads its socket on a goroutine of
      // its own besides. Here one thread reads fifty members' sockets between everything else: the default
      // buffer (about 200 KB on Linux) holds some 90 full datagrams, and what comes while the process is busy
      // beyond that the kernel drops. A lost ack is a failed probe, then a suspicion. The OS may grant less
      // (Linux caps it at net.core.rmem_max), which is still no less than its default.
      try {
        udp.setRecvBufferSize(UDP_RECEIVE_BUFFER_BYTES);
      } catch {
        // Refused outright: the default stays.
      }
      const bound = udp.address().port;
      // Half-open: the client ends its side after the request and still reads the reply.
      const tcp = net.createServer({allowHalfOpen: true});
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen({port: bound, host, exclusive: true}, () => {
            tcp.off('error', reject);
            resolve();
          });
        });
        return new Transport({host, port: bound}, udp, tcp, limits);
      } catch (error) {
        lastError = error;
        udp.close();
      }
    }
    throw lastError;
  }

  /** The UDP receive buffer the OS granted, in its own accounting (Linux reports twice what was asked). */
  get udpReceiveBufferBytes(): number {
    return this.udp.getRecvBufferSize();
  }

  setFilter(filter: LinkFilter | undefined): void {
    this.#filter = filter ?? passAll;
  }

  /** The handler answers one JSON request per TCP connection with one JSON response. */
  onRequest(handler: TcpHandler): void {
    this.#tcpHandler = handler;
  }

  sendUdp(to: Address, message: unknown): void {
    if (this.#closed) return;
    const payload = Buffer.from(JSON.stringify(message));
    // Counted as sent before the link filter, as a NIC counts what a process sends whatever the network then
    // loses: a peer that keeps sending into a partition costs what it costs, and its traffic figures show it.
    this.stats.udpOut++;
    this.stats.udpOutBytes += payload.length;
    const type = (message as {t?: unknown}).t;
    if (typeof type === 'string') this.stats.udpOutByType[type] = (this.stats.udpOutByType[type] ?? 0) + 1;
    this.#withVerdict({direction: 'out', protocol: 'udp', remote: to}, () => {
      if (this.#closed) return;
      this.udp.send(payload, to.port, to.host, () => {});
    });
  }

  /** Sends one JSON request over a fresh TCP connection and waits for one JSON response. */
  async request(to: Address, message: unknown, timeoutMs: number): Promise<unknown> {
    const verdict = this.#filter({direction: 'out', protocol: 'tcp', remote: to});
    if (verdict.action === 'drop') {
      this.stats.dropped++;
      throw new Error(`connection to ${formatAddress(to)} dropped by link filter`);
    }
    const deadline = Date.now() + timeoutMs;
    if (verdict.action === 'delay') await new Promise((r) => setTimeout(r, verdict.ms));
    this.stats.tcpOut++;
    return new Promise((resolve, reject) => {
      // From the bound address, not the one the route picks: kernel faults (nftables) tell peers apart by source address.
      const socket = net.connect({host: to.host, port: to.port, ...(isWildcard(this.address.host) ? {} : {localAddress: this.address.host})});
      const chunks: Buffer[] = [];
      let size = 0;
      // Fair to the partner (fair-deadline.ts): an answer already in the socket is read before it counts as late.
      const timer = fairDelay(Math.max(1, deadline - Date.now()));
      void timer.promise.then(() => fail(new Error(`push-pull with ${formatAddress(to)} timed out after ${timeoutMs} ms`)));
      const fail = (error: Error) => {
        timer.cancel();
        socket.destroy();
        reject(error);
      };
      socket.on('error', (error) => fail(error));
      socket.on('connect', () => {
        const request = Buffer.from(JSON.stringify(message) + '\n');
        this.stats.tcpOutBytes += request.length;
        socket.end(request);
      });
      socket.on('data', (chunk: Buffer) => {
        size += chunk.length;
        this.stats.tcpInBytes += chunk.length;
        if (size > this.limits.maxBytes) {
          this.stats.tcpTooLarge++;
          this.stats.malformed++;
          return fail(new Error(`response from ${formatAddress(to)} larger than ${this.limits.maxBytes} bytes`));
        }
        chunks.push(chunk);
      });
      socket.on('end', () => {
        timer.cancel();
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          this.stats.malformed++;
          reject(new Error(`malformed response from ${formatAddress(to)}`));
        }
      });
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([
      new Promise<void>((r) => this.udp.close(() => r())),
      new Promise<void>((r) => this.tcp.close(() => r())),
    ]);
  }

  #withVerdict(link: Link, deliver: () => void): void {
    const verdict = this.#filter(link);
    if (verdict.action === 'drop') this.stats.dropped++;
    else if (verdict.action === 'delay') setTimeout(deliver, verdict.ms).unref();
    else deliver();
  }

  #onDatagram(buf: Buffer, from: Address): void {
    this.stats.udpIn++;
    this.stats.udpInBytes += buf.length;
    this.#withVerdict({direction: 'in', protocol: 'udp', remote: from}, () => this.emit('datagram', buf, from));
  }

  #onConnection(socket: net.Socket): void {
    this.stats.tcpIn++;
    if (this.#inbound >= this.limits.maxInbound) {
      this.stats.tcpRefused++;
      socket.destroy();
      return;
    }
    this.#inbound++;
    socket.once('close', () => this.#inbound--);
    const chunks: Buffer[] = [];
    let size = 0;
    const deadline = setTimeout(() => {
      this.stats.tcpTimedOut++;
      socket.destroy();
    }, this.limits.readDeadlineMs);
    socket.once('close', () => clearTimeout(deadline));
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      this.stats.tcpInBytes += chunk.length;
      if (size > this.limits.maxBytes) {
        this.stats.tcpTooLarge++;
        this.stats.malformed++;
        chunks.length = 0;
        socket.destroy();
        return;
      }
      chunks.push(chunk);
    });
    socket.on('end', async () => {
      // The request is in; answering is bounded by the handler (and the client's own deadline).
      clearTimeout(deadline);
      socket.setTimeout(this.limits.readDeadlineMs, () => socket.destroy());
      let request: unknown;
      try {
        request = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        this.stats.malformed++;
        this.#reply(socket, {t: 'error', message: 'malformed request'});
        return;
      }
      const handler = this.#tcpHandler;
      if (!handler) return void socket.destroy();
      try {
        const response = await handler(request, (announced) => this.#filter({direction: 'in', protocol: 'tcp', remote: announced}));
        if (response === undefined) socket.destroy();
        else this.#reply(socket, response);
      } catch (error) {
        this.stats.malformed++;
        this.#reply(socket, {t: 'error', message: error instanceof Error ? error.message : String(error)});
      }
    });
  }

  #reply(socket: net.Socket, response: unknown): void {
    const payload = Buffer.from(response instanceof EncodedReply ? response.json : JSON.stringify(response));
    this.stats.tcpOutBytes += payload.length;
    socket.end(payload);
  }
}
