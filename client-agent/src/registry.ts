/**
 * The command registry a peer fills with its own commands. The peer's
 * interactive CLI and the coordinator's agent both execute commands through
 * it, so a command typed at a prompt and one sent by a scenario run the same
 * handler with the same validation.
 *
 * Argument schemas are plain JSON (not functions or classes) because the agent
 * sends them to the coordinator in `hello`, and a peer written in another
 * language must be able to produce the same shape.
 */

export type ArgType = 'string' | 'integer' | 'number' | 'boolean' | 'enum';

export interface ArgSpec {
  readonly name: string;
  readonly type: ArgType;
  readonly description: string;
  /** A flag is given as `--name` (boolean) or `--name value`; otherwise the argument is positional. */
  readonly flag?: boolean;
  readonly required?: boolean;
  /** The last positional may take the rest of the line (e.g. the text of `send`). */
  readonly rest?: boolean;
  /** A repeatable positional collects every remaining word into an array. */
  readonly repeatable?: boolean;
  readonly values?: readonly string[];
}

export type ArgValue = string | number | boolean | string[];
export type Args = Record<string, ArgValue | undefined>;

export interface CommandSpec {
  readonly name: string;
  readonly group: string;
  readonly summary: string;
  readonly args: readonly ArgSpec[];
}

/** What whoever runs one command tells its handler, beside the arguments and the context. */
export interface CommandCall {
  /**
   * Aborted once nobody waits for the result any more: the agent aborts it when
   * the coordinator's deadline passes or the connection goes. A handler that
   * runs long (a script) checks it and stops; a quick one may ignore it.
   */
  readonly signal: AbortSignal;
  /**
   * When the coordinator stops waiting (epoch ms), and what the signal will say then.
   * The signal fires from a timer, late on a busy event loop; a handler that checks
   * the clock as well stops at the deadline itself.
   */
  readonly deadline?: {readonly at: number; readonly message: string};
}

/** For callers with no way to give up on a command (a prompt, a test). */
export const uncancelled: CommandCall = {signal: new AbortController().signal};

