/**
 * Writes a file so that readers (and a crash) only ever see the old content or
 * the new: the data goes to a temporary file in the same directory, then a
 * rename, which is atomic within one file system. Creates the directory.
 *
 * A crash between the two leaves the temporary file behind; whoever owns the
 * file calls removeStaleTempFiles when it starts.
 */
import {randomBytes} from 'node:crypto';
import {mkdir, open, readdir, rename, rm} from 'node:fs/promises';
import {basename, dirname, join, resolve} from 'node:path';
import {pidExists} from './process-alive.js';

/** `.<name>.<pid>.<random>.tmp`: the pid says whose it is, the random part keeps two writes apart. */
function tempName(file: string): string {
  // Absolute, so removeStaleTempFiles recognises this process's writes in progress whatever form of the name it is given.
  return join(dirname(resolve(file)), `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/**
 * The temporary files this process is writing now. A file named with this
 * process's pid but not in here is a leftover of an earlier process that had
 * the same pid: in a container a restarted service is pid 1 every time.
 */
const writing = new Set<string>();

export async function writeFileAtomic(file: string, data: string): Promise<void> {
  await mkdir(dirname(file), {recursive: true});
  const tmp = tempName(file);
  writing.add(tmp);
  try {
    // 'wx': a name that somehow exists already is never written through.
    const handle = await open(tmp, 'wx');
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, {force: true}).catch(() => undefined);
    throw error;
  } finally {
    writing.delete(tmp);
  }
}

/**
 * Removes the temporary files earlier writes of `file` left when their process
 * died mid-write. Files of another running process may be a write in progress
 * and stay; so do this process's own writes in progress, but not other files
 * with its pid, which an earlier process of the same pid left (a container's
 * pid 1 restarted). Returns the names removed.
 */
export async function removeStaleTempFiles(file: string): Promise<string[]> {
  const dir = dirname(resolve(file));
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  const prefix = `.${basename(file)}.`;
  const removed: string[] = [];
  for (const entry of entries) {
    if (!entry.startsWith(prefix) || !entry.endsWith('.tmp')) continue;
    // <pid>.<random or, from older versions, a counter>
    const match = /^(\d+)\.[0-9a-z]+$/.exec(entry.slice(prefix.length, -'.tmp'.length));
    if (!match) continue;
    const pid = Number(match[1]);
    const path = join(dir, entry);
    if (pid === process.pid ? writing.has(path) : pidExists(pid)) continue;
    await rm(path, {force: true});
    removed.push(entry);
  }
  return removed;
}
