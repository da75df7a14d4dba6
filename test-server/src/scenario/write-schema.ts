/** Writes scenarios/schema.json from the zod schema (`npm run schema`); a test keeps the two in step. */
import {writeFile} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {jsonSchema} from './schema.js';

export const schemaFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../scenarios/schema.json');

export function schemaText(): string {
  return JSON.stringify(jsonSchema(), null, 2) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(schemaFile, schemaText());
  process.stdout.write(`wrote ${schemaFile}\n`);
}
