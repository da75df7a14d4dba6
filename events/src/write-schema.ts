/**
 * Writes docs/events.schema.json from the event contract (`npm run schema`).
 * A test compares the committed file with what this writes, so the two cannot drift.
 */
import {writeFile} from 'node:fs/promises';
import {fileURLToPath} from 'node:url';
import {eventsJsonSchema} from './contract.js';

export const schemaFile = fileURLToPath(new URL('../../../docs/events.schema.json', import.meta.url));

export function schemaText(): string {
  return JSON.stringify(eventsJsonSchema(), null, 2) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await writeFile(schemaFile, schemaText());
  console.log(`wrote ${schemaFile}`);
}
