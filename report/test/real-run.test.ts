/**
 * buildReport on real runs: two scenarios run through the CLI once (a
 * partition with chat that passes, and a kill detected beside a peer that
 * drops every delivery, which fails), then what the report shows is held to
 * what happened.
 */
import test from 'ava';
import {execFile} from 'node:child_process';
import {mkdtemp, readdir, readFile, rm, writeFile} from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';
import {readHistory} from '@peerlab/checkers/history/read';
import type {Status} from '@peerlab/checkers/history/types';
import type {ReportData} from '../src/index.js';
import {buildReport, memberStates} from '../src/index.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const bin = path.join(root, 'test-server', 'bin', 'peerlab.mjs');

const failing = `name: a killed peer is detected, and a peer that drops every delivery fails delivered
peers: [alice, bob, charly, dave]
peer_args: {dave: [--bug, drop-delivery]}
steps:
  - start: all
  - await: converged
    within: 5x model
  - kill: charly
  - await: detected
    within: 15s
  - on: alice
    run: send hello
  - await: delivered
    within: 2s
`;

interface Run {
  result: {name: string; status: Status; message?: string};
  data: ReportData;
}

let runs: Run[] = [];
let dir = '';

test.before(async (t) => {
  t.timeout(300_000);
  dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-report-'));
  const file = path.join(dir, 'failing.yaml');
  await writeFile(file, failing);
  const out = path.join(dir, 'runs');
  await promisify(execFile)(process.execPath, [bin, 'run', path.join(root, 'scenarios/14-partition-chat.yaml'), file, '--out', out, '--reporter', 'json'], {timeout: 280_000}).catch((error: {code?: number}) => {
    // A failing scenario makes the CLI exit 1: that one is meant to fail.
    if (error.code !== 1) throw error;
  });
  for (const entry of (await readdir(out, {withFileTypes: true})).filter((e) => e.isDirectory())) {
    const result = JSON.parse(await readFile(path.join(out, entry.name, 'result.json'), 'utf8')) as Run['result'];
    runs.push({result, data: buildReport(await readHistory(path.join(out, entry.name, 'history.jsonl')))});
  }
  runs = runs.sort((a, b) => (a.result.name < b.result.name ? -1 : 1));
});

test.after.always(async () => {
  if (dir) await rm(dir, {recursive: true, force: true});
});

const byName = (prefix: string): Run => {
  const run = runs.find((r) => r.result.name.startsWith(prefix));
  if (!run) throw new Error(`no run named ${prefix}…: ${runs.map((r) => r.result.name).join(', ')}`);
  return run;
};

test('the verdict is result.json\'s, word for word', (t) => {
  t.is(runs.length, 2);
  for (const {result, data} of runs) {
    t.is(data.meta.status, result.status, result.name);
    t.is(data.meta.message, result.message, result.name);
    t.is(data.meta.scenario, result.name);
  }
});

test('a partition: an epoch with its two sides, the band, every message delivered once by all five peers after the heal, and the heal converging', (t) => {
  const {data} = byName('chat during a partition');
  t.is(data.meta.status, 'pass');
  t.is(data.meta.firstFailure, undefined);
  const index = (name: string) => data.peers.indexOf(name);
  const left = ['alice', 'bob'].map(index);
  const right = ['charly', 'dave', 'eve'].map(index);
  t.true(
    data.membership.epochs.sides.some((sides) => sides.length === 2 && JSON.stringify(sides) === JSON.stringify([right, left])),
    JSON.stringify(data.membership.epochs.sides),
  );
  const band = data.timeline.faults.find((f) => f.kind === 'partition');
  t.deepEqual(band?.sides, [left, right]);
  t.truthy(band?.to, 'the heal ended it');

  const m = data.messages;
  t.is(m.sent.id.length, 5);
  for (let k = 0; k < m.sent.id.length; k++) {
    const peers = m.deliveries.peer.filter((_, i) => m.deliveries.message[i] === k).sort();
    t.deepEqual(peers, [0, 1, 2, 3, 4], `${m.sent.id[k]} delivered once by every peer`);
  }
  t.true(m.deliveries.flag.every((f) => f === 0));
  t.deepEqual(m.missing, {message: [], peer: []});

  const heal = data.convergence.find((c) => c.kind === 'heal');
  t.truthy(heal);
  t.true(heal!.completeAt !== undefined && heal!.completeAt >= heal!.t, 'the group converged after the heal, as the run says');
  t.true(heal!.model !== undefined, 'the peers reported their timing');
  // Each side declared the other dead: those are failures detected, not false deaths.
  t.deepEqual(data.detection.falseDeaths, []);
  t.true(data.detection.faults.filter((f) => f.kind === 'partition').every((f) => f.observers.every((o) => o.deadAt !== undefined)));
});

test('a kill and a peer that drops deliveries: the killed peer dead to every live observer, the missing receiver, and the page opening on the failed await', (t) => {
  const {data} = byName('a killed peer');
  t.is(data.meta.status, 'fail');
  const index = (name: string) => data.peers.indexOf(name);
  const charly = index('charly');

  const detectedStep = data.timeline.steps.find((s) => s.kind === 'await' && s.title.includes('detected'))!;
  t.is(detectedStep.status, 'pass');
  const c = data.membership.changes;
  for (const observer of ['alice', 'bob', 'dave']) {
    const o = index(observer);
    const dead = c.t.some((time, i) => c.observer[i] === o && c.subject[i] === charly && memberStates[c.state[i]!] === 'dead' && time <= detectedStep.end!);
    t.true(dead, `${observer} holds charly dead by the time detected passed`);
  }
  const fault = data.detection.faults.find((f) => f.subject === charly);
  t.is(fault?.kind, 'kill');
  t.deepEqual(fault?.observers.map((o) => data.peers[o.observer]).sort(), ['alice', 'bob', 'dave']);
  for (const o of fault?.observers ?? []) t.true(o.deadAt !== undefined && o.deadAt >= fault!.t);
  t.true(data.timeline.lifecycles[charly]!.some((s) => s.state === 'down'));

  const deliveredStep = data.timeline.steps.find((s) => s.kind === 'await' && s.title.includes('delivered'))!;
  t.is(deliveredStep.status, 'fail');
  t.deepEqual(data.meta.firstFailure, {anchor: deliveredStep.anchor, t: deliveredStep.end!, message: data.meta.message!});
  t.true(data.timeline.checks.some((k) => k.anchor === deliveredStep.anchor && k.status === 'fail'));

  const m = data.messages;
  t.is(m.sent.id.length, 1);
  t.deepEqual(
    m.missing.peer.map((p) => data.peers[p]),
    ['dave'],
    'dave never delivered alice\'s message',
  );
  t.false(m.deliveries.peer.includes(index('dave')));
});
