// Writes a report folder from made-up data, to look at the page and time it
// at any size before (and apart from) real runs: a failing run with a
// partition, a kill and restart, a pause, gossip, flapping suspicions and a
// log of N events.   node scripts/dev-report.mjs --out /tmp/r [--events 1000000] [--peers 12]
import {mkdir, copyFile, writeFile} from 'node:fs/promises';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseArgs} from 'node:util';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const {values} = parseArgs({options: {out: {type: 'string'}, events: {type: 'string', default: '20000'}, peers: {type: 'string', default: '12'}, seed: {type: 'string', default: '7'}}});
if (!values.out) {
  console.error('usage: dev-report.mjs --out <dir> [--events N] [--peers P]');
  process.exit(2);
}
const N = Number(values.events);
const P = Number(values.peers);
let seed = Number(values.seed);
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const D = Math.max(60_000, Math.min(600_000, N * 0.12));
const at = (f) => Math.round(D * f);
const peers = Array.from({length: P}, (_, i) => `peer-${String(i).padStart(2, '0')}`);
const all = peers.map((_, i) => i);
const half = Math.floor(P / 2);
const sideA = all.slice(0, half);
const sideB = all.slice(half);
const killed = 3 % P;
const paused = 5 % P;

const tPart = at(0.25), tHeal = at(0.42), tKill = at(0.5), tRestart = at(0.66), tPause = at(0.75), tResume = at(0.8);
const steps = [];
const step = (path, kind, title, begin, end, status = 'pass', message) => steps.push({path, anchor: `step-${path}`, kind, title, line: 10 + steps.length * 3, depth: path.split('.').length - 1, begin, end, status, message});
step('1', 'spawn', `spawn ${P} peers`, 0, at(0.05));
step('2', 'await', 'await converged within 10s', at(0.05), at(0.12));
step('3', 'partition', `partition [${sideA.map((i) => peers[i]).join(', ')}] | [${sideB.map((i) => peers[i]).join(', ')}]`, tPart, tPart + 30);
step('4', 'await', 'await converged within 10s', tPart + 30, at(0.33));
step('5', 'block', 'repeat 2', tHeal, at(0.49));
step('5.1', 'heal', 'heal', tHeal, tHeal + 20);
step('5.2', 'send', 'send 100 messages from every peer', tHeal + 20, at(0.48));
step('6', 'kill', `kill ${peers[killed]}`, tKill, tKill + 15);
step('7', 'await', `await ${peers[killed]} dead in every view within 5s`, tKill + 15, at(0.6), 'fail', `${peers[(killed + 1) % P]} still holds ${peers[killed]} alive after 5s`);
step('8', 'restart', `restart ${peers[killed]}`, tRestart, tRestart + 200);
step('9', 'pause', `pause ${peers[paused]} for 5s`, tPause, tResume);
step('10', 'await', 'await converged within 10s', tResume, at(0.9), 'unknown', 'the run stopped first');
const checks = [
  {t: at(0.6), status: 'fail', label: 'step 7 await dead within 5s', message: steps[8].message, anchor: 'step-7'},
  {t: at(0.9), status: 'unknown', label: 'step 10 await converged within 10s', message: 'the run stopped first', anchor: 'step-10'},
  {t: at(0.55), status: 'fail', label: 'invariant membership-legality', message: `${peers[2]} declared ${peers[4]} dead while it was alive`, anchor: 'invariant-membership-legality'},
];
const faults = [
  {kind: 'partition', from: tPart, to: tHeal, peers: all, label: `partition [${sideA.map((i) => peers[i]).join(', ')}] | [${sideB.map((i) => peers[i]).join(', ')}]`, sides: [sideA, sideB]},
  {kind: 'kill', from: tKill, to: tRestart, peers: [killed], label: `kill ${peers[killed]}`},
  {kind: 'restart', from: tRestart, to: tRestart + 1500, peers: [killed], label: `restart ${peers[killed]}`},
  {kind: 'pause', from: tPause, to: tResume, peers: [paused], label: `pause ${peers[paused]}`},
  {kind: 'loss', from: at(0.85), peers: all, label: 'loss 10%'},
];
const lifecycles = all.map((p) => {
  const start = Math.round(rand() * at(0.04));
  if (p === killed) return [{from: start, to: tKill, state: 'running'}, {from: tKill, to: tRestart, state: 'down'}, {from: tRestart, state: 'running'}];
  if (p === paused) return [{from: start, to: tPause, state: 'running'}, {from: tPause, to: tResume, state: 'paused'}, {from: tResume, state: 'running'}];
  return [{from: start, state: 'running'}];
});

