// Where the bootstrap state lives, as the operator names it: `memory`,
// `file:PATH` or a `postgres://` URL (from --store or PEERLAB_BOOTSTRAP_STORE).
// Passwords in those URLs never reach a message or a log line.

export type StoreSpec = { kind: 'memory' } | { kind: 'file'; file: string } | { kind: 'postgres'; url: string };

export const STORE_FORMS = 'file:PATH, postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE (or postgresql://) or memory';

/** A --store value that names no store; the message never contains a password. */
export class StoreSpecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreSpecError';
  }
}

export function parseStoreSpec(value: string): StoreSpec {
  const shown = JSON.stringify(redactUrl(value));
  if (value.trim() === '') throw new StoreSpecError(`expected ${STORE_FORMS}, got an empty value`);
  if (value === 'memory') return { kind: 'memory' };
  if (value.startsWith('file:')) {
    const file = value.slice('file:'.length);
    if (file.trim() === '') throw new StoreSpecError(`expected a path after "file:", got ${shown}`);
    return { kind: 'file', file };
  }
  if (/^postgres(?:ql)?:/i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new StoreSpecError(`not a valid URL: ${shown}; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`);
    }
    if (url.hostname === '' && !url.searchParams.has('host')) {
      throw new StoreSpecError(`no host in ${shown}; expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`);
    }
    return { kind: 'postgres', url: value };
  }
  throw new StoreSpecError(`expected ${STORE_FORMS}, got ${shown}`);
}

/**
 * The URL with its password (user-info or `password=` parameter) replaced by `***`;
 * anything that is not a URL is returned with any `user:secret@` masked the same way.
 */
export function redactUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return value.replace(/(\/\/[^/@:]*):[^@/]*@/, '$1:***@');
  }
  if (url.password !== '') url.password = '***';
  for (const key of [...url.searchParams.keys()]) {
    if (key.toLowerCase() === 'password') url.searchParams.set(key, '***');
  }
  return url.toString();
}

/** An error's message, including the parts of an AggregateError (a host with several addresses). */
export function describeError(error: unknown): string {
  if (error instanceof AggregateError && error.message === '') {
    return error.errors.map((inner: unknown) => describeError(inner)).join('; ');
  }
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
