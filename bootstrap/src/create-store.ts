// Builds the backend a --store value names. Apart from store-spec.ts because it
// knows every backend, and the backends use store-spec.ts's password masking.

import { BootstrapStore } from './store.js';
import type { PeerStore } from './store.js';
import type { StoreSpec } from './store-spec.js';

/** A store for `spec`, not yet loaded; only a postgres spec loads the database client. */
export async function createStore(spec: StoreSpec, options: { maxpeers?: number } = {}): Promise<PeerStore> {
  if (spec.kind === 'postgres') {
    const { PostgresStore } = await import('./postgres-store.js');
    return new PostgresStore({ url: spec.url, maxpeers: options.maxpeers });
  }
  return new BootstrapStore({ file: spec.kind === 'file' ? spec.file : undefined, maxpeers: options.maxpeers });
}
