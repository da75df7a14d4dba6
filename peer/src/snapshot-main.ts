/**
 * The entry of the peer's V8 startup snapshot (build-snapshot.mjs). A
 * coordinator starts peers by the hundred, and each start used to spend most
 * of its CPU compiling and running the bundle's module code before it said
 * hello; from the snapshot that state is deserialized, already built, and
 * only main() runs. Built-in modules are left to load at run time (see
 * build-snapshot.mjs), so no socket, timer or handle is in the snapshot.
 */
import v8 from 'node:v8';
import {main} from './cli/main.js';

v8.startupSnapshot.setDeserializeMainFunction(() => {
  // As main.js's top-level await does: a failure ends the process with the error.
  main(process.argv).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
});
