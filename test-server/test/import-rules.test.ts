/**
 * The import rules of .dependency-cruiser.cjs, enforced: the built packages,
 * and the sources with their type-only imports, must break none of them; a
 * small tree with one deliberate violation of each rule must be reported rule
 * by rule, so a rule that can no longer fire (a moved folder, a mistyped
 * pattern) fails here instead of passing quietly; and a type-only import must
 * be seen.
 */
import test from 'ava';
import {access, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile} from 'node:fs/promises';
import {createRequire, isBuiltin} from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {cruise} from 'dependency-cruiser';
import {transform} from 'esbuild';
import type {ICruiseResult, IFlattenedRuleSet, IViolation} from 'dependency-cruiser';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const require = createRequire(import.meta.url);

interface Config extends IFlattenedRuleSet {
  options: Record<string, unknown>;
}
const config = require(path.join(root, '.dependency-cruiser.cjs')) as Config;
const ruleNames = (config.forbidden ?? []).map((r) => r.name);

async function check(baseDir: string, dirs: string[]): Promise<IViolation[]> {
  const {output} = await cruise(dirs, {...config.options, baseDir, validate: true, ruleSet: config});
  return [...(output as ICruiseResult).summary.violations];
}

function describe(violations: readonly IViolation[]): string {
  const why = new Map((config.forbidden ?? []).map((r) => [r.name, r.comment ?? '']));
  return violations
    .map((v) => {
      const what = v.cycle ? `cycle ${[v.from, ...v.cycle.map((c) => c.name)].join(' → ')}` : `${v.from} → ${v.to}`;
      return `${v.rule.name}: ${what}\n    why: ${why.get(v.rule.name)}`;
    })
    .join('\n');
}

/**
 * Every built module of every workspace that still has its source: tsc never
 * deletes the output of a moved or removed file, and a stale one must not
 * fail (or pass) the rules.
 */
async function builtModules(): Promise<string[]> {
  const {workspaces} = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8')) as {workspaces: string[]};
  const files: string[] = [];
  for (const w of workspaces) {
    for (const entry of await readdir(path.join(root, w, 'dist/src'), {recursive: true})) {
      if (!entry.endsWith('.js')) continue;
      const source = path.join(root, w, 'src', entry.replace(/\.js$/, '.ts'));
      if (await access(source).then(() => true, () => false)) files.push(path.join(w, 'dist/src', entry));
    }
  }
  return files;
}

test('the built packages break no import rule', async (t) => {
  const files = await builtModules();
  t.true(files.length > 50, `found only ${files.length} built modules: is everything built?`);
  const violations = await check(root, files);
  t.deepEqual(violations, [], `imports that break .dependency-cruiser.cjs:\n${describe(violations)}`);
});

/**
 * The sources as JS that keeps every import, `import type` included, laid out
 * like the built packages (<package>/dist/src/<module>.js) so the same rules
 * apply: the built JS has no type-only imports (TypeScript erases them), and a
 * module that imports another only for its types still depends on it (a
 * cycle of types is still a cycle). TypeScript 7 has no compiler API that
 * dependency-cruiser can parse with, so esbuild transpiles each file, told to
 * keep every import (verbatimModuleSyntax) after `import type` lost its
 * `type`. npm packages become empty stand-ins under node_modules/, enough
 * for the rules that name them.
 */
