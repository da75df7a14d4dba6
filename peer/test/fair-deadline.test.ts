/**
 * A probe's deadline is fair to the target: an answer already in the socket
 * when the deadline falls due is read before the verdict, and a deadline that
 * fell due while this process was not running starts its window again.
 * Real timers and a real UDP socket; the stall is a busy loop, as a starved
 * process would see it.
 */
import test from 'ava';
import dgram from 'node:dgram';
import {MAX_DEADLINE_EXTENSIONS, fairDelay} from '../src/membership/fair-deadline.js';

function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // A process that is not running, as far as its timers can tell.
  }
}

test('an answer that arrived during a stall is read before the deadline settles', async (t) => {
  const receiver = dgram.createSocket('udp4');
  const sender = dgram.createSocket('udp4');
  t.teardown(() => {
    receiver.close();
    sender.close();
  });
  await new Promise<void>((resolve) => receiver.bind(0, '127.0.0.1', resolve));
  let answered = false;
  receiver.on('message', () => (answered = true));
  // Short enough that the stall below overruns it, too short to count as a stall worth a new window.
  const deadline = fairDelay(40);
  await new Promise<void>((resolve) => sender.send('ack', receiver.address().port, '127.0.0.1', () => resolve()));
  // The ack is in the socket now; the process stalls past the deadline but under half of it late.
  busy(55);
  await deadline.promise;
  t.true(answered, 'the ack waiting in the socket was read first');
});

test('a deadline that fell due while the process stalled gives the target a fresh window', async (t) => {
  const started = performance.now();
  const deadline = fairDelay(100);
  busy(300);
  const stalledUntil = performance.now();
  await deadline.promise;
  const settled = performance.now();
  t.true(settled - stalledUntil >= 95, `a full window after the stall, got ${Math.round(settled - stalledUntil)} ms`);
  t.true(settled - started >= 395);
});

test('a process that stays stalled still reaches a verdict, after a bounded number of new windows', async (t) => {
  const ms = 20;
  const deadline = fairDelay(ms);
  let settled = false;
  void deadline.promise.then(() => (settled = true));
  // Every window falls due mid-stall.
  for (let i = 0; i <= MAX_DEADLINE_EXTENSIONS; i++) {
    busy(ms * 3);
    await new Promise((r) => setTimeout(r, 0));
    await new Promise((r) => setImmediate(r));
  }
  await Promise.race([deadline.promise, new Promise((r) => setTimeout(r, 1000))]);
  t.true(settled, 'no endless extension');
});

test('a cancelled deadline never settles and leaves no timer behind', async (t) => {
  const deadline = fairDelay(10);
  let settled = false;
  void deadline.promise.then(() => (settled = true));
  deadline.cancel();
  await new Promise((r) => setTimeout(r, 50));
  t.false(settled);
});
