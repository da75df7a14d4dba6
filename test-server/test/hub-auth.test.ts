/**
 * Before an agent has shown its token: the hub refuses wrong and empty tokens,
 * compares them in constant time, and caps the size of what an unauthenticated
 * connection may send, while authenticated agents keep their large batches.
 */
import test from 'ava';
import {Coordinator} from '../src/coordinator.js';

test('an empty run token is refused rather than switching the HTTP check off', async (t) => {
  await t.throwsAsync(Coordinator.start({host: '0.0.0.0', token: ''}), {instanceOf: RangeError, message: /^token: /});
  await t.throwsAsync(Coordinator.start({token: '  '}), {instanceOf: RangeError, message: /^token: /});
});