async function typeAwareTree(from: string, dir: string): Promise<string[]> {
  const {workspaces} = JSON.parse(await readFile(path.join(from, 'package.json'), 'utf8')) as {workspaces: string[]};
  const files: string[] = [];
  const bare = new Set<string>();
  await writeFile(path.join(dir, 'package.json'), '{"type": "module"}');
  for (const w of workspaces) {
    const manifest = await readFile(path.join(from, w, 'package.json'), 'utf8');
    await mkdir(path.join(dir, w), {recursive: true});
    await writeFile(path.join(dir, w, 'package.json'), manifest);
    await mkdir(path.join(dir, 'node_modules/@peerlab'), {recursive: true});
    await symlink(path.join(dir, w), path.join(dir, 'node_modules', (JSON.parse(manifest) as {name: string}).name), 'dir');
    for (const entry of await readdir(path.join(from, w, 'src'), {recursive: true})) {
      if (!entry.endsWith('.ts') || entry.endsWith('.d.ts')) continue;
      const source = (await readFile(path.join(from, w, 'src', entry), 'utf8'))
        .replace(/^(\s*)import\s+type\s+/gm, '$1import ')
        .replace(/^(\s*)export\s+type\s+(?=[{*])/gm, '$1export ');
      const {code} = await transform(source, {loader: 'ts', format: 'esm', tsconfigRaw: {compilerOptions: {verbatimModuleSyntax: true}}});
      for (const [, specifier] of code.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
        if (!specifier!.startsWith('.') && !specifier!.startsWith('@peerlab/') && !isBuiltin(specifier!)) bare.add(packageName(specifier!));
      }
      const file = path.join(w, 'dist/src', entry.replace(/\.ts$/, '.js'));
      await mkdir(path.join(dir, path.dirname(file)), {recursive: true});
      await writeFile(path.join(dir, file), code);
      files.push(file);
    }
  }
  for (const name of bare) {
    await mkdir(path.join(dir, 'node_modules', name), {recursive: true});
    await writeFile(path.join(dir, 'node_modules', name, 'package.json'), JSON.stringify({name, exports: {'.': './index.js', './*': './index.js'}}));
    await writeFile(path.join(dir, 'node_modules', name, 'index.js'), 'export {};\n');
  }
  return files;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

test('the sources, type-only imports included, break no import rule', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-import-types-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const files = await typeAwareTree(root, dir);
  t.true(files.length > 50, `found only ${files.length} source modules`);
  const violations = await check(dir, files);
  t.deepEqual(violations, [], `imports (type-only ones included) that break .dependency-cruiser.cjs:\n${describe(violations)}`);
});

/** One file per module: its path and the specifiers it imports. */
const fixture: Record<string, string[]> = {
  'package.json': [],
  'node_modules/express/index.js': [],
  'events/dist/src/names.js': ['../../../node-kit/dist/src/table.js'],
  'node-kit/dist/src/table.js': [],
  'node-kit/dist/src/listen.js': ['@peerlab/bootstrap'],
  'client-agent/dist/src/agent.js': ['express', '../../../events/dist/src/names.js'],
  'checkers/dist/src/model.js': ['node:child_process', '@peerlab/events/names'],
  'peer/dist/src/commands.js': ['@peerlab/test-server', '@peerlab/node-kit/table'],
  'bootstrap/dist/src/index.js': ['@peerlab/checkers'],
  'checkers/dist/src/index.js': [],
  'report/dist/src/data/build.js': ['node:fs', '@peerlab/checkers'],
  'test-server/dist/src/index.js': [],
  'test-server/dist/src/scenario/load.js': ['../runners/local/local-runner.js', '../runners/limits.js'],
  'test-server/dist/src/runners/local/local-runner.js': [],
  'test-server/dist/src/runners/limits.js': [],
  'test-server/dist/src/reporters/list.js': ['../engine/results.js', '../engine/engine.js', '@peerlab/node-kit/table'],
  'test-server/dist/src/engine/results.js': [],
  'test-server/dist/src/engine/engine.js': ['node:child_process'],
  'test-server/dist/src/coordinator.js': ['./api/rest.js'],
  'test-server/dist/src/api/rest.js': ['../coordinator.js'],
  'test-server/dist/src/cli/console-commands.js': ['../api/rest.js', '../coordinator.js'],
  'bench/dist/src/main.js': ['@peerlab/peer'],
  'peer/dist/src/index.js': [],
};
const packages = ['events', 'node-kit', 'client-agent', 'checkers', 'report', 'peer', 'bootstrap', 'test-server'];

/** What the fixture must report, and nothing else: [rule, from, to]; a cycle is reported once, from its first module. */
const expected: Array<[string, string, string]> = [
  ['events-import-nothing-of-ours', 'events/dist/src/names.js', 'node-kit/dist/src/table.js'],
  ['no-relative-imports-across-packages', 'events/dist/src/names.js', 'node-kit/dist/src/table.js'],
  ['node-kit-imports-nothing-of-ours', 'node-kit/dist/src/listen.js', 'bootstrap/dist/src/index.js'],
  ['client-agent-imports-only-events', 'client-agent/dist/src/agent.js', 'node_modules/express/index.js'],
  ['no-relative-imports-across-packages', 'client-agent/dist/src/agent.js', 'events/dist/src/names.js'],
  ['checkers-import-only-events', 'checkers/dist/src/model.js', 'child_process'],
  ['report-data-is-pure', 'report/dist/src/data/build.js', 'fs'],
  ['peer-imports-only-agent-events-kit', 'peer/dist/src/commands.js', 'test-server/dist/src/index.js'],
  ['bootstrap-imports-only-events-kit', 'bootstrap/dist/src/index.js', 'checkers/dist/src/index.js'],
  ['scenario-loads-no-process-code', 'test-server/dist/src/scenario/load.js', 'test-server/dist/src/runners/local/local-runner.js'],
  ['reporters-see-results-not-engine', 'test-server/dist/src/reporters/list.js', 'test-server/dist/src/engine/engine.js'],
  ['engine-reaches-peers-through-coordinator', 'test-server/dist/src/engine/engine.js', 'child_process'],
  ['api-does-not-import-coordinator', 'test-server/dist/src/api/rest.js', 'test-server/dist/src/coordinator.js'],
  ['no-circular', 'test-server/dist/src/api/rest.js', 'test-server/dist/src/coordinator.js'],
  ['cli-does-not-import-api', 'test-server/dist/src/cli/console-commands.js', 'test-server/dist/src/api/rest.js'],
  ['bench-uses-public-packages', 'bench/dist/src/main.js', 'peer/dist/src/index.js'],
];

test('each rule reports its deliberate violation in a fixture, and allowed imports pass', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-import-rules-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  for (const [file, imports] of Object.entries(fixture)) {
    const text = file.endsWith('package.json') ? '{"type": "module"}' : imports.map((s) => `import '${s}';`).join('\n') + '\nexport {};\n';
    await mkdir(path.join(dir, path.dirname(file)), {recursive: true});
    await writeFile(path.join(dir, file), text);
  }
  // The fixture's own @peerlab/* packages, as npm workspaces link them: names resolve to the folders.
  for (const name of [...packages, 'bench']) {
    await writeFile(path.join(dir, name, 'package.json'), JSON.stringify({name: `@peerlab/${name}`, type: 'module', exports: {'.': './dist/src/index.js', './*': './dist/src/*.js'}}));
    await mkdir(path.join(dir, 'node_modules', '@peerlab'), {recursive: true});
    await symlink(path.join(dir, name), path.join(dir, 'node_modules', '@peerlab', name), 'dir');
  }
  await writeFile(path.join(dir, 'node_modules/express/package.json'), '{"name": "express", "main": "index.js"}');
  for (const name of ['events', 'node-kit', 'bootstrap', 'bench']) {
    const index = path.join(dir, name, 'dist/src/index.js');
    await writeFile(index, 'export {};\n', {flag: 'a'});
  }

  const violations = await check(dir, [...packages, 'bench'].map((p) => `${p}/dist/src`));
  const got = violations.map((v) => [v.rule.name, v.from, v.to] as [string, string, string]);
  const key = (v: readonly string[]) => v.join(' | ');
  t.deepEqual(got.map(key).sort(), expected.map(key).sort(), `reported:\n${describe(violations)}`);
  // And every rule in the config has a case here.
  t.deepEqual([...new Set(expected.map(([rule]) => rule))].sort(), [...ruleNames].sort(), 'a rule without a fixture case cannot be shown to fire');
});

