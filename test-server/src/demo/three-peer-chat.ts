/**
 * The main job until the scenario runner exists: the original three-peer
 * chat. It starts the bootstrap service, spawns alice, bob and charly as real
 * peer processes, waits for their views to converge, has each say hello, and
 * checks that every peer delivered all three messages exactly once.
 */
import {createInterface} from 'node:readline';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {execa} from 'execa';
import type {ResultPromise} from 'execa';
import {startBootstrapServer} from '../bootstrap/server.js';

const peerBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../peer/bin/peerlab-peer.mjs');
const names = ['alice', 'bob', 'charly'];
const deadlineMs = 15_000;

/** One peer in script mode; each command is followed by an echo marker that ends its output. */
class ScriptedPeer {
  readonly #lines: string[] = [];
  #wake: (() => void) | undefined;
  #marker = 0;

  constructor(
    readonly name: string,
    readonly process: ResultPromise<{stdin: 'pipe'; stdout: 'pipe'; stderr: 'ignore'; reject: false}>,
  ) {
    createInterface({input: process.stdout}).on('line', (line) => {
      this.#lines.push(line);
      this.#wake?.();
    });
  }

  async nextLine(match: (line: string) => boolean, from: number): Promise<number> {
    const stop = Date.now() + deadlineMs;
    for (;;) {
      const index = this.#lines.findIndex((l, i) => i >= from && match(l));
      if (index >= 0) return index;
      if (Date.now() > stop) throw new Error(`${this.name} did not answer within ${deadlineMs} ms`);
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  }

  async command(line: string): Promise<string[]> {
    const marker = `__end_${++this.#marker}__`;
    const from = this.#lines.length;
    this.process.stdin.write(`${line}\necho ${marker}\n`);
    const end = await this.nextLine((l) => l === marker, from);
    return this.#lines.slice(from, end);
  }
}

async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const stop = Date.now() + deadlineMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > stop) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function main(): Promise<number> {
  const bootstrap = await startBootstrapServer();
  console.log(`bootstrap service on ${bootstrap.url}`);
  const peers: ScriptedPeer[] = [];
  try {
    for (const name of names) {
      const child = execa(process.execPath, [peerBin, '--name', name, '--port', '0', '--bootstrap', bootstrap.url], {
        stdin: 'pipe',
        stdout: 'pipe',
        stderr: 'ignore',
        reject: false,
        // The peer must not outlive this demo, however it ends.
        cleanup: true,
      });
      const peer = new ScriptedPeer(name, child);
      await peer.nextLine((l) => l.includes(' listening on '), 0);
      peers.push(peer);
      console.log(`started ${name} (pid ${child.pid})`);
    }
    const started = Date.now();
    await until('views converge', async () => {
      const views = await Promise.all(peers.map(async (p) => JSON.parse((await p.command('members --json')).at(-1)!) as {checksum: string; count: number}));
      return views.every((v) => v.count === names.length && v.checksum === views[0]!.checksum) ? views : undefined;
    });
    console.log(`all three see each other (${Date.now() - started} ms)`);
    for (const peer of peers) console.log(`${peer.name}: ${(await peer.command(`send Hello from ${peer.name}!`)).join(' ')}`);
    const logs = await until('every message delivered', async () => {
      const all = await Promise.all(peers.map(async (p) => JSON.parse((await p.command('messages --json')).at(-1)!) as {count: number; messages: {id: string; sender: string; text: string}[]}));
      return all.every((l) => l.count >= names.length) ? all : undefined;
    });
    let ok = true;
    for (const [i, log] of logs.entries()) {
      const ids = log.messages.map((m) => m.id);
      const exactlyOnce = ids.length === names.length && new Set(ids).size === names.length;
      ok &&= exactlyOnce;
      console.log(`\n${peers[i]!.name} received${exactlyOnce ? '' : ' (NOT exactly once!)'}:`);
      for (const m of log.messages) console.log(`  <${m.sender}> ${m.text}`);
    }
    console.log(ok ? '\nok: every peer delivered every message exactly once' : '\nFAILED: delivery was not exactly once');
    return ok ? 0 : 1;
  } finally {
    for (const peer of peers) peer.process.stdin.end('exit\n');
    await Promise.all(peers.map((p) => p.process));
    await bootstrap.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
