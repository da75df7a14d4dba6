/**
 * Scenario mistakes are reported with file, line, column and field, say
 * what was expected, and stop the run before any peer starts.
 */
import test from 'ava';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {Ajv} from 'ajv';
import {parse as parseYaml} from 'yaml';
import {loadScenarios, parseScenarioText, ScenarioLoadError} from '../src/scenario/load.js';
import {peerCommandSpecs} from '../src/peer-program/peer-commands.js';
import {schemaFile, schemaText} from '../src/scenario/write-schema.js';
import {scenarioProblems as problems} from './support.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');


const header = 'name: t\npeers: [alice, bob]\nsteps:\n';

const cases: Array<{title: string; yaml: string; line: number; column: number; field: string; message: RegExp}> = [
  {title: 'wrong key', yaml: `${header}  - start: all\n  - await: converged\n    witin: 5s\n`, line: 6, column: 5, field: 'steps[1].witin', message: /unknown field "witin"/},
  {title: 'wrong top-level key', yaml: `name: t\npeers: 2\nstep:\n  - start: all\n`, line: 3, column: 1, field: 'step', message: /unknown field "step"; expected one of: name, description, peers/},
  {title: 'wrong type', yaml: `name: t\npeers: two\nsteps:\n  - start: all\n`, line: 2, column: 8, field: 'peers', message: /expected a list of peer names, or a number of peers/},
  {title: 'unknown peer name', yaml: `${header}  - start: all\n  - kill: charly\n`, line: 5, column: 11, field: 'steps[1].kill', message: /unknown peer "charly"; this scenario's peers are alice, bob/},
  {title: 'unknown command', yaml: `${header}  - start: all\n  - on: alice\n    run: shout hello\n`, line: 6, column: 10, field: 'steps[1].run', message: /unknown command "shout"; peers offer: .*send/},
  {title: 'bad command arguments', yaml: `${header}  - on: alice\n    run: messages --last many\n`, line: 5, column: 10, field: 'steps[0].run', message: /last must be an integer/},
  {title: 'bad duration', yaml: `${header}  - await: converged\n    within: 5 seconds\n`, line: 5, column: 13, field: 'steps[0].within', message: /expected a duration like 500ms, 5s or 2m/},
  {title: 'missing within', yaml: `${header}  - await: delivered\n`, line: 4, column: 5, field: 'steps[0].within', message: /expected/},
  {title: 'two actions in one step', yaml: `${header}  - start: all\n    kill: bob\n`, line: 4, column: 5, field: 'steps[0]', message: /exactly one action; found start and kill/},
  {title: 'bad state', yaml: `${header}  - await: {state: {of: bob, is: gone}}\n    within: 1s\n`, line: 4, column: 34, field: 'steps[0].await.state.is', message: /expected one of "alive"\|"suspect"\|"dead"\|"left"/},
  {title: 'unknown variable', yaml: `${header}  - on: alice\n    run: send \${nope}\n`, line: 5, column: 10, field: 'steps[0].run', message: /unknown variable \$\{nope\}/},
  {title: 'bad step inside a block', yaml: `${header}  - repeat: 2\n    steps:\n      - sleep: forever\n`, line: 6, column: 16, field: 'steps[0].steps[0].sleep', message: /expected a duration/},
  {title: 'opting out of an invariant that is not a default', yaml: `name: t\npeers: 2\ninvariants: [-no-dead]\nsteps:\n  - start: all\n`, line: 3, column: 14, field: 'invariants[0]', message: /-membership-legality/},
  {title: 'a within neither a duration nor a model bound', yaml: `${header}  - await: converged\n    within: 3 x model\n`, line: 5, column: 13, field: 'steps[0].within', message: /expected a duration like 500ms, 5s or 2m, or model, or a multiple of the model like 3x model/},
  {title: 'a model bound on a state condition', yaml: `${header}  - await: {state: {of: bob, is: alive}}\n    within: 2x model\n`, line: 5, column: 13, field: 'steps[0].within', message: /2x model: the timing model has no figure for a state condition/},
  {title: 'a zero multiple of the model', yaml: `${header}  - await: detected\n    within: 0x model\n`, line: 5, column: 13, field: 'steps[0].within', message: /expected a multiple of the model from 0.1x to 1000x, got 0x model/},
  {title: 'unknown traffic phase', yaml: `name: t\npeers: [alice, bob]\ntraffic:\n  idle: {max_packets_per_peer_s: 40}\nsteps:\n  - start: all\n`, line: 4, column: 3, field: 'traffic.idle', message: /unknown field "idle"; expected one of: forming, rest, churn/},
  {title: 'traffic bound not a number', yaml: `name: t\npeers: [alice, bob]\ntraffic:\n  rest: {max_packets_per_peer_s: lots}\nsteps:\n  - start: all\n`, line: 4, column: 34, field: 'traffic.rest.max_packets_per_peer_s', message: /expected a number of packets \(datagrams and TCP connections\) per second/},
  {title: 'negative traffic bound', yaml: `name: t\npeers: [alice, bob]\ntraffic:\n  churn: {max_bytes_per_peer_s: -1}\nsteps:\n  - start: all\n`, line: 4, column: 33, field: 'traffic.churn.max_bytes_per_peer_s', message: /expected a number of bytes per second, 0 or more/},
  {title: 'traffic phase that bounds nothing', yaml: `name: t\npeers: [alice, bob]\ntraffic:\n  rest: {}\nsteps:\n  - start: all\n`, line: 4, column: 9, field: 'traffic.rest', message: /expected max_packets_per_peer_s or max_bytes_per_peer_s/},
  {title: 'YAML syntax', yaml: `name: t\npeers: [alice\nsteps: []\n`, line: 3, column: 1, field: '', message: /^YAML: /},
];

for (const c of cases) {
  test(`${c.title}: file, line, column, field and what was expected`, async (t) => {
    const found = await problems(c.yaml);
    const p = found.find((x) => x.field === c.field) ?? found[0];
    t.truthy(p, 'a problem is reported');
    t.like(p, {file: 'test.yaml', field: c.field}, JSON.stringify(found));
    t.is(`${p!.line}:${p!.column}`, `${c.line}:${c.column}`, JSON.stringify(found));
    t.regex(p!.message, c.message);
  });
}

test('a traffic key is carried to the plan as written, each phase optional', async (t) => {
  const yaml = `name: t\npeers: [alice, bob]\ntraffic:\n  rest: {max_packets_per_peer_s: 40, max_bytes_per_peer_s: 20000}\n  churn: {max_packets_per_peer_s: 80}\nsteps:\n  - start: all\n`;
  const [scenario] = parseScenarioText(yaml, 'x.yaml', []);
  t.deepEqual(scenario!.traffic, {rest: {max_packets_per_peer_s: 40, max_bytes_per_peer_s: 20000}, churn: {max_packets_per_peer_s: 80}});
  t.is(parseScenarioText(`${header}  - start: all\n`, 'x.yaml', [])[0]!.traffic, undefined);
});

test('every problem in a file is reported at once, formatted file:line:col: field: message', async (t) => {
  const yaml = `name: t\npeers: [alice]\nprofile: fast\nsteps:\n  - kill: bob\n  - sleep: soon\n`;
  const error = t.throws(() => parseScenarioText(yaml, 'x.yaml', []), {instanceOf: ScenarioLoadError});
  const lines = error!.message.split('\n');
  t.is(lines.length, 3);
  t.regex(lines[0]!, /^x\.yaml:3:10: profile: /);
  t.regex(lines[1]!, /^x\.yaml:5:11: steps\[0\]\.kill: unknown peer "bob"/);
  t.regex(lines[2]!, /^x\.yaml:6:12: steps\[1\]\.sleep: expected a duration/);
});

test('membership-legality is checked by default; `-membership-legality` opts out; the listed ones come first, each once', (t) => {
  const plan = (list: string) => parseScenarioText(`name: t\npeers: 2\n${list}steps:\n  - start: all\n`, 't.yaml', [])[0]!.invariants;
  t.deepEqual(plan(''), ['membership-legality']);
  t.deepEqual(plan('invariants: [no-false-dead]\n'), ['no-false-dead', 'membership-legality']);
  t.deepEqual(plan('invariants: [membership-legality, no-dead, no-dead]\n'), ['membership-legality', 'no-dead']);
  t.deepEqual(plan('invariants: [-membership-legality]\n'), []);
  t.deepEqual(plan('invariants: [no-dead, -membership-legality]\n'), ['no-dead']);
});

test('a file may hold a list of scenarios; a folder is a suite', async (t) => {
  const scenarios = await loadScenarios([path.join(root, 'scenarios')], await peerCommandSpecs());
  t.true(scenarios.length >= 16);
  const names = scenarios.map((s) => s.name);
  t.true(names.includes('three peers join and converge'));
  t.true(names.includes('ten peers join and converge'));
  const ten = scenarios.find((s) => s.name === 'ten peers join and converge')!;
  t.deepEqual(ten.peers.slice(0, 3), ['alice', 'bob', 'charly']);
  t.is(ten.peers.length, 10);
});

test('scenarios/schema.json is the published form of the schema, and every bundled scenario satisfies it', async (t) => {
  t.is(await readFile(schemaFile, 'utf8'), schemaText(), 'run "npm run schema" after changing the schema');
  const ajv = new Ajv({allErrors: true, strict: false});
  const validate = ajv.compile(JSON.parse(schemaText()) as object);
  const scenarios = await loadScenarios([path.join(root, 'scenarios')], await peerCommandSpecs());
  for (const file of new Set(scenarios.map((s) => s.file))) {
    const ok = validate(parseYaml(await readFile(file, 'utf8')));
    t.true(ok, `${file}: ${JSON.stringify(validate.errors)}`);
  }
  t.false(validate(parseYaml('name: x\npeers: 2\nsteps:\n  - start: all\n    bogus: 1\n')), 'the schema rejects unknown fields too');
});

test('within takes a duration, model, or a multiple of the model; the plan keeps which', (t) => {
  const yaml = `${header}  - await: converged\n    within: model\n  - await: detected\n    within: 1.5x model\n  - await: {rejoined: bob}\n    within: 3x model\n  - await: delivered\n    within: 2s\n`;
  const [s] = parseScenarioText(yaml, 'x.yaml', []);
  const awaits = s!.steps.map((step) => (step.kind === 'await' ? [step.title, step.within] : undefined));
  t.deepEqual(awaits, [
    ['await converged within model', {kind: 'model', multiple: 1}],
    ['await detected within 1.5x model', {kind: 'model', multiple: 1.5}],
    ['await bob rejoined within 3x model', {kind: 'model', multiple: 3}],
    ['await delivered within 2s', {kind: 'ms', ms: 2000}],
  ]);
});

test('a scenario starts up to 2,000 peers by number; more is refused, located', async (t) => {
  const steps = 'peers_per_process: 50\nsteps:\n  - start: all\n';
  const [big] = parseScenarioText(`name: big\npeers: 2000\n${steps}`, 'x.yaml', []);
  t.is(big!.peers.length, 2000);
  t.is(new Set(big!.peers).size, 2000);
  const tooMany = await problems(`name: big\npeers: 2001\n${steps}`);
  t.like(tooMany[0], {field: 'peers', line: 2});
  t.regex(tooMany[0]!.message, /2000/);
});
