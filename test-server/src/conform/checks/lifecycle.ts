/**
 * The connection's life: the peer comes back after the coordinator drops
 * it and resends what was not acknowledged; it exits on its own when the
 * coordinator is gone past the grace period, or when its parent dies.
 */
import {spawn} from 'node:child_process';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import type {Socket} from 'socket.io';
import type {PeerEvent} from '@peerlab/client-agent/protocol';
import type {Check} from '../check.js';
import {CheckStop} from '../stop.js';
import {delay, exitText, exitWithin, isGone, until} from '../wait.js';
import {UNKNOWN_COMMAND, replyText} from './commands.js';

/** The documented backoff (first retry after 100 ms, then up to 2000 ms) with room for a loaded machine. */
const RECONNECT_WITHIN_MS = 5000;
/**
 * From the new hello to the held events arriving again. §4 has the agent send
 * straight away once a hello is accepted, and a batch lost with its
 * connection counts as lost at the disconnect: waiting out its 5 s ack timeout
 * first is the defect this catches. Agents that follow §4 take tens of ms
 * (the reference peer, the Go and Python peers); the rest is room for a
 * loaded two-core machine.
 */
const RESEND_WITHIN_MS = 2500;

export const reconnectCheck: Check = {
  name: 'reconnect',
  title: 'after a server-side disconnect it comes back, same process, and resends unacknowledged events',
  section: '§6 Reconnect with backoff; §4 What the agent does',
  async run({session, findings}) {
    const s = await session();
    // Hold back the first batch, unanswered, and drop the connection it came on: those events are the
    // peer's to send again after it reconnects.
    let held: {socket: Socket; events: PeerEvent[]} | undefined;
    s.filter = (socket, channel, payload) => {
      if (held || channel !== 'events') return true;
      held = {socket, events: ((payload as {events?: PeerEvent[]}).events ?? []) as PeerEvent[]};
      return false;
    };
    await s.spawn();
    const hub = s.coordinator.hub;
    const firstHello = s.lastHello() ?? {};
    const gotBatch = await until(() => held, 3000);
    const droppedAt = Date.now();
    if (gotBatch) {
      if (hub.get(s.name)) hub.disconnect(s.name);
      else gotBatch.socket.disconnect(true);
    } else {
      findings.note('it sent no events within 3 s: the resend was not exercised');
      hub.disconnect(s.name);
    }
    const back = await until(() => s.registrations.length >= 2 && hub.get(s.name), RECONNECT_WITHIN_MS);
    if (!back) throw new CheckStop(`not registered again within ${RECONNECT_WITHIN_MS / 1000} s of the coordinator dropping it (§6: after a server-side disconnect, connect again)`);
    findings.note(`back ${s.hellos.at(-1)!.at - droppedAt} ms after the drop`);
    const hello = s.lastHello() ?? {};
    findings.expect(hello.pid === firstHello.pid, `its new hello has pid ${JSON.stringify(hello.pid)}, its first ${JSON.stringify(firstHello.pid)}: the same process`);
    findings.expect(hello.instance === firstHello.instance, `its new hello has instance ${JSON.stringify(hello.instance)}, its first ${JSON.stringify(firstHello.instance)}: the same process run keeps its instance`);
    if (gotBatch && gotBatch.events.length > 0) {
      const seqs = gotBatch.events.map((e) => e.seq);
      const last = Math.max(...seqs);
      const backAt = s.hellos.at(-1)!.at;
      const resent = await until(() => (hub.get(s.name)?.lastSeq ?? 0) >= last, RESEND_WITHIN_MS);
      const recorded = new Set(s.events.map((e) => e.seq));
      const lost = seqs.filter((q) => !recorded.has(q) && !s.rejected.some((r) => r.seq === q));
      if (!resent || lost.length > 0) findings.fail(`the unacknowledged events (seq ${seqs[0]}-${last}) were not sent again within ${RESEND_WITHIN_MS} ms of its new hello${lost.length ? `: ${lost.join(', ')} missing` : ''} (§4: keep them until acknowledged, resend right after the new hello is accepted)`);
      else findings.note(`resent seq ${seqs[0]}-${last} ${Date.now() - backAt} ms after its new hello`);
    }
    const reply = await hub.command(s.name, UNKNOWN_COMMAND, undefined, 5000);
    findings.expect(!reply.ok && reply.error.code === 'unknown-command', `after reconnecting, ${UNKNOWN_COMMAND}: ${replyText(reply)}`);
  },
};

