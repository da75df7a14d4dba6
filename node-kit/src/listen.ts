/** Starts an HTTP server listening and returns its URL; a bind error rejects instead of being thrown later. */
import type {Server} from 'node:http';
import type {AddressInfo} from 'node:net';

/**
 * `backlog`: connections the kernel holds until the server accepts them (Node's default is 511; the kernel caps
 * it at net.core.somaxconn). A server that thousands of clients reach at once needs more: past the backlog, a
 * connection's handshake is dropped and retried seconds later, or reset.
 */
export async function listen(server: Server, host: string, port: number, options: {backlog?: number} = {}): Promise<{url: string; port: number}> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({port, host, backlog: options.backlog ?? 511}, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {url: `http://${urlHost}:${address.port}`, port: address.port};
}
