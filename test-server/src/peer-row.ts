/**
 * One peer as the REST API and the console's table show it: its process (the
 * runner), its agent (the hub) and what it has seen (the views). Beside the
 * coordinator rather than in either front end, so both use it and neither
 * imports the other.
 */
import type {Runner} from './runners/runner.js';
import type {Hub} from './hub/hub.js';
import type {PeerViews} from './hub/peer-views.js';

/** Where a peer's row comes from; the coordinator has all three. */
export interface PeerSources {
  readonly runner: Runner;
  readonly hub: Hub;
  readonly views: PeerViews;
}

export function peerRow(run: PeerSources, name: string) {
  const host = run.runner.get(name)!;
  const agent = run.hub.get(name);
  const view = run.views.get(name);
  return {
    name,
    pid: host.pid ?? null,
    state: host.state,
    registered: agent !== undefined,
    address: agent?.address ?? null,
    membersSeen: run.views.liveCount(name),
    messages: view?.delivered ?? 0,
    exit: host.exit ?? null,
  };
}
