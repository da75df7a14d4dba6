/**
 * The peer program: what the fleet runs for every peer, named in one of
 * three places (the `--peer` flag, a scenario's `peer:` key, the config
 * file's `peer:` key; the first given wins) or else the reference peer.
 * This module only describes and resolves it, without touching the file
 * system or running anything, so the scenario loader may use it.
 */
import path from 'node:path';
import {z} from 'zod';

/** The origin of the reference peer, the default program. */
export const REFERENCE_PEER = 'the reference peer';

export interface PeerProgram {
  /** The program and its own arguments; the fleet appends its flags (--name, --coordinator, ...). */
  readonly command: readonly string[];
  /** The folder it runs in, absolute; a program named by a relative path is found from here. */
  readonly cwd: string;
  /** Added to the coordinator's environment (the PEERLAB_ variables the fleet sets come on top). */
  readonly env: Readonly<Record<string, string>>;
  /** Where it was named, for messages: "--peer", a config file, a scenario file. */
  readonly origin: string;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The `peer:` key of a config file and of a scenario. */
export const peerProgramSchema = z
  .strictObject({
    command: z
      .array(z.string().min(1, 'expected a non-empty word'), {error: 'expected a list: the program, then its own arguments, e.g. [python3, peer.py]'})
      .min(1, 'expected at least the program')
      .describe('the program, then its own arguments, e.g. [python3, peer.py] or [./my-peer]; a name without a slash is looked up on PATH, a path is relative to cwd'),
    cwd: z.string({error: 'expected a folder'}).min(1, 'expected a folder').optional().describe('the folder the program runs in, relative to the file that names it (default: that file\'s folder)'),
    env: z
      .record(
        z
          .string()
          .regex(ENV_NAME, 'expected an environment variable name: letters, digits and _, not starting with a digit')
          .refine((key) => !key.startsWith('PEERLAB_'), 'PEERLAB_ variables are set by the fleet (the run token, the coordinator\'s pid)'),
        z.union([z.string(), z.number(), z.boolean()], {error: 'expected a string, a number or true/false'}),
      )
      .optional()
      .describe('environment variables added for the program'),
  })
  .describe('the peer program the fleet runs for every peer, instead of the reference peer');

export type PeerProgramInput = z.infer<typeof peerProgramSchema>;

/** A validated `peer:` value, its cwd resolved against the folder of the file that named it. */
export function peerProgram(input: PeerProgramInput, baseDir: string, origin: string): PeerProgram {
  return {
    command: [...input.command],
    cwd: path.resolve(baseDir, input.cwd ?? '.'),
    env: Object.fromEntries(Object.entries(input.env ?? {}).map(([key, value]) => [key, String(value)])),
    origin,
  };
}

/**
 * An issue's message; for a record key that fails its schema (an env name),
 * the key schema's own message, not zod's "Invalid key in record".
 */
export function issueMessage(issue: z.core.$ZodIssue): string {
  return issue.code === 'invalid_key' && issue.issues[0] ? issue.issues[0].message : issue.message;
}

/** The same program, named anywhere, gives the same key: one check, one --describe-commands. */
export function programKey(program: PeerProgram): string {
  return JSON.stringify([program.command, program.cwd, Object.entries(program.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);
}

/** The command as one might type it, for messages. */
export function commandText(command: readonly string[]): string {
  return command.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`)).join(' ');
}
