import test from 'ava';
import {readFile} from 'node:fs/promises';
import {Ajv2020} from 'ajv/dist/2020.js';
import fc from 'fast-check';
import {checkCoordinatorEvent, checkPeerEvent, coordinatorEventData, peerEventData} from '../src/contract.js';
import type {z} from 'zod';
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

/**
 * The fast path (ajv, on the schema generated from the contract) must never
 * accept what the contract (zod) refuses, or a bad event would slip through
 * unchecked: for every type, data made of good values, edge values and junk
 * gets the same answer from the checks as from zod alone.
 */
test('the fast check and the contract agree on every type, for good, edge and junk data', (t) => {
  const seed = process.env.PEERLAB_FUZZ_SEED ? Number(process.env.PEERLAB_FUZZ_SEED) : undefined;
  const runs = Number(process.env.PEERLAB_FUZZ_RUNS ?? 300);
  const value = fc.oneof(
    fc.constantFrom('alice', 'bob', '', 'a b', '127.0.0.1:7000', 'x'.repeat(301), 'peer:alice', 'halves', 'SIGKILL', 'pass', 'fail', 'alive', 'dead', '3', 'all'),
    fc.constantFrom(0, 1, -1, 2 ** 32, 1.5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, 1_700_000_000_000),
    fc.constantFrom(true, false, null),
    fc.constantFrom([['alice', 'bob']], [['alice']], [], ['alice'], [[1, 2]], {kind: 'converged'}, {kind: 'state', of: 'bob', is: 'dead', seenBy: 'all'}, {}),
    fc.anything({maxDepth: 2}),
  );
  const all: Array<[string, z.ZodType, (type: string, data: unknown) => unknown]> = [
    ...Object.entries(peerEventData).map(([type, schema]): [string, z.ZodType, typeof checkPeerEvent] => [type, schema as z.ZodType, checkPeerEvent]),
    ...Object.entries(coordinatorEventData).map(([type, schema]): [string, z.ZodType, typeof checkCoordinatorEvent] => [type, schema as z.ZodType, checkCoordinatorEvent]),
  ];
  const fields = (schema: z.ZodType): string[] => Object.keys((schema as unknown as {shape?: Record<string, unknown>}).shape ?? {});
  let accepted = 0;
  for (const [type, schema, checkEvent] of all) {
    fc.assert(
      fc.property(fc.oneof(fc.dictionary(fc.constantFrom(...fields(schema), 'extra'), value, {maxKeys: 12}), fc.record(Object.fromEntries(fields(schema).map((f) => [f, value])) as Record<string, fc.Arbitrary<unknown>>)), (data) => {
        const zodSays = schema.safeParse(data).success;
        if (zodSays) accepted++;
        return (checkEvent(type, data) === undefined) === zodSays;
      }),
      {numRuns: runs, ...(seed !== undefined ? {seed} : {})},
    );
  }
  t.log(`${all.length} types, ${accepted} accepted cases`);
  t.pass();
});