// Membership: gossip spreads each change with random delays; flapping suspicions fill it to about N/10 changes.
const changes = [];
const inc = new Array(P).fill(0);
const spread = (t0, subject, state, observers, spreadMs) => {
  for (const o of observers) changes.push({t: t0 + Math.round(rand() * spreadMs), observer: o, subject, state, incarnation: inc[subject]});
};
for (const s of all) spread(lifecycles[s][0].from, s, 0, all, 3000);
for (const s of sideB) spread(tPart + 2000, s, 1, sideA, 2000), spread(tPart + 6000, s, 2, sideA, 3000);
for (const s of sideA) spread(tPart + 2000, s, 1, sideB, 2000), spread(tPart + 6000, s, 2, sideB, 3000);
for (const s of all) inc[s]++, spread(tHeal + 500, s, 0, all.filter((o) => o !== s), 4000);
spread(tKill + 1500, killed, 1, all.filter((o) => o !== killed), 2000);
spread(tKill + 5000, killed, 2, all.filter((o) => o !== killed && o !== (killed + 1) % P), 3000);
for (const s of all) if (s !== killed) changes.push({t: tKill + 1, observer: killed, subject: s, state: 4, incarnation: 0});
inc[killed]++;
for (const s of all) if (s !== killed) changes.push({t: tRestart + 50, observer: killed, subject: s, state: 0, incarnation: inc[s]});
spread(tRestart + 300, killed, 0, all.filter((o) => o !== killed), 3000);
spread(tPause + 1500, paused, 1, all.filter((o) => o !== paused), 2000);
inc[paused]++;
spread(tResume + 300, paused, 0, all.filter((o) => o !== paused), 2000);
const flaps = Math.max(0, Math.floor(N / 10) - changes.length);
for (let i = 0; i < flaps / 2; i++) {
  const t = Math.round(rand() * D);
  const o = Math.floor(rand() * P);
  let s = Math.floor(rand() * P);
  if (s === o) s = (s + 1) % P;
  changes.push({t, observer: o, subject: s, state: 1, incarnation: inc[s]});
  changes.push({t: t + 200 + Math.round(rand() * 800), observer: o, subject: s, state: 0, incarnation: ++inc[s]});
}
changes.sort((a, b) => a.t - b.t);
const col = (rows, keys) => Object.fromEntries(keys.map((k) => [k, rows.map((r) => r[k])]));
const epochsRows = [
  {t: 0, live: all, sides: []},
  {t: tPart, live: all, sides: [sideA, sideB]},
  {t: tHeal, live: all, sides: []},
  {t: tKill, live: all.filter((p) => p !== killed), sides: []},
  {t: tRestart, live: all, sides: []},
  {t: tPause, live: all.filter((p) => p !== paused), sides: []},
  {t: tResume, live: all, sides: []},
];

