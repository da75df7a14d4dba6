// buildReport on a synthetic group of N peers (N² membership events as the
// group forms, five kills each seen by all, a partition in halves and a
// heal): time and size per section. `node report/scripts/scale.mjs [N]`
// after `npm run build`. A figure to read, not a test.
import {buildReport} from '@peerlab/report';
import {evaluate} from '@peerlab/checkers/verdict';

const N = Number(process.argv[2] ?? 1000);
const names = Array.from({length: N}, (_, i) => `n${String(i).padStart(4, '0')}`);
const timing = {probeIntervalMs: 150, suspicionMult: 4, suspicionMaxTimeoutMult: 4, gossipIntervalMs: 50, gossipNodes: 3, retransmitMult: 4, pushPullIntervalMs: 2000, chatSyncIntervalMs: 300};
const h = [];
let t = 1_000_000;
const c = (type, data) => h.push({t: t++, src: 'coordinator', type, data});
const p = (name, type, data) => h.push({t: t++, src: `peer:${name}`, type, data});
c('run.begin', {scenario: 'scale', peers: names});
for (const n of names) c('peer.spawn', {peer: n, pid: 1});
for (const n of names) p(n, 'peer.started', {address: 'a:1', incarnation: 0, profile: 'local', timing});
for (const n of names) for (const m of names) if (m !== n) p(n, 'member.joined', {name: m, address: 'a:1', incarnation: 0});
for (let k = 0; k < 5; k++) {
  const victim = names[k];
  c('peer.kill', {peer: victim, signal: 'SIGKILL'});
  c('peer.exit', {peer: victim, pid: 1, code: null, signal: 'SIGKILL', unexpectedly: false});
  c('fault', {kind: 'kill', peer: victim});
  for (const n of names.slice(5)) p(n, 'member.suspect', {name: victim, incarnation: 0, from: n});
  for (const n of names.slice(5)) p(n, 'member.dead', {name: victim, incarnation: 0, from: n});
}
const half = 5 + Math.floor((N - 5) / 2);
const left = names.slice(5, half);
const right = names.slice(half);
const blocked = [];
for (const a of left) for (const b of right) blocked.push([a, b], [b, a]);
c('fault', {kind: 'partition', groups: [left, right], blocked});
c('fault', {kind: 'heal'});
c('run.end', {});

let started = performance.now();
const evaluation = evaluate(h);
const evaluateMs = performance.now() - started;
started = performance.now();
const data = buildReport(h, {evaluation});
const buildMs = performance.now() - started;
const sizes = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Math.round(JSON.stringify(v).length / 1e4) / 100]));
console.log(JSON.stringify({peers: N, events: h.length, evaluate_ms: Math.round(evaluateMs), buildReport_given_evaluation_ms: Math.round(buildMs), mb: sizes}));
