/**
 * The bootstrap service as its own process, the way a user starts it,
 * killed at the test's end.
 */
import {spawn} from 'node:child_process';
import {createInterface} from 'node:readline';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const bootstrapBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../bootstrap/bin/peerlab-bootstrap.mjs');

/** Starts the service with `maxpeers` contacts and returns its URL. */
export async function startBootstrap(t: {teardown(fn: () => void): void}, maxpeers: number): Promise<string> {
  const child = spawn(process.execPath, [bootstrapBin, '--port', '0', '--maxpeers', String(maxpeers)], {stdio: ['ignore', 'pipe', 'inherit']});
  t.teardown(() => child.kill('SIGKILL'));
  const lines = createInterface({input: child.stdout});
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bootstrap did not start within 10 s')), 10_000);
    lines.on('line', (line) => {
      const match = /listening on (\S+)/.exec(line);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.on('exit', (code) => reject(new Error(`bootstrap exited with ${code}`)));
  });
}
