#!/usr/bin/env node
// Builds the memberlist example peer (examples/memberlist-peer) into
// examples/memberlist-peer/bin/memberlist-peer, offline, from Debian's Go
// packages: golang-go, and memberlist with its dependencies as Go source under
// /usr/share/gocode/src (golang-github-hashicorp-memberlist-dev; the websocket
// comes from golang-golang-x-net-dev, which it pulls in). GOPATH mode reads that
// tree as it is, with no module proxy and no go.sum to keep.
//
// Skips the build when the binary is newer than every source it is made of.
// Exit codes: 0 built or up to date, 1 the build failed, 3 go or the Debian
// sources are missing (the message names the packages).
import {execFile} from 'node:child_process';
import {existsSync, readdirSync, renameSync, rmSync, statSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'examples', 'memberlist-peer');
const binary = path.join(source, 'bin', 'memberlist-peer');
const gopath = process.env.MEMBERLIST_PEER_GOPATH ?? '/usr/share/gocode';
const packages = 'golang-go golang-github-hashicorp-memberlist-dev golang-golang-x-net-dev';
// Each import the peer needs, and the Debian package that provides it.
const needed = [
  ['github.com/hashicorp/memberlist', 'golang-github-hashicorp-memberlist-dev'],
  ['golang.org/x/net/websocket', 'golang-golang-x-net-dev'],
];

const say = (line) => process.stdout.write(`build-memberlist-peer: ${line}\n`);

function newestGoFile(dir) {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.go') && !name.endsWith('_test.go')) newest = Math.max(newest, statSync(path.join(dir, name)).mtimeMs);
  }
  return newest;
}

async function goVersion() {
  try {
    const {stdout} = await run('go', ['version'], {timeout: 30_000});
    return stdout.trim();
  } catch {
    return undefined;
  }
}

async function main() {
  const version = await goVersion();
  const missing = needed.filter(([importPath]) => !existsSync(path.join(gopath, 'src', importPath)));
  if (!version || missing.length > 0) {
    const what = [!version ? 'go is not on PATH (golang-go)' : undefined, ...missing.map(([p, pkg]) => `${path.join(gopath, 'src', p)} is missing (${pkg})`)].filter(Boolean);
    say(`cannot build: ${what.join('; ')}.`);
    say(`install them with: apt-get install ${packages}`);
    return 3;
  }
  const sources = [newestGoFile(source), ...needed.map(([p]) => newestGoFile(path.join(gopath, 'src', p)))];
  if (existsSync(binary) && statSync(binary).mtimeMs > Math.max(...sources)) {
    say(`up to date: ${path.relative(root, binary)}`);
    return 0;
  }
  const env = {...process.env, GO111MODULE: 'off', GOPATH: gopath, GOFLAGS: '', GOPROXY: 'off', GOCACHE: process.env.GOCACHE ?? path.join(source, '.gocache')};
  // A toolchain switch would try to download another Go.
  delete env.GOTOOLCHAIN;
  const started = Date.now();
  // Built beside the binary and renamed over it: two test files may build at once, and a peer
  // started from a half-written binary would fail in ways that have nothing to do with the peer.
  const partial = `${binary}.${process.pid}.partial`;
  try {
    await run('go', ['build', '-trimpath', '-o', partial, '.'], {cwd: source, env, timeout: 600_000, maxBuffer: 16 << 20});
    renameSync(partial, binary);
  } catch (error) {
    rmSync(partial, {force: true});
    say(`go build failed (${version}):`);
    process.stderr.write(`${error.stderr || error.message}\n`);
    return 1;
  }
  say(`built ${path.relative(root, binary)} in ${((Date.now() - started) / 1000).toFixed(1)} s (${version})`);
  return 0;
}

process.exitCode = await main();
