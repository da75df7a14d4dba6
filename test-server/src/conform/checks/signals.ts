/**
 * Signals to the peer's own pid: SIGTERM is a graceful exit, code 0, within
 * the time the coordinator allows before SIGKILL; SIGSTOP and SIGCONT (the
 * pause fault) leave it answering commands.
 */
import type {Check} from '../check.js';
import {delay, exitText, exitWithin, until} from '../wait.js';
import {UNKNOWN_COMMAND, replyText} from './commands.js';

/** How long the coordinator waits after SIGTERM before it sends SIGKILL (§6 When the coordinator is gone). */
const TERM_WITHIN_MS = 3000;
/** How long the pause fault lasts here. */
const PAUSE_MS = 1000;

export const sigtermCheck: Check = {
  name: 'sigterm',
  title: `SIGTERM: it leaves, flushes and exits 0 within ${TERM_WITHIN_MS / 1000} s`,
  section: '§6 Shutting down, and exit codes',
  async run({session, findings}) {
    const s = await session();
    const host = await s.spawn();
    // Its first events (peer.started) in first, so that what it says on the way out stands apart.
    await until(() => s.events.length > 0, 1000);
    const before = s.events.length;
    const sentAt = Date.now();
    host.kill('SIGTERM');
    const exit = await exitWithin(host, TERM_WITHIN_MS);
    if (!exit) {
      findings.fail(`still running ${TERM_WITHIN_MS} ms after SIGTERM, when the coordinator would SIGKILL it`);
      return;
    }
    if (exit.signal === 'SIGTERM') findings.fail('it died of the signal itself: handle SIGTERM, leave gracefully and exit 0');
    else findings.expect(exit.code === 0, `exited with ${exitText(exit)}, not 0`);
    const said = s.events.slice(before).map((e) => e.type);
    findings.note(`exited ${exit.at - sentAt} ms after SIGTERM${said.length ? `, having sent ${[...new Set(said)].join(', ')}` : ''}`);
  },
};

export const sigstopCheck: Check = {
  name: 'sigstop',
  title: `SIGSTOP for ${PAUSE_MS} ms, then SIGCONT: it answers commands again`,
  section: '§6 How the coordinator starts a peer (7)',
  async run({session, findings}) {
    const s = await session();
    const host = await s.spawn();
    await s.local.pause(s.name);
    // The pause is the fault itself; its length is the test's, not a wait for something to happen.
    await delay(PAUSE_MS);
    findings.expect(host.alive, `it ended while stopped (${host.exit ? exitText(host.exit) : '?'})`);
    await s.local.resume(s.name);
    const t0 = Date.now();
    const reply = await s.coordinator.hub.command(s.name, UNKNOWN_COMMAND, undefined, 5000);
    if (!reply.ok && reply.error.code === 'unknown-command') findings.note(`answered ${Date.now() - t0} ms after SIGCONT`);
    else findings.fail(`after SIGCONT, ${UNKNOWN_COMMAND}: ${replyText(reply)}`);
    findings.expect(host.alive, `it exited after SIGCONT (${host.exit ? exitText(host.exit) : '?'})`);
  },
};
