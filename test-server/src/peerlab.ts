import {main} from './cli/main.js';

try {
  await main(process.argv);
} catch (error) {
  process.stderr.write(`peerlab: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
