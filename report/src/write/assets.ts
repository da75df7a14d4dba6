/**
 * Where the page's bundle is: `dist/page/app.js` and `app.css` of this
 * package, next to this module's own `dist/src/write/`. The static report
 * copies them; the live view serves them.
 */
import {access} from 'node:fs/promises';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const pageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../page');

export const pageAssets = {
  dir: pageDir,
  js: path.join(pageDir, 'app.js'),
  css: path.join(pageDir, 'app.css'),
} as const;

/** Undefined when the bundle is there; else why not, in words a user can act on. */
export async function pageAssetsProblem(): Promise<string | undefined> {
  for (const file of [pageAssets.js, pageAssets.css]) {
    try {
      await access(file);
    } catch {
      return `the report page is not built (${file} is missing): run npm run build`;
    }
  }
  return undefined;
}
