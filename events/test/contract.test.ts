import test from 'ava';
import {readFile} from 'node:fs/promises';
import {Ajv2020} from 'ajv/dist/2020.js';
import {checkPeerEvent, peerEventData} from '../src/contract.js';
import {schemaFile, schemaText} from '../src/write-schema.js';

test('docs/events.schema.json is what the contract generates (run `npm run schema` after changing it)', async (t) => {
  t.is(await readFile(schemaFile, 'utf8'), schemaText());
});

test('the JSON Schema and the contract agree on a good and a bad event of each kind', (t) => {
  const schema = JSON.parse(schemaText()) as {$defs: Record<string, unknown>};
  const ajv = new Ajv2020({strict: false});
  ajv.addSchema(schema, 'events');
  const peerEvent = ajv.getSchema('events#/$defs/peerEvent')!;
  const line = ajv.getSchema('events#/$defs/historyLine')!;
  const dead = {type: 'member.dead', data: {name: 'bob', incarnation: 3, from: 'alice'}};
  t.true(peerEvent(dead));
  t.is(checkPeerEvent(dead.type, dead.data), undefined);
  const bad = {type: 'member.dead', data: {name: 'bob', incarnation: '3', from: 'alice'}};
  t.false(peerEvent(bad));
  t.like(checkPeerEvent(bad.type, bad.data), {field: 'data.incarnation', value: '3'});
  t.true(line({t: 1, src: 'peer:alice', seq: 4, ...dead}));
  t.true(line({t: 1, src: 'coordinator', type: 'event.rejected', data: {peer: 'alice', seq: 2, time: 1, type: 'member.dead', field: 'data.incarnation', message: 'm'}}));
  t.false(line({t: 1, src: 'coordinator', type: 'peer.gap', data: {peer: 'alice', expected: 'x', got: 3}}));
  // An extension type from a peer is a valid line, as the hub stores it; a listed type does not escape its shape through that door.
  t.true(line({t: 1, src: 'peer:alice', seq: 5, type: 'x.mine', data: {anything: [1, 2]}}));
  t.false(line({t: 1, src: 'peer:alice', seq: 6, ...bad}));
  t.false(line({t: 1, src: 'coordinator', type: 'x.mine', data: {}}));
  // Every peer type is in the schema.
  t.deepEqual(Object.keys(peerEventData).filter((type) => !JSON.stringify(schema.$defs.peerEvent).includes(`"${type}"`)), []);
});

test('an extension type passes unchecked; a prototype name is no listed type', (t) => {
  t.is(checkPeerEvent('x.mine', {anything: 1}), undefined);
  t.is(checkPeerEvent('toString', {}), undefined);
  t.is(checkPeerEvent('constructor', {}), undefined);
});
