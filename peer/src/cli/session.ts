/**
 * Reads command lines, from a person at a prompt (completion and history) or
 * from a pipe (script mode, one command per line), and runs them through the
 * command registry. Output goes to stdout, errors to stderr; an error never
 * ends the session and never changes state.
 */
import readline from 'node:readline';
import {mkdir, readFile, appendFile} from 'node:fs/promises';
import path from 'node:path';
import type {Registry} from '@peerlab/client-agent';
import {CommandError, uncancelled} from '@peerlab/client-agent';
import type {CommandContext, ScriptNesting} from '../commands.js';
import {anyFile} from '../file-access.js';
import {formatResult} from '../commands.js';
import type {Peer} from '../peer.js';
import {flushLogs, printable} from '../log.js';

export interface SessionOptions {
  peer: Peer;
  registry: Registry<CommandContext>;
  interactive: boolean;
  historyFile?: string | undefined;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  onExit(code: number): void;
}

export function completer(registry: Registry<CommandContext>, line: string): [string[], string] {
  const words = line.split(/\s+/);
  if (words.length <= 1) {
    const hits = registry.list().map((c) => c.name).filter((n) => n.startsWith(line));
    return [hits.length > 0 ? hits.map((h) => h + ' ') : [], line];
  }
  const command = registry.get(words[0]!);
  const current = words[words.length - 1]!;
  if (!command) return [[], current];
  const candidates = [
    ...(command.name === 'help' ? registry.list().map((c) => c.name) : []),
    ...command.args.filter((a) => a.flag).map((a) => `--${a.name}`),
    ...command.args.filter((a) => !a.flag && a.values).flatMap((a) => a.values!),
  ];
  return [candidates.filter((c) => c.startsWith(current)), current];
}

export class Session {
  failures = 0;
  #exiting = false;

  constructor(private readonly options: SessionOptions) {}

  /** Runs one line; errors are printed, counted and returned as false. */
  async runLine(line: string): Promise<boolean> {
    try {
      await this.#execute(line, undefined);
      return true;
    } catch (error) {
      this.failures++;
      const message = error instanceof CommandError || error instanceof Error ? error.message : String(error);
      flushLogs();
      process.stderr.write(`error: ${message}\n`);
      return false;
    }
  }

  async #execute(line: string, script: ScriptNesting | undefined): Promise<void> {
    const {registry, peer} = this.options;
    const out = this.options.output ?? process.stdout;
    const parsed = registry.parseLine(line);
    if (!parsed) return;
    const ctx: CommandContext = {
      peer,
      script,
      // A person at their own terminal reaches what they could open themselves.
      files: anyFile,
      exit: (code) => {
        this.#exiting = true;
        this.options.onExit(code);
      },
      runLine: (inner, nested) => this.#execute(inner, nested),
    };
    // A person at the prompt waits for every command; nothing gives up on it.
    const result = await parsed.command.run(parsed.args, ctx, script?.call ?? uncancelled);
    const text = formatResult(registry, parsed.command.name, result, parsed.args);
    if (text !== '') out.write(text + '\n');
  }

  /** Reads until end of input; in script mode commands run strictly one after another. */
  async run(): Promise<void> {
    const {registry, interactive, peer} = this.options;
    const input = this.options.input ?? process.stdin;
    const history = interactive ? await loadHistory(this.options.historyFile) : [];
    const rl = readline.createInterface({
      input,
      output: interactive ? (this.options.output ?? process.stdout) : undefined,
      terminal: interactive,
      completer: interactive ? (line: string) => completer(registry, line) : undefined,
      history,
      historySize: 1000,
      prompt: `${peer.membership.name}> `,
    } as readline.ReadLineOptions);
    if (interactive) {
      peer.chat.on('delivered', (m) => {
        if (m.sender === peer.membership.name) return;
        readline.clearLine(process.stdout, 0);
        readline.cursorTo(process.stdout, 0);
        const reply = m.replyTo !== undefined ? `(re ${printable(m.replyTo)}) ` : '';
        process.stdout.write(`<${m.sender}> ${reply}${printable(m.text)}\n`);
        rl.prompt(true);
      });
      rl.prompt();
    }
    for await (const line of rl) {
      if (interactive && line.trim() !== '' && this.options.historyFile) {
        await appendFile(this.options.historyFile, line + '\n').catch(() => {});
      }
      await this.runLine(line);
      if (this.#exiting) break;
      if (interactive) rl.prompt();
    }
    rl.close();
  }
}

async function loadHistory(file: string | undefined): Promise<string[]> {
  if (!file) return [];
  await mkdir(path.dirname(file), {recursive: true}).catch(() => {});
  try {
    // readline wants the newest entry first.
    return (await readFile(file, 'utf8')).split('\n').filter(Boolean).slice(-1000).reverse();
  } catch {
    return [];
  }
}
