/**
 * Events and snapshots: batches the hub takes whole, numbered from 1 with no
 * gap, each event fitting the contract, peer.started first; a reply's seq
 * that its events catch up with; a snapshot that validates and shows the
 * peer itself.
 */
import {peerEventTypes} from '@peerlab/events/contract';
import type {Check, Findings} from '../check.js';
import {chooseProbe} from '../check.js';
import type {Session} from '../session.js';
import {until} from '../wait.js';
import {replyText} from './commands.js';

/** What the hub said of the peer's messages: refused ones, gaps, contract violations. Every check is judged by it. */
export function judgeStream(s: Session, findings: Findings): void {
  for (const e of s.protocolErrors) findings.fail(`the hub refused its ${e.channel}: ${e.message}`);
  for (const g of s.gaps) findings.fail(`a gap in its events: expected seq ${g.expected}, got ${g.got} (§4 Sequence numbers)`);
  for (const r of s.rejected) findings.fail(`event ${r.seq} breaks the event contract: ${r.message} (§4 The event contract)`);
}

export const eventsCheck: Check = {
  name: 'events',
  title: 'events come in batches, seq 1, 2, 3 with no gap, peer.started first, each fitting the contract',
  section: '§4 Events; §7 peer.started',
  async run({session, probe: named, findings}) {
    const s = await session();
    await s.spawn();
    const first = await until(() => s.events[0] ?? s.rejected[0], 5000);
    if (!first) {
      findings.fail('no event within 5 s of its registration: §7 wants peer.started, as seq 1, before the agent connects');
      return;
    }
    if ('type' in first) findings.expect(first.seq === 1 && first.type === 'peer.started', `its first event is ${first.type} at seq ${first.seq}: peer.started comes first, as seq 1 (§7)`);
    else findings.fail(`its first event (seq ${first.seq}) was rejected: ${first.message}`);
    const choice = chooseProbe(s.commands(), named);
    if ('probe' in choice) {
      const reply = await s.coordinator.hub.command(s.name, choice.probe.name, undefined, 5000);
      if (!reply.ok) findings.fail(`${choice.probe.name}: ${replyText(reply)}`);
      else if (reply.seq === undefined) findings.note(`the ${choice.probe.name} reply has no seq (§3 The reply)`);
      else {
        const t0 = Date.now();
        const caught = await s.coordinator.hub.waitForSeq(s.name, reply.seq, 2000);
        findings.expect(caught, `its reply said seq ${reply.seq}, but its events reached only ${s.coordinator.hub.get(s.name)?.lastSeq ?? '?'} within 2 s: each step would wait 2 s (§3 Why seq)`);
        if (caught && reply.seq > 0) findings.note(`events up to the reply's seq ${Date.now() - t0} ms after it`);
      }
    } else findings.note(`a reply's seq not checked: ${choice.reason}`);
    const seqs = s.events.map((e) => e.seq);
    const repeated = seqs.filter((q, i) => seqs.indexOf(q) !== i);
    findings.expect(repeated.length === 0, `seq numbers repeat: ${[...new Set(repeated)].join(', ')}`);
    const extensions = [...new Set(s.events.map((e) => e.type).filter((t) => !peerEventTypes.has(t)))];
    findings.note(`${s.events.length} event${s.events.length === 1 ? '' : 's'} in ${s.batches.length} batch${s.batches.length === 1 ? '' : 'es'}${extensions.length ? `; extension types: ${extensions.join(', ')}` : ''}`);
    const skew = s.events.find((e) => Math.abs(e.time - Date.now()) > 60 * 60 * 1000);
    if (skew) findings.fail(`event ${skew.seq} has time ${skew.time}, over an hour from now: epoch ms on the peer's clock (§4 The event)`);
  },
};

export const snapshotCheck: Check = {
  name: 'snapshot',
  title: 'a snapshot validates and lists the peer itself',
  section: '§5 Snapshot',
  async run({session, findings}) {
    const s = await session();
    await s.spawn();
    const reply = await s.coordinator.hub.snapshot(s.name, 5000);
    if (!reply.ok) {
      if (reply.error.code === 'failed') findings.skip(`it answers snapshot with an error: ${reply.error.message}`);
      else findings.fail(`${reply.error.code}: ${reply.error.message}`);
      return;
    }
    const snap = reply.snapshot;
    findings.expect(snap.peer === s.name, `snapshot.peer is ${JSON.stringify(snap.peer)}, not ${s.name}`);
    findings.expect(snap.members.some((m) => m.name === s.name), 'snapshot.members does not list the peer itself (§5: every member it knows, itself included)');
    findings.expect(typeof snap.time === 'number', 'snapshot.time is not epoch ms');
    findings.expect(snap.messages.ids.length === snap.messages.count, `snapshot.messages.count ${snap.messages.count} but ${snap.messages.ids.length} ids`);
    findings.note(`${snap.members.length} member${snap.members.length === 1 ? '' : 's'}`);
  },
};
