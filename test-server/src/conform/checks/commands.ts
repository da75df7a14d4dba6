/**
 * Commands: errors are values with the documented codes, arguments are
 * validated against the peer's own schema before anything runs, and
 * deadlines are kept.
 */
import type {ArgSpec, CommandSpec} from '@peerlab/client-agent';
import type {CommandReply} from '@peerlab/client-agent/protocol';
import type {Check, Findings} from '../check.js';
import {chooseProbe} from '../check.js';
import type {Session} from '../session.js';

export const UNKNOWN_COMMAND = 'conform-no-such-command';

/** A reply, in words, for a failure's reason. */
export function replyText(reply: CommandReply): string {
  return reply.ok ? `ok ${JSON.stringify(reply.result ?? null).slice(0, 80)}` : `${reply.error.code}: ${reply.error.message}`;
}

/** Whether the reply is the coordinator's own, made because the peer did not answer. */
function unanswered(reply: CommandReply): boolean {
  return !reply.ok && (reply.error.code === 'not-connected' || (reply.error.code === 'timeout' && / did not answer /.test(reply.error.message)) || /^malformed reply from /.test(reply.error.message));
}

/** Expects an error with this code; says what came instead. */
function expectCode(findings: Findings, what: string, reply: CommandReply, code: string): void {
  if (reply.ok) findings.fail(`${what}: answered ok, expected ${code}`);
  else if (unanswered(reply)) findings.fail(`${what}: ${reply.error.message} (${reply.error.code})`);
  else if (reply.error.code !== code) findings.fail(`${what}: answered ${reply.error.code} (${reply.error.message}), expected ${code}`);
}

/** The probe for this session's peer, or a note saying why that part is skipped. */
function probeOf(s: Session, named: string | undefined, findings: Findings, part: string): CommandSpec | undefined {
  const choice = chooseProbe(s.commands(), named);
  if ('probe' in choice) return choice.probe;
  findings.note(`${part} not checked: ${choice.reason}`);
  return undefined;
}

export const commandsCheck: Check = {
  name: 'commands',
  title: 'an unknown command is unknown-command; a harmless one is ok; replies carry id and seq',
  section: '§3 Errors are values; §3 The reply',
  async run({session, probe: named, findings}) {
    const s = await session();
    await s.spawn();
    const hub = s.coordinator.hub;
    const unknown = await hub.command(s.name, UNKNOWN_COMMAND, undefined, 5000);
    expectCode(findings, `${UNKNOWN_COMMAND}`, unknown, 'unknown-command');
    const sent = s.sentCommands.at(-1)?.id;
    if (!unanswered(unknown)) findings.expect(unknown.id === sent, `the reply's id ${JSON.stringify(unknown.id)} does not echo the request's (${JSON.stringify(sent)})`);
    if (!unanswered(unknown) && unknown.seq === undefined) findings.note('replies carry no seq (§3: put seq in every reply)');
    const probe = probeOf(s, named, findings, 'a command that succeeds');
    if (probe) {
      const reply = await hub.command(s.name, probe.name, undefined, 5000);
      findings.expect(reply.ok, `${probe.name}: ${replyText(reply)}, expected ok`);
      if (reply.ok && reply.result === undefined) findings.note(`${probe.name}'s reply has no result (§3: send null when there is none)`);
    }
    if (!(await hub.ping(s.name, 2000))) findings.note('no answer to ping within 2 s: fine but for the bench (§5)');
  },
};

/** A value of the wrong JSON type for the arg. */
function wrongValue(arg: ArgSpec): unknown {
  return arg.type === 'string' ? 5 : arg.type === 'boolean' ? 'yes' : arg.type === 'enum' ? 'conform-not-a-value' : 'conform';
}

/** Commands that a peer which fails to validate first would run to its harm; tried last. */
const RISKY = new Set(['exit', 'leave', 'run', 'save-config', 'load-config', 'shutdown', 'stop', 'quit', 'kill']);

function safestFirst(commands: readonly CommandSpec[], probe: CommandSpec | undefined): CommandSpec[] {
  const rank = (c: CommandSpec) => (c === probe ? 0 : RISKY.has(c.name) ? 2 : 1);
  return [...commands].sort((a, b) => rank(a) - rank(b));
}

