/**
 * Kernel faults, the pure parts: the nftables ruleset built from the rules in
 * force, the loopback addresses, whether kernel faults can run here, and the
 * load-time choice of backend. The real nft runs in kernel-faults.test.ts.
 */
import test from 'ava';
import {buildRuleset, isTableName} from '../src/faults/kernel/ruleset.js';
import {AddressBook, addressAt} from '../src/faults/kernel/addresses.js';
import {kernelSupport, parseRunTable, runTableName} from '../src/faults/kernel/nft.js';
import {chooseBackend} from '../src/faults/choose.js';
import type {FaultsChoice, NetFaultStep} from '../src/faults/choose.js';
import type {NetRule} from '../src/engine/fault-plan.js';
import {ConfigError, parseConfigText} from '../src/peer-program/config-file.js';

const addresses = new Map([
  ['alice', '127.0.0.2'],
  ['bob', '127.0.0.3'],
  ['carol', '127.0.0.4'],
]);
const header = ['table inet peerlab_1_1_b0 {', '  chain in {', '    type filter hook input priority 0; policy accept;', '  }', '}', 'flush chain inet peerlab_1_1_b0 in'];
const rulesOf = (text: string) => text.split('\n').filter((l) => l.startsWith('add rule')).map((l) => l.replace('add rule inet peerlab_1_1_b0 in ', ''));

test('no rules: the table and its chain, flushed, so one transaction both creates and clears it', (t) => {
  t.is(buildRuleset({table: 'peerlab_1_1_b0', rules: [], addresses}), header.join('\n') + '\n');
});

test('a cut is directed: from the sender\'s address to the receiver\'s, UDP dropped and TCP reset', (t) => {
  const rules: NetRule[] = [{by: 'step', kind: 'cut', links: [['alice', 'bob'], ['alice', 'carol']]}];
  t.deepEqual(rulesOf(buildRuleset({table: 'peerlab_1_1_b0', rules, addresses})), [
    'ip saddr 127.0.0.2 ip daddr 127.0.0.3 meta l4proto tcp reject with tcp reset',
    'ip saddr 127.0.0.2 ip daddr 127.0.0.3 drop',
    'ip saddr 127.0.0.2 ip daddr 127.0.0.4 meta l4proto tcp reject with tcp reset',
    'ip saddr 127.0.0.2 ip daddr 127.0.0.4 drop',
  ]);
});

test('links cut twice (a step and the nemesis) make one rule; links to a peer without an address make none', (t) => {
  const rules: NetRule[] = [
    {by: 'step', kind: 'cut', links: [['alice', 'bob']]},
    {by: 'nemesis', round: 1, kind: 'cut', links: [['alice', 'bob'], ['alice', 'zed']]},
  ];
  t.is(rulesOf(buildRuleset({table: 'peerlab_1_1_b0', rules, addresses})).length, 2);
});

test('loss is per packet on the sender\'s links, to a hundredth of a percent; after the cuts; 0% makes no rule', (t) => {
  const rules: NetRule[] = [
    {by: 'step', kind: 'loss', percent: 12.5, links: [['bob', 'carol']]},
    {by: 'step', kind: 'cut', links: [['carol', 'alice']]},
    {by: 'step', kind: 'loss', percent: 0, links: [['alice', 'bob']]},
  ];
  t.deepEqual(rulesOf(buildRuleset({table: 'peerlab_1_1_b0', rules, addresses})), [
    'ip saddr 127.0.0.4 ip daddr 127.0.0.2 meta l4proto tcp reject with tcp reset',
    'ip saddr 127.0.0.4 ip daddr 127.0.0.2 drop',
    'ip saddr 127.0.0.3 ip daddr 127.0.0.4 numgen random mod 10000 < 1250 drop',
  ]);
});

test('loss on every link: between the peers\' addresses only, never the coordinator\'s 127.0.0.1', (t) => {
  const rules: NetRule[] = [{by: 'step', kind: 'loss', percent: 100, links: 'all'}];
  const [rule] = rulesOf(buildRuleset({table: 'peerlab_1_1_b0', rules, addresses}));
  t.is(rule, 'ip saddr { 127.0.0.2, 127.0.0.3, 127.0.0.4 } ip daddr { 127.0.0.2, 127.0.0.3, 127.0.0.4 } numgen random mod 10000 < 10000 drop');
  t.false(buildRuleset({table: 'peerlab_1_1_b0', rules, addresses}).includes('127.0.0.1'));
});

test('a table name nft would misread is refused', (t) => {
  t.true(isTableName('peerlab_12_1_b0'));
  t.throws(() => buildRuleset({table: 'x; flush ruleset', rules: [], addresses}), {instanceOf: RangeError});
  t.deepEqual(parseRunTable(runTableName(4242, 3, 7)), {pid: 4242, seq: 3, block: 7});
  t.is(parseRunTable('filter'), undefined);
});

test('addresses: block 0 starts at 127.0.0.2 (127.0.0.1 is the coordinator\'s); one per name, kept; other blocks apart', (t) => {
  const book = new AddressBook(0);
  t.is(book.addressOf('alice'), '127.0.0.2');
  t.is(book.addressOf('bob'), '127.0.0.3');
  t.is(book.addressOf('alice'), '127.0.0.2', 'a restart keeps its address');
  t.is(addressAt(0, 252), '127.0.0.254');
  t.is(addressAt(0, 253), '127.0.1.1', 'no .0 or .255 host parts');
  t.is(addressAt(3, 0), '127.3.0.1');
  const all = new Set(Array.from({length: 1000}, (_, i) => addressAt(0, i)));
  t.is(all.size, 1000);
  t.false(all.has('127.0.0.1'));
  t.throws(() => addressAt(255, 0), {instanceOf: RangeError});
});

