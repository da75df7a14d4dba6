/** Starts an HTTP server listening and returns its URL; a bind error rejects instead of being thrown later. */
import type {Server} from 'node:http';
import type {AddressInfo} from 'node:net';

export async function listen(server: Server, host: string, port: number): Promise<{url: string; port: number}> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {url: `http://${urlHost}:${address.port}`, port: address.port};
}