// The log: N events over the run.
const sources = ['coordinator', ...peers.map((p) => `peer:${p}`)];
const types = ['step.began', 'step.ended', 'member.changed', 'message.sent', 'message.delivered', 'peer.started', 'peer.stats', 'fault.applied', 'gossip.sent', 'gossip.received'];
const ts = new Array(N);
for (let i = 0; i < N; i++) ts[i] = Math.round((i / N) * D + rand() * 3);
for (let i = 1; i < N; i++) if (ts[i] < ts[i - 1]) ts[i] = ts[i - 1];
const src = new Array(N);
const type = new Array(N);
for (let i = 0; i < N; i++) {
  src[i] = rand() < 0.05 ? 0 : 1 + Math.floor(rand() * P);
  type[i] = src[i] === 0 ? Math.floor(rand() * 2) : 2 + Math.floor(rand() * 8);
}
const chunkSize = 5000;
const bucketMs = Math.max(100, Math.round(D / 400));
const counts = new Array(Math.ceil((D + 1) / bucketMs)).fill(0);
for (const t of ts) counts[Math.floor(t / bucketMs)]++;

// Messages, for the message views: every peer sends, the others deliver with a delay.
const sent = {id: [], sender: [], t: []};
const deliveries = {message: [], peer: [], t: [], flag: []};
for (let m = 0; m < 60; m++) {
  const sender = m % P;
  const t = tHeal + 1000 + m * 150;
  sent.id.push(`m${m}`), sent.sender.push(sender), sent.t.push(t);
  for (const p of all) if (p !== sender) deliveries.message.push(m), deliveries.peer.push(p), deliveries.t.push(t + 5 + Math.round(rand() * 300)), deliveries.flag.push(rand() < 0.03 ? 1 : 0);
}
const nb = Math.ceil(D / 1000);
const lat = Array.from({length: nb}, (_, i) => (i * 1000 >= tHeal && i * 1000 < tHeal + 12_000 ? 50 + Math.round(rand() * 100) : null));

const data = {
  version: 1,
  meta: {scenario: 'dev: partition, kill and pause', file: 'scenarios/dev.yaml', runId: `dev-${N}`, seed: 7, status: 'fail', message: `step 7 failed: ${steps[8].message}`, t0: Date.UTC(2026, 11, 1, 12), end: D, live: false, firstFailure: {anchor: 'step-7', t: at(0.6), message: steps[8].message}, figures: {events: N}},
  peers,
  timeline: {steps, faults, lifecycles, checks, rate: {bucketMs, counts}},
  membership: {changes: col(changes, ['t', 'observer', 'subject', 'state', 'incarnation']), epochs: col(epochsRows, ['t', 'live', 'sides'])},
  convergence: [],
  detection: {faults: [], falseSuspicions: [], falseDeaths: []},
  messages: {sent, deliveries, missing: {message: [], peer: []}, unsent: [], latency: {bucketMs: 1000, p50: lat, p99: lat.map((v) => (v === null ? null : v * 2)), max: lat.map((v) => (v === null ? null : v * 3))}},
  eventLog: {count: N, t: ts, src, type, sources, types, chunkSize},
};

const out = values.out;
await mkdir(out, {recursive: true});
const dist = join(root, 'dist', 'page');
await copyFile(join(dist, 'app.js'), join(out, 'app.js'));
await copyFile(join(dist, 'app.css'), join(out, 'app.css'));
await writeFile(join(out, 'data.js'), `window.peerlabReport = JSON.parse(${JSON.stringify(JSON.stringify(data))});\n`);
await writeFile(join(out, 'index.html'), `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${data.meta.scenario}</title><link rel="stylesheet" href="app.css"></head>\n<body><div id="app"></div><script src="data.js"></script><script src="app.js"></script></body></html>\n`);
for (let c = 0; c * chunkSize < N; c++) {
  const events = [];
  for (let i = c * chunkSize; i < Math.min(N, (c + 1) * chunkSize); i++) events.push({t: data.meta.t0 + ts[i], src: sources[src[i]], type: types[type[i]], data: {seq: i, note: i % 7 === 0 ? 'a longer payload to see how the row truncates its text when it does not fit' : undefined}});
  await writeFile(join(out, `events-${String(c).padStart(4, '0')}.js`), `window.peerlabEvents(${JSON.stringify({index: c, events})});\n`);
}
console.log(`${out}/index.html: ${N} events, ${changes.length} membership changes, ${P} peers`);
