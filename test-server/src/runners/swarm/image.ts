/**
 * The reference peer's image, made without a registry or a Dockerfile: the
 * coordinator's own Node binary, the shared libraries it links (as `ldd`
 * lists them), and the bundled peer (one esbuild file), put in a tar here and
 * given to the engine with `docker import`. Its tag is a hash of those files'
 * contents, so it is built once per Node and peer build, and a node that has
 * it (loaded with `docker load`) never needs it built again.
 */
import {execFile} from 'node:child_process';
import {createHash} from 'node:crypto';
import {createReadStream} from 'node:fs';
import {realpath, stat} from 'node:fs/promises';
import path from 'node:path';
import {promisify} from 'node:util';
import type Docker from 'dockerode';
import type {TarEntry} from './tar.js';
import {tarStream} from './tar.js';
import {defaultPeerBin} from '../../peer-program/reference.js';

export const IMAGE_REPOSITORY = 'peerlab-peer';
/** Where the image keeps Node and the peer: the service's command names them. */
export const IMAGE_NODE = '/usr/local/bin/node';
export const IMAGE_PEER_BIN = '/peerlab/peer/bin/peerlab-peer.mjs';
const IMAGE_PEER_BUNDLE = '/peerlab/peer/dist/peer.mjs';

/** The libraries a dynamically linked binary needs, where its loader will look for them. */
async function sharedLibraries(binary: string): Promise<string[]> {
  let stdout: string;
  try {
    ({stdout} = await promisify(execFile)('ldd', [binary]));
  } catch (error) {
    // A static binary: ldd says so and fails; nothing to add.
    if (/not a dynamic executable/.test(String((error as {stderr?: string}).stderr ?? ''))) return [];
    throw new Error(`cannot list the libraries of ${binary} with ldd: ${(error as Error).message}`);
  }
  const libs: string[] = [];
  for (const line of stdout.split('\n')) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"; the vdso has no file.
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line);
    if (match) libs.push(match[1]!);
  }
  return libs;
}

async function fileEntry(source: string, at: string, mode?: number): Promise<TarEntry> {
  // A library is often a symbolic link to a versioned file: the image holds the bytes under the linked name.
  const real = await realpath(source);
  const info = await stat(real);
  return {type: 'file', path: at, mode: mode ?? info.mode, size: info.size, source: real};
}

function withParents(files: TarEntry[]): TarEntry[] {
  const dirs = new Set<string>(['/tmp']);
  for (const f of files) {
    for (let dir = path.posix.dirname(f.path); dir !== '/'; dir = path.posix.dirname(dir)) dirs.add(dir);
  }
  const dirEntries: TarEntry[] = [...dirs].sort().map((dir) => ({type: 'dir', path: dir, mode: dir === '/tmp' ? 0o1777 : 0o755}));
  return [...dirEntries, ...files];
}

/** What goes in the image, from this machine. */
export async function imageContents(peerBin = defaultPeerBin()): Promise<TarEntry[]> {
  const node = process.execPath;
  const bundle = path.join(path.dirname(peerBin), '..', 'dist', 'peer.mjs');
  const files = [
    await fileEntry(node, IMAGE_NODE, 0o755),
    ...(await Promise.all((await sharedLibraries(node)).map((lib) => fileEntry(lib, lib, 0o755)))),
    await fileEntry(peerBin, IMAGE_PEER_BIN, 0o755),
    await fileEntry(bundle, IMAGE_PEER_BUNDLE, 0o644),
  ];
  return withParents(files);
}

/** A hash of every path and byte in the image: its tag. */
async function contentHash(entries: readonly TarEntry[]): Promise<string> {
  const hash = createHash('sha256');
  for (const entry of entries) {
    hash.update(`${entry.type} ${entry.path} ${entry.mode.toString(8)}\n`);
    if (entry.type === 'file') for await (const chunk of createReadStream(entry.source)) hash.update(chunk as Buffer);
  }
  return hash.digest('hex').slice(0, 16);
}

/** Hashes by file identity already made in this process: the files do not change under a running coordinator. */
const tags = new Map<string, Promise<string>>();

async function tagOf(entries: readonly TarEntry[]): Promise<string> {
  const stats = await Promise.all(entries.map(async (e) => (e.type === 'file' ? `${e.path} ${e.source} ${e.size} ${(await stat(e.source)).mtimeMs}` : e.path)));
  const key = stats.join('\n');
  let tag = tags.get(key);
  if (!tag) {
    tag = contentHash(entries);
    tags.set(key, tag);
  }
  return tag;
}

function isNotFound(error: unknown): boolean {
  return (error as {statusCode?: number}).statusCode === 404;
}

/** The image's reference, imported into this engine unless it has it already. */
export async function ensurePeerImage(docker: Docker, peerBin?: string): Promise<string> {
  const entries = await imageContents(peerBin);
  const tag = await tagOf(entries);
  const ref = `${IMAGE_REPOSITORY}:${tag}`;
  try {
    await docker.getImage(ref).inspect();
    return ref;
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  const progress = await docker.importImage(tarStream(entries), {repo: IMAGE_REPOSITORY, tag});
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(progress, (error: Error | null, output: Array<{error?: string}>) => {
      const failed = error ?? output.find((o) => o.error);
      if (failed) reject(new Error(`docker import of ${ref}: ${failed instanceof Error ? failed.message : failed.error}`));
      else resolve();
    });
  });
  return ref;
}
