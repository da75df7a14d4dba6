#!/usr/bin/env node
// Installs the Debian packages the tests drive for real (a browser, a kernel
// firewall, a second language's interpreter and libraries, a Go toolchain with
// the library a Go peer is built on), with one apt-get run for whatever is
// missing, through sudo when not root. Packages from Debian, not a language's
// own registry: these machines reach Debian's mirrors and nothing else. When
// installing cannot be done it says so and returns: the tests that need a
// missing package then fail, naming it, and the suite's counts show it.
import {spawnSync} from 'node:child_process';
import {existsSync} from 'node:fs';
import {pathToFileURL} from 'node:url';

/** What the test suite needs from Debian, each with why (shown when it cannot be installed). */
export const TEST_PACKAGES = [
  {name: 'chromium', why: "the report's browser tests"},
  {name: 'nftables', why: 'the kernel fault backend tests'},
  {name: 'python3', why: 'the Python agent and peer'},
  {name: 'python3-socketio', why: 'the Python agent (its socket.io client)'},
  {name: 'python3-websocket', why: "the Python agent (python-socketio's websocket transport)"},
  {name: 'python3-requests', why: "the Python agent (python-socketio's client)"},
  {name: 'golang-go', why: 'building the memberlist example peer'},
  {name: 'golang-github-hashicorp-memberlist-dev', why: 'building the memberlist example peer (its Go source)'},
  {name: 'golang-golang-x-net-dev', why: 'building the memberlist example peer (its websocket client)'},
  {name: 'iproute2', why: 'the tests that check which address a peer binds (ss)'},
];

/** Whether dpkg has the package installed (not merely known or half-removed). */
export function isInstalled(name) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Status}', name], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']});
  return result.status === 0 && /\binstall ok installed\b/.test(result.stdout);
}

/** Installs the packages that are missing; returns the names still missing afterwards. */
export function ensureDebianPackages(packages = TEST_PACKAGES, log = (line) => process.stderr.write(`# ${line}\n`)) {
  if (process.platform !== 'linux' || !existsSync('/usr/bin/dpkg-query') || !existsSync('/usr/bin/apt-get')) {
    log(`not a Debian-like system: install ${packages.map((p) => p.name).join(', ')} by hand (${packages.map((p) => p.why).join('; ')})`);
    return packages.map((p) => p.name);
  }
  const missing = packages.filter((p) => !isInstalled(p.name));
  if (missing.length === 0) return [];
  const names = missing.map((p) => p.name);
  const root = process.getuid?.() === 0;
  const sudo = !root && spawnSync('sudo', ['-n', 'true'], {stdio: 'ignore'}).status === 0;
  if (!root && !sudo) {
    for (const p of missing) log(`${p.name} is missing (${p.why} need it)`);
    log(`installing needs root: run \`sudo apt-get install -y ${names.join(' ')}\``);
    return names;
  }
  const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive'};
  const apt = (args) => {
    const [cmd, argv] = root ? ['apt-get', args] : ['sudo', ['-n', 'apt-get', ...args]];
    log(`${cmd} ${argv.join(' ')}`);
    return spawnSync(cmd, argv, {stdio: ['ignore', 'ignore', 'inherit'], env}).status === 0;
  };
  for (const p of missing) log(`${p.name} is missing: installing it for ${p.why}`);
  // A fresh image often has no package lists yet: update once, only when the first try fails.
  if (!apt(['install', '-y', ...names])) {
    apt(['update']);
    apt(['install', '-y', ...names]);
  }
  const still = missing.filter((p) => !isInstalled(p.name));
  for (const p of still) log(`could not install ${p.name} with apt-get: ${p.why} will fail`);
  return still.map((p) => p.name);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) ensureDebianPackages();
