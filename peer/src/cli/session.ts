/**
 * Reads command lines, from a person at a prompt (completion and history) or
 * from a pipe (script mode, one command per line), and runs them through the
 * command registry. Output goes to stdout, errors to stderr; an error never
 * ends the session and never changes state. At the prompt, Ctrl-C stops the
 * line under way (a shell command, a script) and the peer stays; at an idle
 * prompt it ends the session, as end of input does.
 */
import readline from 'node:readline';
import {mkdir, readFile, appendFile} from 'node:fs/promises';
import path from 'node:path';
import type {Registry} from '@peerlab/client-agent';
import type {CommandCall} from '@peerlab/client-agent';
import {CommandError} from '@peerlab/client-agent';
import type {CommandContext, ScriptNesting} from '../commands.js';
import {anyFile} from '../file-access.js';
import {formatResult, parseCommandLine} from '../commands.js';
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

function printError(message: string): void {
  flushLogs();
  process.stderr.write(`error: ${message}\n`);
}

export class Session {
  failures = 0;
  #exiting = false;
  /** The line under way, for Ctrl-C to stop. */
  #current: AbortController | undefined;

  constructor(private readonly options: SessionOptions) {}

  /** Runs one line; errors are printed, counted and returned as false. */
  async runLine(line: string): Promise<boolean> {
    const current = new AbortController();
    this.#current = current;
    try {
      await this.#execute(line, undefined, {signal: current.signal});
      return true;
    } catch (error) {
      this.failures++;
      printError(error instanceof CommandError || error instanceof Error ? error.message : String(error));
      return false;
    } finally {
      this.#current = undefined;
    }
  }

  /**
   * Stops the line under way: a shell command is interrupted (and killed if it
   * ignores that), a script runs no further line. False when no line runs.
   */
  interrupt(): boolean {
    if (!this.#current) return false;
    this.#current.abort(new Error('interrupted (Ctrl-C)'));
    return true;
  }

  async #execute(line: string, script: ScriptNesting | undefined, call: CommandCall): Promise<void> {
    const {registry, peer} = this.options;
    const out = this.options.output ?? process.stdout;
    const parsed = parseCommandLine(registry, line);
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
      runLine: (inner, nested) => this.#execute(inner, nested, nested.call),
      warn: printError,
    };
    // Nothing gives up on a line at the prompt but the person, with Ctrl-C.
    const result = await parsed.command.run(parsed.args, ctx, call);
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
      // With a listener here readline no longer closes itself on Ctrl-C: an idle prompt closes it as before.
      rl.on('SIGINT', () => {
        if (this.interrupt()) (this.options.output ?? process.stdout).write('^C\n');
        else rl.close();
      });
      peer.chat.on('delivered', (m) => {
        if (m.sender === peer.membership.name) return;
        // While a line runs there is no prompt to redraw, and maybe half a line of its output.
        if (this.#current) {
          process.stdout.write(`<${m.sender}> ${printable(m.text)}\n`);
          return;
        }
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
