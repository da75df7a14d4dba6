/**
 * `report.html`: one page for a set of runs, linking every scenario's
 * report, coloured by verdict. Plain HTML and CSS, no script: it opens from
 * disk anywhere, and a CI artifact viewer shows it as it is.
 */
import path from 'node:path';
import {writeFile} from 'node:fs/promises';
import type {Status} from '@peerlab/checkers/history/types';
import {documentHead, escapeHtml, staticPolicy} from './html.js';

export interface RunIndexEntry {
  name: string;
  file: string;
  runId: string;
  attempt: number;
  status: Status;
  message?: string;
  durationMs: number;
  /** The scenario's report: its index.html, with an anchor (`…/index.html#step-4`); undefined when none was written. */
  report?: string;
  /** Why no report was written. */
  reportError?: string;
}

const words: Record<Status, string> = {pass: 'passed', fail: 'failed', unknown: 'unknown'};

/** Writes outDir/report.html and returns its path. Links are relative to outDir. */
export async function writeRunIndex(outDir: string, scenarios: readonly RunIndexEntry[]): Promise<string> {
  const file = path.join(outDir, 'report.html');
  await writeFile(file, runIndexHtml(outDir, scenarios));
  return file;
}

export function runIndexHtml(outDir: string, scenarios: readonly RunIndexEntry[]): string {
  const counts = {pass: 0, fail: 0, unknown: 0};
  for (const s of scenarios) counts[s.status]++;
  const rows = scenarios.map((s) => {
    const label = s.attempt > 1 ? `${s.name} (attempt ${s.attempt})` : s.name;
    const name = s.report ? `<a href="${escapeHtml(relativeLink(outDir, s.report))}">${escapeHtml(label)}</a>` : escapeHtml(label);
    const why = [s.message, s.reportError ? `no report: ${s.reportError}` : undefined].filter(Boolean).map((t) => escapeHtml(t!)).join('<br>');
    return `<tr class="${s.status}"><td class="verdict">${words[s.status]}</td><td>${name}<div class="file">${escapeHtml(s.file)} · ${escapeHtml(s.runId)}</div></td><td class="num">${duration(s.durationMs)}</td><td class="why">${why}</td></tr>`;
  });
  const title = `peerlab: ${counts.pass} passed, ${counts.fail} failed, ${counts.unknown} unknown`;
  return `${documentHead(title, staticPolicy, `<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.3rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.4rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}
td.verdict{font-weight:600;white-space:nowrap}
td.num{text-align:right;white-space:nowrap}
td.why{white-space:pre-wrap;font-family:ui-monospace,monospace;font-size:12px}
.file{color:#666;font-size:12px}
tr.pass td.verdict{color:#1a7f37}tr.pass{background:#f0faf2}
tr.fail td.verdict{color:#b42318}tr.fail{background:#fdf0ef}
tr.unknown td.verdict{color:#9a6700}tr.unknown{background:#fff8e6}
</style>`)}
<body>
<h1>${escapeHtml(title)}</h1>
<table>
<thead><tr><th>verdict</th><th>scenario</th><th>duration</th><th>why</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
</body>
</html>
`;
}

/** A link from outDir's report.html to a report, as a relative URL (forward slashes, each segment percent-encoded). */
function relativeLink(outDir: string, report: string): string {
  const [file, anchor] = splitAnchor(report);
  const relative = path.relative(outDir, file).split(path.sep).map(encodeURIComponent).join('/');
  return anchor === undefined ? relative : `${relative}#${encodeURIComponent(anchor)}`;
}

function splitAnchor(link: string): [string, string | undefined] {
  const at = link.lastIndexOf('#');
  return at < 0 ? [link, undefined] : [link.slice(0, at), link.slice(at + 1)];
}

function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}
