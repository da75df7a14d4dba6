/** The conformance results for a person (a table, then a summary) and for tools (JSON). */
import {renderTable} from '@peerlab/node-kit/table';
import type {CheckResult} from './check.js';

export interface Summary {
  /** The peer program, as typed. */
  peer: string;
  ok: boolean;
  ms: number;
  checks: CheckResult[];
  /** Where the peers' logs were kept, when they were. */
  logs?: string;
}

const MARK = {pass: 'pass', fail: 'FAIL', skip: 'skip'} as const;

export function renderSummary(summary: Summary): string {
  const rows = summary.checks.map((c) => [
    c.name,
    MARK[c.status],
    `${(c.ms / 1000).toFixed(1)} s`,
    c.section,
    c.status === 'pass' ? c.notes.join('; ') : [...c.reasons, ...c.notes.map((n) => `(${n})`)].join('; '),
  ]);
  const count = (status: CheckResult['status']) => summary.checks.filter((c) => c.status === status).length;
  const lines = [
    `peerlab conform: ${summary.peer}`,
    '',
    renderTable(['check', 'result', 'time', 'PROTOCOL.md', 'detail'], rows),
    '',
    `${count('pass')} passed, ${count('fail')} failed, ${count('skip')} skipped in ${(summary.ms / 1000).toFixed(1)} s`,
  ];
  if (summary.logs) lines.push(`peer logs: ${summary.logs}`);
  return `${lines.join('\n')}\n`;
}

export function renderJson(summary: Summary): string {
  return `${JSON.stringify(summary, null, 2)}\n`;
}
