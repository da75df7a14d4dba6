/**
 * Which files the file-touching commands (`run`, `load-config`,
 * `save-config`) may reach. A person at the prompt reaches any file they
 * could open themselves. A command from the coordinator arrives through the
 * agent, and the coordinator's REST API on loopback needs no token, so there
 * it reaches only the peer's own folder (`--data-dir`), or nothing when the
 * peer was given none: no absolute paths, no `..`, and no symlink that leads
 * out of the folder.
 */
import {lstat, mkdir, realpath} from 'node:fs/promises';
import path from 'node:path';
import {CommandError} from '@peerlab/client-agent';

export type FileAccess =
  | {readonly kind: 'any'}
  | {readonly kind: 'confined'; readonly root: string}
  | {readonly kind: 'none'};

export const anyFile: FileAccess = {kind: 'any'};

/** What the agent may touch: the data folder if the peer has one, else nothing. */
export function agentFileAccess(dataDir: string | undefined): FileAccess {
  return dataDir ? {kind: 'confined', root: path.resolve(dataDir)} : {kind: 'none'};
}

/** Creates the data folder, so the coordinator's first save-config has somewhere to go. */
export async function dataDirFor(dir: string | undefined): Promise<string | undefined> {
  if (!dir) return undefined;
  await mkdir(dir, {recursive: true});
  return path.resolve(dir);
}

function refuse(command: string, file: string, why: string): never {
  throw new CommandError(`${command}: refused "${file}": ${why}`, 'failed');
}

/** The relative path, checked by its words alone, before the file system is asked. */
function checkRelative(access: FileAccess, command: string, file: string): void {
  if (access.kind === 'none') refuse(command, file, 'files are not offered over the agent (start the peer with --data-dir to allow files in that folder)');
  if (path.isAbsolute(file) || /^[A-Za-z]:/.test(file)) refuse(command, file, 'absolute paths are not allowed over the agent; give a path inside the data folder');
  if (file.split(/[\\/]+/).includes('..')) refuse(command, file, '".." is not allowed over the agent');
}

function inside(root: string, real: string): boolean {
  return real === root || real.startsWith(root + path.sep);
}

/** The real path of an existing file to read. */
export async function fileToRead(access: FileAccess, command: string, file: string): Promise<string> {
  if (access.kind === 'any') return file;
  checkRelative(access, command, file);
  const root = await realpath((access as {root: string}).root);
  let real: string;
  try {
    real = await realpath(path.join(root, file));
  } catch (error) {
    throw new CommandError(`${command}: cannot read ${file}: ${(error as Error).message}`, 'failed');
  }
  if (!inside(root, real)) refuse(command, file, 'it leads out of the data folder');
  return real;
}

/** Where to write: the named file in a folder that really is inside the root, and not a symlink itself. */
export async function fileToWrite(access: FileAccess, command: string, file: string): Promise<string> {
  if (access.kind === 'any') return path.resolve(file);
  checkRelative(access, command, file);
  const root = await realpath((access as {root: string}).root);
  const target = path.join(root, file);
  let folder: string;
  try {
    folder = await realpath(path.dirname(target));
  } catch (error) {
    throw new CommandError(`${command}: cannot write ${file}: ${(error as Error).message}`, 'failed');
  }
  if (!inside(root, folder)) refuse(command, file, 'it leads out of the data folder');
  const real = path.join(folder, path.basename(target));
  const existing = await lstat(real).catch(() => undefined);
  if (existing?.isSymbolicLink()) refuse(command, file, 'it is a symlink');
  return real;
}