export interface Command<Ctx> extends CommandSpec {
  /** Handlers written as `(args, ctx)` still fit: the call is a third parameter, not part of Ctx. */
  run(args: Args, ctx: Ctx, call: CommandCall): unknown | Promise<unknown>;
  /** Human-readable rendering of the result for the CLI; JSON is used otherwise. */
  format?(result: unknown, args: Args): string;
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly code: 'unknown-command' | 'bad-arguments' | 'failed' | 'timeout' = 'failed',
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export class Registry<Ctx> {
  readonly #commands = new Map<string, Command<Ctx>>();
  readonly #withheld = new Map<string, string>();

  add(command: Command<Ctx>): this {
    if (this.#commands.has(command.name)) throw new Error(`command ${command.name} is registered twice`);
    if (this.#withheld.has(command.name)) throw new Error(`command ${command.name} is withheld from this registry`);
    const positionals = command.args.filter((a) => !a.flag);
    positionals.forEach((a, i) => {
      if ((a.rest || a.repeatable) && i !== positionals.length - 1) {
        throw new Error(`command ${command.name}: only the last positional may be rest or repeatable`);
      }
    });
    this.#commands.set(command.name, command);
    return this;
  }

  /**
   * Names a command this registry deliberately does not have (one that exists
   * elsewhere, such as at a peer's own prompt only), with the reason: whoever
   * asks for it by name is refused with that reason rather than a guess at a
   * typo. A withheld name is in no list and no spec, and cannot be added.
   */
  withhold(name: string, reason: string): this {
    if (this.#commands.has(name)) throw new Error(`command ${name} is registered, so it cannot be withheld`);
    this.#withheld.set(name, reason);
    return this;
  }

  get(name: string): Command<Ctx> | undefined {
    return this.#commands.get(name);
  }

  /** The command by that name, or the error for a name this registry does not run: withheld (with its reason) or unknown. */
  resolve(name: string): Command<Ctx> {
    const command = this.#commands.get(name);
    if (command) return command;
    const reason = this.#withheld.get(name);
    throw new CommandError(reason !== undefined ? `${name}: ${reason}` : unknownCommandMessage(name, this.list()), 'unknown-command');
  }

  list(): Command<Ctx>[] {
    return [...this.#commands.values()];
  }

  /** Plain JSON description of every command, as sent in the agent's `hello`. */
  specs(): CommandSpec[] {
    return this.list().map(({name, group, summary, args}) => ({name, group, summary, args}));
  }

  /** Validates structured arguments (from the agent) and runs the command. */
  async execute(name: string, rawArgs: unknown, ctx: Ctx, call: CommandCall = uncancelled): Promise<unknown> {
    const command = this.resolve(name);
    const args = validateArgs(command, rawArgs ?? {});
    return command.run(args, ctx, call);
  }

  /** The command's own rendering of a result, if it has one; a `json` flag asks for the data instead. */
  format(name: string, result: unknown, args: Record<string, unknown>): string | undefined {
    const command = this.#commands.get(name);
    if (!command?.format || args.json === true) return undefined;
    try {
      return command.format(result, args as Args);
    } catch {
      return undefined;
    }
  }

  /** Parses one command line (from the prompt or a script) into a name and validated arguments. */
  parseLine(line: string): {command: Command<Ctx>; args: Args} | undefined {
    const words = splitWords(line);
    const [name, ...rest] = words;
    if (name === undefined) return undefined;
    const command = this.resolve(name);
    return {command, args: parseWords(command, rest)};
  }
}

function unknownCommandMessage(name: string, commands: readonly CommandSpec[]): string {
  const near = commands.map((c) => c.name).filter((n) => n.startsWith(name.slice(0, 2)) || name.startsWith(n));
  const hint = near.length > 0 ? ` Did you mean: ${near.join(', ')}?` : '';
  return `unknown command "${name}".${hint} Type "help" for the list.`;
}

/** Splits a line into words; single or double quotes group words, backslash escapes. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\\' && i + 1 < line.length) {
      current += line[++i];
      inWord = true;
    } else if (quote) {
      if (ch === quote) quote = undefined;
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (quote) throw new CommandError(`unterminated ${quote} quote`, 'bad-arguments');
  if (inWord) words.push(current);
  return words;
}

/** Parses the words after a command's name against its schema; the coordinator uses it with the specs from `hello`. */
export function parseWords(command: CommandSpec, words: string[]): Args {
  const raw: Record<string, unknown> = {};
  const positionals = command.args.filter((a) => !a.flag);
  const flags = new Map(command.args.filter((a) => a.flag).map((a) => [a.name, a]));
  let p = 0;
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word.startsWith('--') && word.length > 2) {
      const [flagName, inline] = word.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
      const spec = flags.get(flagName);
      if (!spec) throw new CommandError(`${command.name}: unknown option --${flagName}. ${usage(command)}`, 'bad-arguments');
      if (spec.type === 'boolean' && inline === undefined) raw[flagName] = true;
      else {
        const value = inline ?? words[++i];
        if (value === undefined) throw new CommandError(`${command.name}: --${flagName} needs a value. ${usage(command)}`, 'bad-arguments');
        raw[flagName] = value;
      }
      continue;
    }
    const spec = positionals[p];
    if (!spec) throw new CommandError(`${command.name}: unexpected argument "${word}". ${usage(command)}`, 'bad-arguments');
    if (spec.rest) {
      raw[spec.name] = words.slice(i).join(' ');
      break;
    }
    if (spec.repeatable) {
      raw[spec.name] = [...((raw[spec.name] as string[] | undefined) ?? []), word];
      continue;
    }
    raw[spec.name] = word;
    p++;
  }
  return validateArgs(command, raw, true);
}

export function usage(command: CommandSpec): string {
  const parts = command.args.map((a) => {
    const label = a.flag
      ? a.type === 'boolean' ? `--${a.name}` : `--${a.name} <${a.values ? a.values.join('|') : a.type}>`
      : a.rest ? `<${a.name}...>` : a.repeatable ? `<${a.name}>...` : `<${a.values ? a.values.join('|') : a.name}>`;
    return a.required ? label : `[${label}]`;
  });
  return `Usage: ${[command.name, ...parts].join(' ')}`;
}

/**
 * Checks arguments against the command's schema and converts words to typed values.
 * `fromText` allows string forms of numbers and booleans, as typed at a prompt.
 */
export function validateArgs(command: CommandSpec, raw: unknown, fromText = false): Args {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CommandError(`${command.name}: arguments must be an object of named values`, 'bad-arguments');
  }
  const input = raw as Record<string, unknown>;
  const known = new Set(command.args.map((a) => a.name));
  for (const key of Object.keys(input)) {
    if (!known.has(key)) {
      throw new CommandError(`${command.name}: unknown argument "${key}". ${usage(command)}`, 'bad-arguments');
    }
  }
  const out: Args = {};
  for (const spec of command.args) {
    const value = input[spec.name];
    if (value === undefined) {
      if (spec.required) throw new CommandError(`${command.name}: missing <${spec.name}>. ${usage(command)}`, 'bad-arguments');
      continue;
    }
    out[spec.name] = coerce(command.name, spec, value, fromText);
  }
  return out;
}

function coerce(commandName: string, spec: ArgSpec, value: unknown, fromText: boolean): ArgValue {
  const fail = (expected: string): never => {
    throw new CommandError(`${commandName}: ${spec.name} must be ${expected}, got ${JSON.stringify(value)}`, 'bad-arguments');
  };
  if (spec.repeatable) {
    const list = Array.isArray(value) ? value : [value];
    if (!list.every((v) => typeof v === 'string')) fail('a list of strings');
    if (spec.required && list.length === 0) fail('at least one value');
    return list as string[];
  }
  switch (spec.type) {
    case 'string':
      if (typeof value !== 'string') fail('a string');
      if (spec.required && (value as string).length === 0) fail('a non-empty string');
      return value as string;
    case 'enum':
      if (typeof value !== 'string' || !spec.values?.includes(value)) fail(`one of ${spec.values?.join(', ')}`);
      return value as string;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (fromText && (value === 'true' || value === 'false')) return value === 'true';
      return fail('true or false');
    case 'integer':
    case 'number': {
      const n = typeof value === 'number' ? value : fromText && typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(n) || (spec.type === 'integer' && !Number.isInteger(n))) fail(`${spec.type === 'integer' ? 'an integer' : 'a number'}`);
      return n;
    }
  }
}
