/** The commit a run was made at, for the figures file; nothing when git is missing or this is not a repository. */
import {execFile} from 'node:child_process';

export function currentCommit(cwd = process.cwd()): Promise<string | undefined> {
  return new Promise((resolve) => {
    // execFile, not exec: no shell to interpret anything.
    execFile('git', ['rev-parse', 'HEAD'], {cwd, timeout: 5000, windowsHide: true}, (error, stdout) => {
      const rev = String(stdout).trim();
      resolve(!error && /^[0-9a-f]{40,64}$/.test(rev) ? rev : undefined);
    });
  });
}
