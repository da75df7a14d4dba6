/**
 * Writes a file so that readers (and a crash) only ever see the old content or
 * the new: the data goes to a temporary file in the same directory, then a
 * rename, which is atomic within one file system. Creates the directory.
 */
import {mkdir, open, rename, rm} from 'node:fs/promises';
import {basename, dirname, join} from 'node:path';

let tmpCounter = 0;

export async function writeFileAtomic(file: string, data: string): Promise<void> {
  await mkdir(dirname(file), {recursive: true});
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.${++tmpCounter}.tmp`);
  try {
    const handle = await open(tmp, 'w');
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
  }
}
