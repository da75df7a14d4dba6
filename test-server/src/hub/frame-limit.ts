/**
 * How large a message an agent connection may send, before and after it has
 * shown the run token.
 *
 * socket.io reads the token from the namespace CONNECT packet, which travels
 * over an already open WebSocket: until it arrives, anyone who can reach the
 * port may send frames, and the server-wide limit (maxHttpBufferSize, which
 * engine.io hands to ws as maxPayload) is sized for authenticated agents'
 * event batches. So the server is created with the small pre-authentication
 * limit, and each connection's limit is raised once its token is accepted.
 *
 * ws has a maxPayload per server only; per connection it lives in the
 * receiver's _maxPayload, which is checked against a frame's declared length
 * as soon as the header is in, before any of the payload is buffered.
 * engine.io itself reaches into ws's internals the same way (its _sender);
 * the hub's tests fail if this one moves.
 */
import type {Socket} from 'socket.io';

/** Enough for the CONNECT packet with its token and engine.io's pings; nothing else is legitimate before it. */
export const PRE_AUTH_MAX_BYTES = 16 * 1024;
/** An authenticated agent's largest batch. */
export const AUTHENTICATED_MAX_BYTES = 16 * 1024 * 1024;

interface WsReceiver {
  _maxPayload?: unknown;
}

/** Sets this connection's frame limit; false if the transport is not the ws WebSocket it expects. */
export function setFrameLimit(socket: Socket, bytes: number): boolean {
  const transport = (socket.conn as unknown as {transport?: {name?: string; socket?: {_receiver?: WsReceiver}}}).transport;
  const receiver = transport?.name === 'websocket' ? transport.socket?._receiver : undefined;
  if (typeof receiver?._maxPayload !== 'number') return false;
  receiver._maxPayload = bytes;
  return true;
}
