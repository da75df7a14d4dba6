/**
 * `peerlab run --runner kubernetes --dry-run`: the manifests each scenario's
 * run would create, as YAML, and nothing sent. The run id, the token and the
 * coordinator's mark are placeholders (made when a run starts; a token is
 * never printed).
 */
import {stringify} from 'yaml';
import type {Scenario} from '../../scenario/plan.js';
import {peerPod, runObjects} from './plan.js';
import type {ReadySettings} from './plan.js';

export const TOKEN_PLACEHOLDER = 'the-run-token';
/** The coordinator's host/pid, known only to a running coordinator. */
const MARK_PLACEHOLDER = 'coordinator-host/pid';

export function dryRunManifests(scenarios: readonly Scenario[], settings: ReadySettings): string {
  const out: string[] = [];
  scenarios.forEach((scenario, index) => {
    const runId = `dry-run-${index + 1}`;
    const options = {
      runId,
      // The address as given: without a port, a run adds its coordinator's.
      coordinatorUrl: settings.coordinatorAddress,
      token: TOKEN_PLACEHOLDER,
      bootstrapUrl: `${settings.coordinatorAddress}/bootstrap`,
      logDir: 'logs',
      dataDir: 'peers',
      profile: scenario.profile,
      ...(scenario.peer ? {peer: scenario.peer} : {}),
    };
    const objects = [...runObjects(options, MARK_PLACEHOLDER), ...scenario.peers.map((name) => peerPod(options, settings, name, 0, [], MARK_PLACEHOLDER))];
    out.push(`# ${scenario.name} (${scenario.file}): run id and token are placeholders, made when the run starts\n`);
    for (const object of objects) out.push(`---\n${stringify(object, {aliasDuplicateObjects: false})}`);
  });
  return out.join('');
}
