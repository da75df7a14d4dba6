import {InvalidArgumentError} from 'commander';

/**
 * What a token given on the command line or in the environment must be, for
 * every server that takes one (`peerlab up`, `peerlab-bootstrap`). A token
 * guards a server that listens beyond loopback: whoever has it can drive
 * every peer, or tell joining peers whom to contact. 16 characters of 94
 * possible are over 100 bits, out of reach of guessing over the network;
 * shorter ones are a password someone typed. It travels in an HTTP header,
 * so visible ASCII only.
 */
export const MIN_TOKEN_LENGTH = 16;
export const MAX_TOKEN_LENGTH = 256;

/** Why `value` is not a usable token, or undefined if it is. */
export function tokenProblem(value: string): string | undefined {
  if (value.length < MIN_TOKEN_LENGTH) return `expected at least ${MIN_TOKEN_LENGTH} characters, got ${value.length}: a short token can be guessed (leave it out to have one generated)`;
  if (value.length > MAX_TOKEN_LENGTH) return `expected at most ${MAX_TOKEN_LENGTH} characters, got ${value.length}`;
  if (!/^[\x21-\x7e]+$/.test(value)) return 'expected visible ASCII characters only (it is sent in an HTTP header)';
  return undefined;
}

/** The same check as a commander argument parser: a bad token is a usage error naming the flag (exit 2). */
export function tokenArgument(value: string): string {
  const problem = tokenProblem(value);
  if (problem !== undefined) throw new InvalidArgumentError(problem);
  return value;
}
