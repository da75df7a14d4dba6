#!/usr/bin/env node
// Runs the ava suite with the TAP reporter, passes its output through, and ends
// with one plain line `N passed, N failed[, N skipped]` from the real counts:
// CI reads that closing line, not ava's own summary.
import {spawn} from 'node:child_process';
import {createInterface} from 'node:readline';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {ensureChromium} from './chromium.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// The report's browser tests drive Debian's chromium: installed here, so the README's one command runs them on a fresh clone.
ensureChromium();
const avaCli = path.join(root, 'node_modules', 'ava', 'entrypoints', 'cli.mjs');
const child = spawn(process.execPath, [avaCli, '--tap', ...process.argv.slice(2)], {stdio: ['inherit', 'pipe', 'inherit']});

let passed = 0;
let failed = 0;
let skipped = 0;
createInterface({input: child.stdout}).on('line', (line) => {
  process.stdout.write(line + '\n');
  const result = /^(not ok|ok) \d+ /.exec(line);
  if (!result) return;
  if (/# (SKIP|TODO)\b/i.test(line)) skipped++;
  else if (result[1] === 'ok') passed++;
  else failed++;
});

child.on('close', (code, signal) => {
  if ((code !== 0 || signal) && failed === 0) {
    // ava failed without reporting a failing test (a crash, a timeout, no test files): count it, never hide it.
    process.stdout.write(`# ava exited with ${signal ?? `code ${code}`} without a failing test line\n`);
    failed++;
  }
  process.stdout.write(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
  process.exit(failed > 0 ? 1 : 0);
});
