/**
 * Before anything else: the program describes itself, registers under the
 * name and with the token it was given, as the process it is, and keeps the
 * token to itself; and it gives up at once when the token is refused.
 */
import {readFileSync} from 'node:fs';
import type {CommandSpec} from '@peerlab/client-agent';
import {PeerHost} from '../../runners/local/peer-host.js';
import type {Check} from '../check.js';
import {exitText, exitWithin} from '../wait.js';

/** Command specs in a form that compares equal however they were ordered or their keys written. */
function canonical(specs: readonly CommandSpec[]): Map<string, string> {
  const sortKeys = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sortKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, x]) => [k, sortKeys(x)])) : v;
  return new Map(specs.map((s) => [s.name, JSON.stringify(sortKeys(s))]));
}

function sameSet(a: readonly string[] = [], b: readonly string[] = []): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

export const describeCheck: Check = {
  name: 'describe',
  title: '--describe-commands prints valid specs and capabilities',
  section: '§6 --describe-commands',
  async run({description, describeMs, findings}) {
    findings.priorMs = describeMs;
    if (!description.ok) {
      findings.fail(description.message);
      return;
    }
    findings.note(`${description.specs.length} command${description.specs.length === 1 ? '' : 's'}`);
    const declared = [...description.capabilities.events, ...description.capabilities.fields];
    findings.note(declared.length > 0 ? `declares ${declared.join(', ')}` : 'declares no capabilities');
  },
};

export const helloCheck: Check = {
  name: 'hello',
  title: 'registers with the run token, its --name and its own pid; keeps the token secret',
  section: '§2 hello in full; §1 The handshake',
  async run({session, description, findings}) {
    const s = await session();
    const host = await s.spawn();
    const token = s.coordinator.token;
    const hello = s.lastHello() ?? {};
    findings.expect(hello.peer === s.name, `hello.peer is ${JSON.stringify(hello.peer)}, not the --name ${s.name}`);
    findings.expect(
      hello.pid === host.pid,
      `hello.pid is ${JSON.stringify(hello.pid)}, not the pid of the process the fleet started (${host.pid}): a wrapper must exec the peer (§6 A wrapper must exec)`,
    );
    if (hello.instance === undefined) findings.note('no instance in hello (§2: send one, pids repeat)');
    const commands = (hello.commands ?? []) as CommandSpec[];
    if (description.ok) {
      const told = canonical(description.specs);
      const sent = canonical(commands);
      const missing = [...told.keys()].filter((n) => !sent.has(n));
      const extra = [...sent.keys()].filter((n) => !told.has(n));
      const differ = [...told.keys()].filter((n) => sent.has(n) && sent.get(n) !== told.get(n));
      if (missing.length + extra.length + differ.length > 0) {
        const parts = [missing.length ? `missing from hello: ${missing.join(', ')}` : '', extra.length ? `only in hello: ${extra.join(', ')}` : '', differ.length ? `specs differ: ${differ.join(', ')}` : ''];
        findings.fail(`hello.commands do not match --describe-commands (${parts.filter(Boolean).join('; ')})`);
      }
      const caps = (hello.capabilities ?? {}) as {events?: string[]; fields?: string[]};
      if (!sameSet(caps.events, description.capabilities.events) || !sameSet(caps.fields, description.capabilities.fields)) {
        findings.fail(`hello.capabilities ${JSON.stringify(hello.capabilities ?? null)} do not match --describe-commands' ${JSON.stringify(description.capabilities)}`);
      }
    } else {
      findings.note('hello.commands not compared: --describe-commands failed');
    }
    // The token reached the agent only through PEERLAB_TOKEN (the fleet puts it nowhere else), and registration needed it.
    let argv: string | undefined;
    try {
      argv = readFileSync(`/proc/${host.pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      findings.note('argv not inspected (no /proc)');
    }
    if (argv !== undefined) findings.expect(!argv.includes(token), 'the run token is on its command line, which anyone can read with ps (§6: take it from PEERLAB_TOKEN)');
    // A round trip, so anything the peer logs or sends around its registration is in by now.
    await s.coordinator.hub.command(s.name, 'conform-no-such-command', undefined, 5000);
    findings.expect(!s.log().includes(token), `the run token appears in its output (${s.logFile}): §6 never print it`);
    findings.expect(!JSON.stringify(s.hellos.map((h) => h.payload)).includes(token), 'the run token is in its hello');
    findings.expect(!JSON.stringify(s.batches.map((b) => b.payload)).includes(token), 'the run token is in its events');
    findings.expect(s.registrations.length === 1, `it said hello ${s.registrations.length} times though the coordinator never dropped it: does it take the hello ack? (§2 The hello ack)`);
  },
};

export const tokenCheck: Check = {
  name: 'token-refused',
  title: 'a refused run token ends the peer at once, exit 3',
  section: '§1 The handshake; §6 The grace period',
  async run({session, findings}) {
    // A long grace period: only the refusal can end the peer in time.
    const s = await session({graceMs: 30_000});
    const launch = s.launch();
    const wrong = 'f'.repeat(32) === s.coordinator.token ? 'e'.repeat(32) : 'f'.repeat(32);
    const host = new PeerHost([s.name], {...launch, env: {...launch.env, PEERLAB_TOKEN: wrong, PEERLAB_BOOTSTRAP_TOKEN: wrong}});
    s.track(host.pid);
    const started = Date.now();
    const exit = await exitWithin(host, 5000);
    if (!exit) {
      findings.fail(`still running 5 s after its token was refused (unauthorized is final: exit 3 at once, not after the grace period)${s.lastLogLine() ? `; its log ends: ${s.lastLogLine()}` : ''}`);
      host.kill('SIGKILL');
      await host.exited;
      s.untrack(host.pid);
      return;
    }
    s.untrack(host.pid);
    findings.expect(exit.code === 3, `exited with ${exitText(exit)}, not code 3`);
    findings.expect(s.registrations.length === 0, 'it registered with a wrong token');
    findings.note(`exited after ${exit.at - started} ms`);
  },
};
