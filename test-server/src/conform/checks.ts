/** Every conformance check, in the order they run: what later ones rely on comes first. */
import type {Check} from './check.js';
import {describeCheck, helloCheck, tokenCheck} from './checks/registration.js';
import {argumentsCheck, commandsCheck, deadlinesCheck} from './checks/commands.js';
import {eventsCheck, snapshotCheck} from './checks/events.js';
import {graceCheck, parentCheck, reconnectCheck} from './checks/lifecycle.js';
import {sigstopCheck, sigtermCheck} from './checks/signals.js';

export const CHECKS: readonly Check[] = [
  describeCheck,
  helloCheck,
  tokenCheck,
  commandsCheck,
  argumentsCheck,
  deadlinesCheck,
  eventsCheck,
  snapshotCheck,
  reconnectCheck,
  graceCheck,
  parentCheck,
  sigtermCheck,
  sigstopCheck,
];

export const CHECK_NAMES = CHECKS.map((c) => c.name);
