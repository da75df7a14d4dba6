/**
 * A minimal ustar writer, enough for `docker import`: directories and
 * regular files, streamed from disk so a 100 MB Node binary never sits in
 * memory. Written here rather than taken from tar-stream: it is sixty lines,
 * and the image needs nothing tar-stream adds (links, pax headers, reading).
 */
import {createReadStream} from 'node:fs';
import {Readable} from 'node:stream';

export type TarEntry =
  | {type: 'dir'; path: string; mode: number}
  /** A file's bytes come from `source` on this machine; `size` must be its size. */
  | {type: 'file'; path: string; mode: number; size: number; source: string};

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width - 1 digits and a NUL, as ustar wants.
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function header(entry: TarEntry, mtime: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  let name = entry.path.replace(/^\/+/, '') + (entry.type === 'dir' ? '/' : '');
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    // ustar splits a long path at a slash: up to 155 bytes before it, 100 after.
    const cut = name.lastIndexOf('/', name.length - 2);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
    if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155) throw new RangeError(`path too long for ustar: ${entry.path}`);
  }
  block.write(name, 0, 100, 'utf8');
  block.write(octal(entry.mode & 0o7777, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii');
  block.write(octal(0, 8), 116, 'ascii');
  block.write(octal(entry.type === 'file' ? entry.size : 0, 12), 124, 'ascii');
  block.write(octal(mtime, 12), 136, 'ascii');
  block.write('        ', 148, 'ascii');
  block.write(entry.type === 'file' ? '0' : '5', 156, 'ascii');
  block.write('ustar\0' + '00', 257, 'ascii');
  block.write('root', 265, 'ascii');
  block.write('root', 297, 'ascii');
  block.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + ' ', 148, 'ascii');
  return block;
}

async function* blocks(entries: readonly TarEntry[]): AsyncGenerator<Buffer> {
  // A fixed time, so the same files give the same archive (and the same image).
  const mtime = 0;
  for (const entry of entries) {
    yield header(entry, mtime);
    if (entry.type !== 'file') continue;
    let written = 0;
    for await (const chunk of createReadStream(entry.source)) {
      written += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (written !== entry.size) throw new Error(`${entry.source} changed while being archived (${written} bytes, expected ${entry.size})`);
    const pad = (BLOCK - (entry.size % BLOCK)) % BLOCK;
    if (pad) yield Buffer.alloc(pad);
  }
  yield Buffer.alloc(BLOCK * 2);
}

/** The archive as a stream. */
export function tarStream(entries: readonly TarEntry[]): Readable {
  return Readable.from(blocks(entries), {objectMode: false});
}
