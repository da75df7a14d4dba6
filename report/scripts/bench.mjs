// Times buildReport on a large synthetic history, as the checkers' bench makes
// one (50 peers chatting), against reading and parsing the file line by line:
// `node report/scripts/bench.mjs [events]` after `npm run build`. A figure to
// read, not a test: timings on a shared machine vary.
import {createReadStream, writeFileSync, mkdtempSync, rmSync} from 'node:fs';
import {createInterface} from 'node:readline';
import os from 'node:os';
import path from 'node:path';
import {readHistory} from '@peerlab/checkers/history/read';
import {buildReport} from '@peerlab/report';

const events = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(path.join(os.tmpdir(), 'peerlab-report-bench-'));
const file = path.join(dir, 'history.jsonl');
const peers = Array.from({length: 50}, (_, i) => `p${String(i).padStart(2, '0')}`);
const lines = [];
let t = Date.now();
lines.push(JSON.stringify({t, src: 'coordinator', type: 'run.begin', data: {peers, invariants: []}}));
for (const p of peers) lines.push(JSON.stringify({t, src: 'coordinator', type: 'peer.spawn', data: {peer: p, pid: 1}}), JSON.stringify({t, src: `peer:${p}`, type: 'peer.started', data: {address: '127.0.0.1:1', incarnation: 0, profile: 'local'}}));
for (const p of peers) for (const q of peers) if (p !== q) lines.push(JSON.stringify({t, src: `peer:${p}`, type: 'member.joined', data: {name: q, incarnation: 0, address: '127.0.0.1:1'}}));
let seq = 0;
while (lines.length < events) {
  const sender = peers[seq % peers.length];
  seq++;
  const id = `${sender}:e:${Math.floor(seq / peers.length) + 1}`;
  t++;
  lines.push(JSON.stringify({t, src: `peer:${sender}`, type: 'chat.sent', data: {id, sender, seq: Math.floor(seq / peers.length) + 1, text: 'x'}}));
  for (const p of peers) {
    if (lines.length >= events) break;
    lines.push(JSON.stringify({t: t + 1, src: `peer:${p}`, type: 'chat.delivered', data: {id, sender, seq: Math.floor(seq / peers.length) + 1, sentAt: t}}));
  }
}
writeFileSync(file, lines.join('\n') + '\n');
lines.length = 0;

try {
  // Wall time and this process's CPU time (its GC threads included) side by side: on a loaded machine the CPU time says more.
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const measure = async (f) => {
    const wall = performance.now();
    const used = cpu();
    const value = await f();
    return {value, wall: performance.now() - wall, cpu: cpu() - used};
  };
  const r = (x) => Math.round(x);
  const ratio = (x) => Math.round(x * 100) / 100;
  for (let round = 1; round <= 3; round++) {
    const baseline = await measure(async () => {
      for await (const line of createInterface({input: createReadStream(file, 'utf8'), crlfDelay: Infinity})) if (line) JSON.parse(line);
    });
    const read = await measure(() => readHistory(file));
    const history = read.value;
    const build = await measure(() => buildReport(history));
    const stringify = await measure(() => JSON.stringify(build.value));
    console.log(
      JSON.stringify({
        round,
        events: history.length,
        baseline: {wall_ms: r(baseline.wall), cpu_ms: r(baseline.cpu)},
        readHistory: {wall_ms: r(read.wall), cpu_ms: r(read.cpu)},
        buildReport: {wall_ms: r(build.wall), cpu_ms: r(build.cpu)},
        'read+build/baseline': {wall: ratio((read.wall + build.wall) / baseline.wall), cpu: ratio((read.cpu + build.cpu) / baseline.cpu)},
        'build/baseline': {wall: ratio(build.wall / baseline.wall), cpu: ratio(build.cpu / baseline.cpu)},
        json_mb: ratio(stringify.value.length / 1e6),
        stringify_ms: r(stringify.wall),
      }),
    );
  }
} finally {
  rmSync(dir, {recursive: true, force: true});
}