/** The grace period the grace check gives the peer. */
const GRACE_MS = 1000;
/** Time past the grace period to notice and exit. */
const GRACE_MARGIN_MS = 2000;

export const graceCheck: Check = {
  name: 'grace',
  title: `with the coordinator gone past --agent-grace (${GRACE_MS} ms), it exits on its own, code 3`,
  section: '§6 The grace period',
  async run({session, findings}) {
    const s = await session({graceMs: GRACE_MS});
    const host = await s.spawn();
    // The peer's clock starts at the first failure, which closing the servers causes at once.
    const stoppedAt = Date.now();
    await s.coordinator.stopServing();
    const exit = await exitWithin(host, GRACE_MS + GRACE_MARGIN_MS + (Date.now() - stoppedAt));
    if (!exit) {
      findings.fail(`still running ${GRACE_MS + GRACE_MARGIN_MS} ms after the coordinator went away, with --agent-grace ${GRACE_MS}`);
      return;
    }
    const after = exit.at - stoppedAt;
    findings.expect(exit.code === 3, `exited with ${exitText(exit)}, not code 3`);
    findings.expect(after >= GRACE_MS * 0.75, `exited ${after} ms after the coordinator went away: before its grace period of ${GRACE_MS} ms was up`);
    findings.note(`exited ${after} ms after the coordinator went away`);
  },
};

/** The peer polls every 250 ms; the rest covers sending what is pending (at most 1 s) and a loaded machine. */
const PARENT_WITHIN_MS = 2500;
const fakeParent = fileURLToPath(new URL('../fake-parent.js', import.meta.url));

export const parentCheck: Check = {
  name: 'parent-watch',
  title: 'when the process PEERLAB_PARENT_PID names dies, it exits on its own',
  section: '§6 The parent-pid watch',
  async run({session, findings}) {
    // A long grace period and a coordinator that stays: only the parent watch can end the peer in time.
    const s = await session({graceMs: 30_000});
    const parent = spawn(process.execPath, [fakeParent, JSON.stringify(s.launch())], {stdio: ['ignore', 'pipe', 'inherit']});
    s.track(parent.pid);
    const lines = createInterface({input: parent.stdout!});
    const said: Array<{pid?: number; exit?: {code: number | null; signal: string | null}; error?: string}> = [];
    lines.on('line', (line) => said.push(JSON.parse(line) as (typeof said)[number]));
    const pid = (await until(() => said.find((m) => m.pid !== undefined || m.error), 5000))?.pid;
    if (pid === undefined) throw new CheckStop(`the stand-in parent could not start the peer: ${said.find((m) => m.error)?.error ?? 'no word within 5 s'}`);
    s.track(pid);
    try {
      await s.coordinator.hub.waitForRegistered([s.name], 10_000);
    } catch (error) {
      const early = said.find((m) => m.exit)?.exit;
      throw new CheckStop(early ? `it exited (${early.signal ?? `code ${early.code}`}) before it registered, under a parent that was still alive${s.lastLogLine() ? `; its log ends: ${s.lastLogLine()}` : ''}` : s.whyNotRegistered((error as Error).message));
    }
    // Still there while its parent lives: a watch that fires at once would pass the test below for the wrong reason.
    await delay(300);
    const early = said.find((m) => m.exit)?.exit;
    if (early) throw new CheckStop(`it exited (${early.signal ?? `code ${early.code}`}) while its parent was alive`);
    const killedAt = Date.now();
    parent.kill('SIGKILL');
    const gone = await until(() => isGone(pid), PARENT_WITHIN_MS);
    if (!gone) {
      findings.fail(`still running ${PARENT_WITHIN_MS} ms after its parent died (§6: check every 250 ms, exit with code 4)`);
      return;
    }
    s.untrack(pid);
    s.untrack(parent.pid);
    findings.note(`gone ${Date.now() - killedAt} ms after its parent (its exit code cannot be seen: it was re-parented)`);
  },
};
