import test from 'ava';
import {IngestQueue} from '../src/hub/ingest-queue.js';

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

const until = async (condition: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('not within the deadline');
    await new Promise((resolve) => setImmediate(resolve));
  }
};

test('a batch is taken in at once while the turn has budget left', (t) => {
  const queue = new IngestQueue(20);
  const done: number[] = [];
  queue.run(() => done.push(1));
  queue.run(() => done.push(2));
  t.deepEqual(done, [1, 2]);
  t.is(queue.length, 0);
});

test('past the budget, batches wait in arrival order, and the event loop serves others between slices', async (t) => {
  const queue = new IngestQueue(20);
  const done: number[] = [];
  let timerRanAfter: number | undefined;
  for (let i = 0; i < 12; i++) {
    queue.run(() => {
      busy(10);
      done.push(i);
    });
  }
  // One to three fit in this turn's 20 ms; the rest wait.
  t.true(done.length >= 1 && done.length <= 3, `${done.length} taken in at once`);
  t.true(queue.length > 0);
  setTimeout(() => (timerRanAfter = done.length), 0);
  await until(() => queue.length === 0, 10_000);
  t.deepEqual(done, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  t.true(timerRanAfter !== undefined && timerRanAfter < 12, `the timer ran after ${timerRanAfter} of 12 batches`);
});

test('a batch that arrives while others wait goes behind them, even with budget left', async (t) => {
  const queue = new IngestQueue(5);
  const done: string[] = [];
  queue.run(() => busy(10));
  queue.run(() => done.push('first'));
  t.is(queue.length, 1);
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  queue.run(() => done.push('second'));
  await until(() => queue.length === 0, 5000);
  t.deepEqual(done, ['first', 'second']);
});

test('flush takes in everything that waits, at once', (t) => {
  const queue = new IngestQueue(1);
  const done: number[] = [];
  queue.run(() => busy(3));
  for (let i = 0; i < 5; i++) queue.run(() => done.push(i));
  t.is(queue.length, 5);
  queue.flush();
  t.deepEqual(done, [0, 1, 2, 3, 4]);
  t.is(queue.length, 0);
});

test('a job that throws fails where it runs and does not strand the ones behind it', (t) => {
  const queue = new IngestQueue(1);
  const done: number[] = [];
  queue.run(() => busy(3));
  queue.run(() => {
    throw new Error('boom');
  });
  queue.run(() => done.push(1));
  t.throws(() => queue.flush(), {message: 'boom'});
  t.deepEqual(done, [1]);
  t.is(queue.length, 0);
});