export const argumentsCheck: Check = {
  name: 'arguments',
  title: 'unknown, mistyped and missing arguments are bad-arguments, as a value',
  section: '§3 Validating structured arguments',
  async run({session, probe: named, findings}) {
    const s = await session();
    await s.spawn();
    const hub = s.coordinator.hub;
    const commands = s.commands();
    const probe = chooseProbe(commands, named);
    const probeSpec = 'probe' in probe ? probe.probe : undefined;
    let tried = 0;
    const target = probeSpec ?? safestFirst(commands, undefined).find((c) => !c.args.some((a) => a.required));
    if (target) {
      tried++;
      const reply = await hub.command(s.name, target.name, {'conform-bogus': 1}, 5000);
      expectCode(findings, `${target.name} with an unknown argument "conform-bogus"`, reply, 'bad-arguments');
    }
    const typed = safestFirst(commands, probeSpec)
      .flatMap((c) => c.args.filter((a) => !a.rest && !a.repeatable).map((a) => ({c, a})))
      .sort((x, y) => Number(x.c.args.some((a) => a.required && a !== x.a)) - Number(y.c.args.some((a) => a.required && a !== y.a)))[0];
    if (typed) {
      tried++;
      const value = wrongValue(typed.a);
      const reply = await hub.command(s.name, typed.c.name, {[typed.a.name]: value}, 5000);
      expectCode(findings, `${typed.c.name} with ${typed.a.name} (${typed.a.type}) = ${JSON.stringify(value)}`, reply, 'bad-arguments');
    }
    const required = safestFirst(commands, probeSpec).find((c) => c.args.some((a) => a.required));
    if (required) {
      tried++;
      const reply = await hub.command(s.name, required.name, undefined, 5000);
      const missing = required.args.filter((a) => a.required).map((a) => a.name);
      expectCode(findings, `${required.name} without its required ${missing.join(', ')}`, reply, 'bad-arguments');
    } else findings.note('no command has a required argument: "missing" not checked');
    if (tried === 0) findings.skip('the peer offers no command with arguments, nor one known to be harmless to send a stray argument to (--probe)');
    findings.expect(s.host?.alive === true, `the peer exited during the check (${s.host?.exit ? JSON.stringify(s.host.exit) : '?'})`);
  },
};

export const deadlinesCheck: Check = {
  name: 'deadlines',
  title: 'a malformed deadline is bad-message; a tight one is met (ok or timeout) in time',
  section: '§3 Deadlines; §3 The request',
  async run({session, probe: named, findings}) {
    const s = await session();
    await s.spawn();
    const hub = s.coordinator.hub;
    const probe = probeOf(s, named, findings, 'a tight deadline on a real command');
    const name = probe?.name ?? UNKNOWN_COMMAND;
    const expired = await hub.command(s.name, name, undefined, 0);
    expectCode(findings, `${name} with timeoutMs 0`, expired, 'bad-message');
    const started = Date.now();
    const tight = await hub.command(s.name, name, undefined, 1);
    const ms = Date.now() - started;
    if (unanswered(tight)) findings.fail(`${name} with timeoutMs 1: ${tight.ok ? '' : tight.error.message}`);
    else if (!tight.ok && tight.error.code !== 'timeout' && !(name === UNKNOWN_COMMAND && tight.error.code === 'unknown-command')) {
      findings.fail(`${name} with timeoutMs 1: answered ${tight.error.code} (${tight.error.message}), expected ok or timeout`);
    } else findings.note(`timeoutMs 1 answered ${tight.ok ? 'ok' : tight.error.code} in ${ms} ms`);
    // A command that takes as long as it is told (Appendix B's toy has one) shows the agent answering at the deadline.
    const slow = s.commands().find((c) => c.name === 'sleep' && c.args.some((a) => a.name === 'ms' && a.type === 'integer'));
    if (slow) {
      const t0 = Date.now();
      const reply = await hub.command(s.name, 'sleep', {ms: 3000}, 300);
      const took = Date.now() - t0;
      if (reply.ok || reply.error.code !== 'timeout' || unanswered(reply)) findings.fail(`sleep 3000 ms with timeoutMs 300: ${replyText(reply)}, expected the agent's timeout at the deadline`);
      else findings.expect(took < 300 + 700, `sleep with timeoutMs 300 was answered after ${took} ms: answer at the deadline`);
    }
  },
};
