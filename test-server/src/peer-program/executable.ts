/**
 * Finds the file a peer program's first word names, the way spawning it
 * will: a word with a slash is a path from the program's cwd, any other is
 * looked up on PATH (the program's own PATH if its env sets one). Said
 * before any peer starts, in words a user can act on, rather than as a
 * spawn error in a peer's log.
 */
import {accessSync, constants, statSync} from 'node:fs';
import path from 'node:path';
import type {PeerProgram} from './program.js';

export type Executable = {ok: true; file: string} | {ok: false; message: string};

function isFolder(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Why this file cannot be run, or undefined if it can. */
function unrunnable(file: string): string | undefined {
  let info;
  try {
    info = statSync(file);
  } catch {
    return 'not found';
  }
  if (!info.isFile()) return 'not a file';
  try {
    accessSync(file, constants.X_OK);
  } catch {
    return 'not executable (chmod +x it, or name its interpreter first, e.g. [python3, peer.py])';
  }
  return undefined;
}

export function findExecutable(program: PeerProgram): Executable {
  if (!isFolder(program.cwd)) return {ok: false, message: `cwd ${program.cwd}: not a folder`};
  const word = program.command[0]!;
  if (word.includes('/')) {
    const file = path.resolve(program.cwd, word);
    const why = unrunnable(file);
    return why ? {ok: false, message: `program ${word} (${file}): ${why}`} : {ok: true, file};
  }
  const searchPath = program.env.PATH ?? process.env.PATH ?? '';
  // An empty PATH entry means the current folder to a shell; a peer program found there by accident is not worth it.
  const dirs = searchPath.split(path.delimiter).filter((dir) => dir !== '');
  for (const dir of dirs) {
    const file = path.resolve(program.cwd, dir, word);
    if (unrunnable(file) === undefined) return {ok: true, file};
  }
  return {ok: false, message: `program ${word}: not found on PATH; name it by a path (./${word}) if it is in cwd`};
}
