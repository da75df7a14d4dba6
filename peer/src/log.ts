/**
 * A small levelled logger with component filters, driven at run time by the
 * CLI's `log-level` and `log-filter` commands. Lines go to stderr so that
 * stdout carries only command output, which scripts and tests parse.
 */
export const levels = ['error', 'warn', 'info', 'debug', 'trace'] as const;
export type Level = (typeof levels)[number];
export const components = ['swim', 'transport', 'chat', 'bootstrap', 'cli', 'agent'] as const;
export type Component = (typeof components)[number];

/**
 * Control characters (C0, DEL, C1) and the Unicode line and paragraph
 * separators, which a terminal or a log reader would act on: escape
 * sequences recolour or rewrite the screen, and a newline forges a log line.
 */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;
const NAMED: Record<string, string> = {'\n': '\\n', '\r': '\\r', '\t': '\\t'};

/**
 * Text from others made safe to print: control characters become visible
 * escapes (`\n`, `\x1b`, `\u2028`). For display only; messages themselves
 * (history, events, `--json`) keep their text as sent.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => NAMED[c] ?? (c.charCodeAt(0) <= 0xff ? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}` : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

export function isLevel(value: string): value is Level {
  return (levels as readonly string[]).includes(value);
}

export function isComponent(value: string): value is Component {
  return (components as readonly string[]).includes(value);
}

/**
 * Lines for stderr, gathered and written once per turn of the event loop: a
 * pipe is written synchronously on Linux, and a peer joining a group of N logs
 * N lines at once, so line-by-line writes cost a system call each (and wake
 * the coordinator reading the pipe as often). Whatever is pending is written
 * when the process exits (a SIGKILL loses at most the current turn's lines).
 */
const pending: string[] = [];
let scheduled = false;

/** Writes whatever log lines are pending, so output written next comes after them. */
export function flushLogs(): void {
  scheduled = false;
  if (pending.length === 0) return;
  const text = pending.join('');
  pending.length = 0;
  process.stderr.write(text);
}

export function writeStderrLine(line: string): void {
  // A person at a terminal reads lines as they happen, between prompts: no batching there.
  if (process.stderr.isTTY) {
    process.stderr.write(line + '\n');
    return;
  }
  pending.push(line + '\n');
  if (scheduled) return;
  scheduled = true;
  setImmediate(flushLogs);
}

process.on('exit', flushLogs);

let stampedAt = NaN;
let stamp = '';

/**
 * The wall-clock time of day to the millisecond, formatted once per millisecond: a forming group logs
 * every member it hears of, tens of lines in the same millisecond, and the formatting was half a line's cost.
 */
function clockTime(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = new Date(now).toISOString().slice(11, 23);
  }
  return stamp;
}

export class Logger {
  level: Level = 'info';
  /** When not empty, only these components are logged (errors always are). */
  filter = new Set<Component>();

  constructor(
    private readonly name: string,
    private readonly write: (line: string) => void = writeStderrLine,
  ) {}

  enabled(level: Level, component: Component): boolean {
    if (levels.indexOf(level) > levels.indexOf(this.level)) return false;
    return level === 'error' || this.filter.size === 0 || this.filter.has(component);
  }

  log(level: Level, component: Component, message: string): void {
    if (!this.enabled(level, component)) return;
    this.write(`${clockTime()} ${this.name} ${component} ${level}: ${printable(message)}`);
  }

  error(component: Component, message: string): void {
    this.log('error', component, message);
  }
  warn(component: Component, message: string): void {
    this.log('warn', component, message);
  }
  info(component: Component, message: string): void {
    this.log('info', component, message);
  }
  debug(component: Component, message: string): void {
    this.log('debug', component, message);
  }
}
