/**
 * The history's string pool: values stay what they were, only the fields that
 * recur (names, addresses, states) are pooled, and the pool is bounded. What
 * it saves is measured by the bench ("history heap per peer event").
 */
import test from 'ava';
import {readFile} from 'node:fs/promises';
import path from 'node:path';
import {StringPool} from '../src/history/string-pool.js';
import {HistoryWriter} from '../src/history/writer.js';
import {tempDir} from './support.js';

test('pooled fields keep their values, and only names, addresses and states are pooled', (t) => {
  const pool = new StringPool();
  const data = {name: 'peer-1', address: '127.0.0.1:4000', incarnation: 3, from: 'peer-2', text: 'hello, everyone', id: 'peer-1:1:1'};
  t.deepEqual(pool.fields({...data}), data);
  t.is(pool.size, 3, 'name, address and from; not the text or the id');
  t.deepEqual(pool.fields(JSON.parse(JSON.stringify(data)) as Record<string, unknown>), data);
  t.is(pool.size, 3, 'the same values again add nothing');
  t.is(pool.get('x'.repeat(129)), 'x'.repeat(129));
  t.is(pool.size, 3, 'a value longer than any name is returned as it is, not pooled');
});

test('the pool stops growing at its bound, and still answers', (t) => {
  const pool = new StringPool();
  for (let i = 0; i < 70_000; i++) pool.get(`peer-${i}`);
  t.is(pool.size, 1 << 16);
  t.is(pool.get('peer-69999'), 'peer-69999');
});

test('the history writer records peers\' events as they came: in memory and on disk', async (t) => {
  const dir = await tempDir(t, 'peerlab-pool-');
  const file = path.join(dir, 'history.jsonl');
  const history = new HistoryWriter(file);
  const sent = [
    {seq: 1, time: 1000, type: 'member.joined', data: {name: 'bob', address: '127.0.0.1:4001', incarnation: 0}},
    {seq: 2, time: 1001, type: 'member.suspect', data: {name: 'bob', incarnation: 0, from: 'carol'}},
    {seq: 3, time: 1002, type: 'chat.sent', data: {id: 'alice:1:1', sender: 'alice', seq: 1, text: 'hi'}},
  ];
  for (const e of JSON.parse(JSON.stringify(sent)) as typeof sent) history.appendPeer('peer:alice', e);
  await history.close();
  const expected = sent.map((e) => ({t: e.time, src: 'peer:alice', type: e.type, data: e.data, seq: e.seq}));
  t.deepEqual(history.events, expected as never);
  t.deepEqual((await readFile(file, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as unknown), expected);
});
