#!/usr/bin/env node
// Makes sure the browser the report's tests drive is installed: Debian's
// chromium at /usr/bin/chromium (playwright-core brings no browser of its
// own, and downloading one at test time would make the suite depend on a CDN).
// Installed with apt-get when missing, through sudo when not root. When that
// cannot be done it says so and returns: the browser tests then fail, naming
// the missing binary, and the suite's counts show it.
import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {pathToFileURL} from 'node:url';

export const chromiumPath = '/usr/bin/chromium';

/** Installs chromium if it is missing; returns whether it is there afterwards. */
export function ensureChromium(log = (line) => process.stderr.write(`# ${line}\n`)) {
  if (existsSync(chromiumPath)) return true;
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) {
    log(`${chromiumPath} is missing and this is not a Debian-like system: install Chromium there (the report's browser tests need it)`);
    return false;
  }
  const root = process.getuid?.() === 0;
  const sudo = !root && spawnSync('sudo', ['-n', 'true'], {stdio: 'ignore'}).status === 0;
  if (!root && !sudo) {
    log(`${chromiumPath} is missing and installing it needs root: run \`sudo apt-get install -y chromium\` (the report's browser tests need it)`);
    return false;
  }
  const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive'};
  const apt = (args) => {
    const [cmd, argv] = root ? ['apt-get', args] : ['sudo', ['-n', 'apt-get', ...args]];
    log(`${cmd} ${argv.join(' ')}`);
    return spawnSync(cmd, argv, {stdio: ['ignore', 'ignore', 'inherit'], env}).status === 0;
  };
  log(`${chromiumPath} is missing: installing Debian's chromium for the report's browser tests`);
  // A fresh image often has no package lists yet: update once, only when the first try fails.
  if (!apt(['install', '-y', 'chromium'])) {
    apt(['update']);
    apt(['install', '-y', 'chromium']);
  }
  if (existsSync(chromiumPath)) return true;
  log(`could not install chromium with apt-get: the report's browser tests will fail until ${chromiumPath} exists`);
  return false;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) ensureChromium();
