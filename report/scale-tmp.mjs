import {buildReport} from '@peerlab/report';
const N = Number(process.argv[2] ?? 1000);
const names = Array.from({length: N}, (_, i) => `n${String(i).padStart(4, '0')}`);
const h = [];
let t = 1_000_000;
const c = (type, data) => h.push({t: t++, src: 'coordinator', type, data});
const p = (name, type, data) => h.push({t: t++, src: `peer:${name}`, type, data});
c('run.begin', {scenario: 'scale', peers: names});
for (const n of names) c('peer.spawn', {peer: n, pid: 1});
for (const n of names) p(n, 'peer.started', {address: 'a:1', incarnation: 0, profile: 'local', timing: {probeIntervalMs: 150, suspicionMult: 4, suspicionMaxTimeoutMult: 4, gossipIntervalMs: 50, gossipNodes: 3, retransmitMult: 4, pushPullIntervalMs: 2000, chatSyncIntervalMs: 300}});
// Everyone learns of everyone: N² events, as a real group of N forms.
for (const n of names) for (const m of names) if (m !== n) p(n, 'member.joined', {name: m, address: 'a:1', incarnation: 0});
for (let k = 0; k < 5; k++) {
  const victim = names[k];
  c('peer.kill', {peer: victim, signal: 'SIGKILL'}); c('peer.exit', {peer: victim, pid: 1, code: null, signal: 'SIGKILL', unexpectedly: false}); c('fault', {kind: 'kill', peer: victim});
  for (const n of names.slice(5)) p(n, 'member.suspect', {name: victim, incarnation: 0, from: n});
  for (const n of names.slice(5)) p(n, 'member.dead', {name: victim, incarnation: 0, from: n});
}
const left = names.slice(5, 5 + (N - 5) / 2 | 0), right = names.slice(5 + (N - 5) / 2 | 0);
const blocked = [];
for (const a of left) for (const b of right) blocked.push([a, b], [b, a]);
c('fault', {kind: 'partition', groups: [left, right], blocked});
c('fault', {kind: 'heal'});
c('run.end', {});
console.log('events', h.length);
const s = performance.now();
const data = process.env.SKIP_FIRST ? {} : buildReport(h);
console.log('build ms', Math.round(performance.now() - s));
if (!process.env.SKIP_FIRST) for (const [k, v] of Object.entries(data)) console.log(k, (JSON.stringify(v).length / 1e6).toFixed(2), 'MB');
if (!process.env.SKIP_FIRST) console.log('detection faults', data.detection.faults.length, 'bars', data.detection.faults.reduce((a, f) => a + f.observers.length, 0), 'changes', data.convergence.length, 'epochs', data.membership.epochs.t.length);
const {evaluate} = await import('@peerlab/checkers/verdict');
let s2 = performance.now();
const ev = evaluate(h);
console.log('evaluate ms', Math.round(performance.now() - s2));
s2 = performance.now();
buildReport(h, {evaluation: ev});
console.log('build given evaluation ms', Math.round(performance.now() - s2));
