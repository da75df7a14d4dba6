// Bundles the page into one classic script and one stylesheet: a report is opened
// from file://, where ES modules and fetch do not load, and it must work offline,
// so everything it draws with (Preact, uPlot, socket.io-client) travels inside app.js.
import {build} from 'esbuild';
import {mkdir, readFile, writeFile} from 'node:fs/promises';
import {dirname, join} from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const out = join(root, 'dist', 'page');
const require = createRequire(import.meta.url);

await mkdir(out, {recursive: true});
await build({
  entryPoints: [join(root, 'page', 'src', 'main.tsx')],
  outfile: join(out, 'app.js'),
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2020',
  // PEERLAB_PAGE_UNMINIFIED=1 keeps names readable in a profile.
  minify: !process.env.PEERLAB_PAGE_UNMINIFIED,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
  define: {'process.env.NODE_ENV': '"production"'},
});

const uplotCss = await readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
const ownCss = await readFile(join(root, 'page', 'src', 'style.css'), 'utf8');
await writeFile(join(out, 'app.css'), `${uplotCss}\n${ownCss}`);