test('kernel faults need Linux, root and a working nft; each refusal says which', (t) => {
  const works = () => undefined;
  t.like(kernelSupport({platform: 'darwin'}), {ok: false, reason: 'kernel faults use nftables, which is Linux only (this is darwin)'});
  t.like(kernelSupport({platform: 'linux', uid: 1000, nft: '/usr/sbin/nft', works}), {ok: false, reason: 'kernel faults need root to change nftables rules (running as uid 1000)'});
  t.regex((kernelSupport({platform: 'linux', uid: 0, nft: undefined, works}) as {reason: string}).reason, /need the nft binary/);
  t.regex((kernelSupport({platform: 'linux', uid: 0, nft: '/usr/sbin/nft', works: () => 'Operation not permitted'}) as {reason: string}).reason, /`\/usr\/sbin\/nft list tables` failed: Operation not permitted/);
  t.deepEqual(kernelSupport({platform: 'linux', uid: 0, nft: '/usr/sbin/nft', works}), {ok: true, nft: '/usr/sbin/nft'});
});

const root: FaultsChoice = {kernel: () => ({ok: true, nft: '/usr/sbin/nft'})};
const notRoot: FaultsChoice = {kernel: () => ({ok: false, reason: 'kernel faults need root to change nftables rules (running as uid 1000)'})};
const offered: NetFaultStep<string> = {at: 'steps[1]', kind: 'partition', missing: []};
const lacking: NetFaultStep<string> = {at: 'steps[1]', kind: 'partition', missing: ['net-cut'], peerProblem: 'partition is made with the peers\' net-cut and net-heal commands; the peer program does not offer net-cut'};
const delay: NetFaultStep<string> = {at: 'steps[2]', kind: 'delay', missing: []};

test('auto: the peers\' commands when they offer them, else the kernel, else the step refused with both reasons', (t) => {
  t.like(chooseBackend({choice: root, steps: [offered], peersPerProcess: 1}), {backend: 'peer', problems: []});
  t.like(chooseBackend({choice: root, steps: [lacking], peersPerProcess: 1}), {backend: 'kernel', problems: []});
  const refused = chooseBackend({choice: notRoot, steps: [lacking], peersPerProcess: 1});
  t.deepEqual(refused.problems, [{at: 'steps[1]', message: `${lacking.peerProblem}, and kernel faults (nftables) cannot stand in: kernel faults need root to change nftables rules (running as uid 1000)`}]);
  t.regex(chooseBackend({choice: root, steps: [lacking, delay], peersPerProcess: 1}).problems[0]!.message, /cannot make the scenario's delay steps/);
  t.regex(chooseBackend({choice: root, steps: [lacking], peersPerProcess: 4}).problems[0]!.message, /cannot tell 4 peers of one process apart/);
  t.like(chooseBackend({choice: notRoot, steps: [], peersPerProcess: 1}), {backend: 'peer', problems: []}, 'no network fault: nothing to ask of the kernel');
});

test('kernel: delay and shared processes refused where they are written; no root refused at the key that asked', (t) => {
  const chosen = chooseBackend({choice: root, scenario: 'kernel', steps: [offered, delay], peersPerProcess: 2});
  t.is(chosen.backend, 'kernel');
  t.deepEqual(chosen.problems.map((p) => p.at), ['peers_per_process', 'steps[2]']);
  t.regex(chosen.problems[1]!.message, /^delay is not available with kernel faults/);
  t.deepEqual(chooseBackend({choice: notRoot, scenario: 'kernel', steps: [], peersPerProcess: 1}).problems, [{at: 'faults', message: 'kernel faults need root to change nftables rules (running as uid 1000)'}]);
  t.deepEqual(chooseBackend({choice: {...notRoot, config: {mode: 'kernel', file: 'peerlab.config.yaml', line: 1, column: 9}}, steps: [], peersPerProcess: 1}).problems, [{at: 'config', message: 'kernel faults need root to change nftables rules (running as uid 1000)'}]);
  t.deepEqual(chooseBackend({choice: {...notRoot, flag: 'kernel'}, steps: [], peersPerProcess: 1}).problems, [], 'the flag is refused once, by the command line');
});

test('precedence: --faults over the scenario\'s faults: over the config file\'s', (t) => {
  const config = {mode: 'kernel' as const, file: 'c.yaml', line: 1, column: 1};
  t.like(chooseBackend({choice: {...root, config}, steps: [offered], peersPerProcess: 1}), {backend: 'kernel', source: 'config'});
  t.like(chooseBackend({choice: {...root, config}, scenario: 'peer', steps: [offered], peersPerProcess: 1}), {backend: 'peer', source: 'scenario'});
  t.like(chooseBackend({choice: {...root, config, flag: 'kernel'}, scenario: 'peer', steps: [offered], peersPerProcess: 1}), {backend: 'kernel', source: 'flag'});
  t.like(chooseBackend({choice: {...root, flag: 'peer'}, steps: [lacking], peersPerProcess: 1}), {backend: 'peer', problems: [{at: 'steps[1]', message: lacking.peerProblem}]});
});

test('the config file\'s faults: peer, kernel or auto, and a located refusal of anything else', (t) => {
  t.is(parseConfigText('faults: kernel\n', 'peerlab.config.yaml').faults, 'kernel');
  t.is(parseConfigText('peer: {command: [./p]}\n', 'peerlab.config.yaml').faults, undefined);
  const error = t.throws(() => parseConfigText('faults: iptables\n', 'peerlab.config.yaml'), {instanceOf: ConfigError});
  t.like(error?.problems[0], {file: 'peerlab.config.yaml', line: 1, column: 9, field: 'faults'});
  t.regex(error?.problems[0]?.message ?? '', /peer.*kernel.*auto/);
});
