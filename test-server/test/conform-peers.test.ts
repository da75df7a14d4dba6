/**
 * `peerlab conform` against the three peers this repository ships, each a
 * different language and agent: the reference peer (TypeScript, the
 * client-agent package), the Python peer (the peerlab_agent package) and the
 * memberlist example (Go, frames written by hand). Every check must pass for
 * each: the table an implementer reads is only worth something if the peers
 * it is measured against pass it.
 *
 * Serial: each check starts a coordinator and a peer process.
 */
import test from 'ava';
import {execa} from 'execa';
import {existsSync} from 'node:fs';
import path from 'node:path';
import {node, peerlab, root} from './foreign-peer.js';

interface Summary {
  peer: string;
  checks: Array<{name: string; status: 'pass' | 'fail' | 'skip'; reasons: string[]}>;
}

const memberlistPeer = path.join(root, 'examples', 'memberlist-peer', 'bin', 'memberlist-peer');
const buildScript = path.join(root, 'scripts', 'build-memberlist-peer.mjs');
const python = '/usr/bin/python3';
const pythonPeer = path.join(root, 'peer-python', 'bin', 'peerlab-python-peer');

/** Runs conform on a peer and expects every one of its checks to pass: none failed, none skipped. */
async function conforms(t: import('ava').ExecutionContext, peer: string[]): Promise<void> {
  const args = ['conform', '--json', ...(peer.length > 0 ? ['--peer', peer.map((word) => (/\s/.test(word) ? `"${word}"` : word)).join(' ')] : [])];
  const result = await peerlab(args, root, 240_000);
  let summary: Summary;
  try {
    summary = JSON.parse(result.stdout) as Summary;
  } catch {
    t.fail(`conform printed no JSON (exit ${result.exitCode}):\n${result.all}`);
    return;
  }
  const notPassed = summary.checks.filter((c) => c.status !== 'pass').map((c) => `${c.name}: ${c.status}: ${c.reasons.join('; ')}`);
  t.deepEqual(notPassed, [], `${summary.peer}\n${result.stderr}`);
  t.is(result.exitCode, 0);
  // The thirteen checks of docs/PROTOCOL.md's "Checking a peer with peerlab conform", each run.
  t.is(summary.checks.length, 13);
}

test.serial('the reference peer passes every conformance check', async (t) => {
  t.timeout(240_000);
  await conforms(t, []);
});

test.serial('the Python peer passes every conformance check', async (t) => {
  t.timeout(240_000);
  if (!existsSync(python)) return t.fail(`${python} is missing: install Debian's python3, python3-socketio and python3-websocket`);
  await conforms(t, [python, pythonPeer]);
});

test.serial('the memberlist example passes every conformance check', async (t) => {
  // A cold build compiles memberlist and its dependencies: about a minute on two busy cores.
  t.timeout(900_000);
  const build = await execa(node, [buildScript], {reject: false, all: true, timeout: 900_000});
  if (build.exitCode !== 0) return t.fail(`build-memberlist-peer failed (exit ${build.exitCode}):\n${build.all}`);
  await conforms(t, [memberlistPeer]);
});
