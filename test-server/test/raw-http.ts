/**
 * HTTP by hand, for requests fetch will not make: a forged Host header, an
 * upgrade request, raw WebSocket frames. Everything goes to the URL's own
 * address (127.0.0.1 in these tests) whatever the headers claim.
 */
import http from 'node:http';
import net from 'node:net';
import {randomBytes} from 'node:crypto';

export interface RawReply {
  status: number;
  contentType: string;
  body: any;
}

export interface RawOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  timeoutMs?: number;
}

function parseBody(contentType: string, text: string): unknown {
  return contentType.includes('application/json') ? JSON.parse(text) : text;
}

export function rawRequest(url: string, options: RawOptions = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, {method: options.method ?? 'GET', headers: options.headers, timeout: options.timeoutMs ?? 5000, agent: false}, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const contentType = response.headers['content-type'] ?? '';
        try {
          resolve({status: response.statusCode ?? 0, contentType, body: parseBody(contentType, text)});
        } catch (error) {
          reject(error);
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error(`${url}: no answer within ${options.timeoutMs ?? 5000} ms`)));
    request.on('error', reject);
    request.end(options.body);
  });
}

/** A WebSocket upgrade to socket.io's endpoint: resolves with 101 on success, or the refusal. */
export function upgradeRequest(base: string, headers: Record<string, string> = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${base}/socket.io/?EIO=4&transport=websocket`, {
      headers: {connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'), ...headers},
      timeout: 5000,
      agent: false,
    });
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve({status: response.statusCode ?? 0, contentType: '', body: ''});
    });
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const contentType = response.headers['content-type'] ?? '';
        resolve({status: response.statusCode ?? 0, contentType, body: parseBody(contentType, text)});
      });
    });
    request.on('timeout', () => request.destroy(new Error('upgrade: no answer within 5000 ms')));
    request.on('error', reject);
    request.end();
  });
}

/** An open engine.io WebSocket, spoken to frame by frame; for what socket.io-client will not send. */
export interface RawWebSocket {
  socket: net.Socket;
  /** Sends the header of a masked text frame declaring `length` bytes, and `sent` bytes of its payload. */
  sendPartialFrame(length: number, sent: Buffer): void;
  /** Sends one whole masked text frame. */
  sendText(text: string): void;
  /** Resolves with the close code the server sent, or 'ended' if it just hung up; rejects at the deadline. */
  closed(timeoutMs: number): Promise<number | 'ended'>;
  /** Every text frame received so far. */
  received: string[];
}

export function openRawWebSocket(base: string): Promise<RawWebSocket> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${base}/socket.io/?EIO=4&transport=websocket`, {
      headers: {connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64')},
      timeout: 5000,
      agent: false,
    });
    request.on('response', (response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
    request.on('error', reject);
    request.on('upgrade', (_response, socket: net.Socket, head) => {
      const received: string[] = [];
      let closeCode: number | 'ended' | undefined;
      const waiters: Array<() => void> = [];
      const settle = (code: number | 'ended') => {
        closeCode ??= code;
        for (const wake of waiters.splice(0)) wake();
      };
      let buffer = Buffer.alloc(0);
      const onData = (chunk: Buffer) => {
        buffer = Buffer.concat([buffer, chunk]);
        // Server frames are unmasked; small ones are all this needs to read.
        while (buffer.length >= 2) {
          const opcode = buffer[0]! & 0x0f;
          let length = buffer[1]! & 0x7f;
          let offset = 2;
          if (length === 126) {
            if (buffer.length < 4) return;
            length = buffer.readUInt16BE(2);
            offset = 4;
          } else if (length === 127) {
            if (buffer.length < 10) return;
            length = Number(buffer.readBigUInt64BE(2));
            offset = 10;
          }
          if (buffer.length < offset + length) return;
          const payload = buffer.subarray(offset, offset + length);
          buffer = buffer.subarray(offset + length);
          if (opcode === 0x1) received.push(payload.toString('utf8'));
          if (opcode === 0x8) settle(payload.length >= 2 ? payload.readUInt16BE(0) : 1005);
        }
      };
      // The first frames may have come in with the 101 response.
      onData(head);
      socket.on('data', onData);
      socket.on('error', () => settle('ended'));
      socket.on('close', () => settle('ended'));
      const frameHeader = (length: number): Buffer => {
        const mask = randomBytes(4);
        let header: Buffer;
        if (length < 126) header = Buffer.from([0x81, 0x80 | length]);
        else if (length < 65536) {
          header = Buffer.alloc(4);
          header[0] = 0x81;
          header[1] = 0x80 | 126;
          header.writeUInt16BE(length, 2);
        } else {
          header = Buffer.alloc(10);
          header[0] = 0x81;
          header[1] = 0x80 | 127;
          header.writeBigUInt64BE(BigInt(length), 2);
        }
        return Buffer.concat([header, mask]);
      };
      // Mask bytes are all that is needed to mask; the payload is masked with the header's key.
      const masked = (header: Buffer, payload: Buffer): Buffer => {
        const key = header.subarray(header.length - 4);
        const out = Buffer.from(payload);
        for (let i = 0; i < out.length; i++) out[i] = out[i]! ^ key[i % 4]!;
        return out;
      };
      resolve({
        socket,
        received,
        sendPartialFrame(length, sent) {
          const header = frameHeader(length);
          socket.write(Buffer.concat([header, masked(header, sent)]));
        },
        sendText(text) {
          const payload = Buffer.from(text, 'utf8');
          const header = frameHeader(payload.length);
          socket.write(Buffer.concat([header, masked(header, payload)]));
        },
        closed(timeoutMs) {
          return new Promise((done, fail) => {
            if (closeCode !== undefined) return done(closeCode);
            const timer = setTimeout(() => fail(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs);
            waiters.push(() => {
              clearTimeout(timer);
              done(closeCode!);
            });
          });
        },
      });
    });
    request.end();
  });
}
