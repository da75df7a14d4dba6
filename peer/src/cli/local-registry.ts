/**
 * The commands of the peer's own prompt: every command the agent offers, and
 * the shell, which only this registry has. The agent builds its registry from
 * createRegistry() alone, so no path from the coordinator leads to a shell.
 */
import type {Registry} from '@peerlab/client-agent';
import type {CommandContext} from '../commands.js';
import {createRegistry} from '../commands.js';
import {shellCommand} from './shell.js';

export function createLocalRegistry(): Registry<CommandContext> {
  return createRegistry().add(shellCommand());
}