test('a type-only import is seen: the REST router importing the coordinator for its type is a violation and a cycle', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'peerlab-import-types-fixture-'));
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const sources: Record<string, string> = {
    'package.json': '{"workspaces": ["test-server"]}',
    'test-server/package.json': '{"name": "@peerlab/test-server", "type": "module"}',
    'test-server/src/coordinator.ts': "import {createApiRouter} from './api/rest.js';\nexport class Coordinator {\n  router = createApiRouter(this);\n}\n",
    'test-server/src/api/rest.ts': "import type {Coordinator} from '../coordinator.js';\nexport function createApiRouter(coordinator: Coordinator): string {\n  return String(coordinator);\n}\n",
  };
  const from = path.join(dir, 'from');
  for (const [file, text] of Object.entries(sources)) {
    await mkdir(path.join(from, path.dirname(file)), {recursive: true});
    await writeFile(path.join(from, file), text);
  }
  const to = path.join(dir, 'to');
  await mkdir(to);
  const violations = await check(to, await typeAwareTree(from, to));
  t.deepEqual(
    violations.map((v) => `${v.rule.name} | ${v.from} | ${v.to}`).sort(),
    [
      'api-does-not-import-coordinator | test-server/dist/src/api/rest.js | test-server/dist/src/coordinator.js',
      'no-circular | test-server/dist/src/api/rest.js | test-server/dist/src/coordinator.js',
    ],
    describe(violations),
  );
});

/** The npm packages a workspace package pulls in when installed: its dependencies, and theirs, from package-lock.json. */
async function installedWith(workspace: string): Promise<Set<string>> {
  const lock = JSON.parse(await readFile(path.join(root, 'package-lock.json'), 'utf8')) as {packages: Record<string, {dependencies?: Record<string, string>}>};
  const seen = new Set<string>();
  const queue = [workspace];
  while (queue.length > 0) {
    const key = queue.pop()!;
    for (const name of Object.keys(lock.packages[key]?.dependencies ?? {})) {
      if (seen.has(name)) continue;
      seen.add(name);
      // A workspace package is linked from node_modules to its folder; the lock lists it under the folder.
      const folder = Object.entries(lock.packages).find(([k, v]) => k === `node_modules/${name}` && (v as {link?: boolean}).link) ? (lock.packages[`node_modules/${name}`] as {resolved?: string}).resolved : undefined;
      queue.push(folder ?? `node_modules/${name}`);
    }
  }
  return seen;
}

test('the checkers install without a server, sockets or processes: no express, socket.io or execa among their dependencies', async (t) => {
  const installed = await installedWith('checkers');
  t.true(installed.has('@peerlab/events'), 'the walk follows workspace links');
  for (const forbidden of ['express', 'socket.io', 'socket.io-client', 'execa', '@peerlab/client-agent', '@peerlab/test-server']) {
    t.false(installed.has(forbidden), `@peerlab/checkers pulls in ${forbidden}: ${[...installed].join(', ')}`);
  }
  // The walk can see a server: the harness pulls in all three.
  const harness = await installedWith('test-server');
  for (const name of ['express', 'socket.io', 'execa']) t.true(harness.has(name), `test-server's walk misses ${name}`);
});
