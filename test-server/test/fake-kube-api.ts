/**
 * A recording fake of the Kubernetes API server: a real HTTP server on
 * 127.0.0.1 that speaks just enough of the core/v1 API for the kubernetes
 * runner (create, get, list with labelSelector, delete, watch of pods, the
 * pod log) and keeps every request in order, so a test can check exactly
 * what the runner asked for. Pods live a fake life: Pending when created,
 * Running just after; deleted with gracePeriodSeconds 0 they fail with 137
 * (SIGKILL), deleted with a grace they succeed (the peer said goodbye), and
 * then are gone. No peer runs.
 */
import {createServer} from 'node:http';
import type {IncomingMessage, Server, ServerResponse} from 'node:http';
import type {AddressInfo} from 'node:net';
import {writeFile} from 'node:fs/promises';
import path from 'node:path';

type Obj = {apiVersion?: string; kind?: string; metadata: {name: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string; uid?: string; deletionTimestamp?: string; [k: string]: unknown}; status?: any; [k: string]: unknown};
type Plural = 'pods' | 'services' | 'secrets';
const KINDS: Record<Plural, string> = {pods: 'Pod', services: 'Service', secrets: 'Secret'};

interface Watcher {
  res: ServerResponse;
  selector: string | undefined;
}

export class FakeKubeApi {
  /** Every request, in order: "METHOD /path?query" with the query's keys sorted and resourceVersion left out (its value is the server's choice). */
  readonly requests: string[] = [];
  /** What was sent with each create, by "kind/name". */
  readonly bodies = new Map<string, Obj>();
  readonly #objects: Record<Plural, Map<string, Obj>> = {pods: new Map(), services: new Map(), secrets: new Map()};
  readonly #watchers = new Set<Watcher>();
  /** The next create of this plural is refused with this status, as an API server's RBAC or admission would. */
  refuseNext: {plural: Plural; code: number; reason: string; message: string} | undefined;
  #version = 1;
  #server: Server;
  url = '';

  constructor(readonly namespace = 'peerlab-test') {
    this.#server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => this.#handle(req, res, body));
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** A kubeconfig for this server (plain HTTP, which the client takes only with insecure-skip-tls-verify). */
  async kubeconfig(dir: string): Promise<string> {
    const file = path.join(dir, 'kubeconfig.yaml');
    await writeFile(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        '  - name: fake',
        '    cluster:',
        `      server: ${this.url}`,
        '      insecure-skip-tls-verify: true',
        'users:',
        '  - name: tester',
        '    user:',
        '      token: fake-bearer-token',
        'contexts:',
        '  - name: fake',
        '    context:',
        '      cluster: fake',
        '      user: tester',
        `      namespace: ${this.namespace}`,
        'current-context: fake',
        '',
      ].join('\n'),
    );
    return file;
  }

  names(plural: Plural): string[] {
    return [...this.#objects[plural].keys()].sort();
  }

  get(plural: Plural, name: string): Obj | undefined {
    return this.#objects[plural].get(name);
  }

  /** Ends every watch stream, as an API server does at its timeout or on a restart. */
  dropWatches(): void {
    for (const w of this.#watchers) w.res.end();
    this.#watchers.clear();
  }

  /** The peer in this pod exits by itself with this code: the pod fails (or succeeds on 0) and stays, as restartPolicy Never keeps it. */
  exitPod(name: string, exitCode: number): void {
    const pod = this.#objects.pods.get(name);
    if (!pod) throw new Error(`no pod ${name}`);
    this.#terminate(pod, exitCode);
  }

  #bump(obj: Obj): void {
    obj.metadata.resourceVersion = String(++this.#version);
  }

  #emit(type: string, plural: Plural, obj: Obj): void {
    if (plural !== 'pods') return;
    for (const w of this.#watchers) if (matches(obj, w.selector)) w.res.write(JSON.stringify({type, object: obj}) + '\n');
  }

  #terminate(pod: Obj, exitCode: number): void {
    pod.status = {
      phase: exitCode === 0 ? 'Succeeded' : 'Failed',
      containerStatuses: [{name: 'peer', ready: false, restartCount: 0, image: 'x', imageID: '', state: {terminated: {exitCode, reason: exitCode === 0 ? 'Completed' : 'Error'}}}],
    };
    this.#bump(pod);
    this.#emit('MODIFIED', 'pods', pod);
  }

  #handle(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = [...url.searchParams].filter(([k]) => k !== 'resourceVersion').sort(([a], [b]) => a.localeCompare(b));
    this.requests.push(`${req.method} ${url.pathname}${query.length > 0 ? '?' + query.map(([k, v]) => `${k}=${v}`).join('&') : ''}`);
    const send = (code: number, value: unknown, type = 'application/json'): void => {
      res.writeHead(code, {'content-type': type});
      res.end(typeof value === 'string' ? value : JSON.stringify(value));
    };
    const status = (code: number, reason: string, message: string): void => send(code, {kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, message, code});
    if (req.headers.authorization !== 'Bearer fake-bearer-token') return status(401, 'Unauthorized', 'no bearer token');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|services|secrets)(?:\/([^/]+))?(\/log)?$/.exec(url.pathname);
    if (!m || m[1] !== this.namespace) return status(404, 'NotFound', `the fake serves only namespace ${this.namespace}'s pods, services and secrets`);
    const plural = m[2] as Plural;
    const name = m[3];
    const store = this.#objects[plural];
    const selector = url.searchParams.get('labelSelector') ?? undefined;

    if (req.method === 'POST' && !name && this.refuseNext?.plural === plural) {
      const {code, reason, message} = this.refuseNext;
      this.refuseNext = undefined;
      return status(code, reason, message);
    }
    if (req.method === 'POST' && !name) {
      const obj = JSON.parse(body) as Obj;
      if (obj.kind !== KINDS[plural]) return status(400, 'BadRequest', `expected a ${KINDS[plural]}`);
      if (store.has(obj.metadata.name)) return status(409, 'AlreadyExists', `${plural} "${obj.metadata.name}" already exists`);
      this.bodies.set(`${obj.kind}/${obj.metadata.name}`, structuredClone(obj));
      obj.metadata.namespace = this.namespace;
      obj.metadata.uid = `uid-${this.#version}`;
      if (plural === 'secrets' && obj['stringData']) {
        obj['data'] = Object.fromEntries(Object.entries(obj['stringData'] as Record<string, string>).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
        delete obj['stringData'];
      }
      if (plural === 'pods') obj.status = {phase: 'Pending'};
      this.#bump(obj);
      store.set(obj.metadata.name, obj);
      this.#emit('ADDED', plural, obj);
      if (plural === 'pods') {
        setImmediate(() => {
          if (store.get(obj.metadata.name) !== obj || obj.status.phase !== 'Pending') return;
          obj.status = {phase: 'Running', podIP: '10.1.0.' + (store.size + 1), containerStatuses: [{name: 'peer', ready: true, restartCount: 0, image: 'x', imageID: '', state: {running: {startedAt: new Date().toISOString()}}}]};
          this.#bump(obj);
          this.#emit('MODIFIED', plural, obj);
        });
      }
      return send(201, obj);
    }
    if (req.method === 'GET' && !name && url.searchParams.get('watch') === 'true') {
      res.writeHead(200, {'content-type': 'application/json', 'transfer-encoding': 'chunked'});
      res.flushHeaders();
      const w = {res, selector};
      this.#watchers.add(w);
      res.on('close', () => this.#watchers.delete(w));
      return;
    }
    if (req.method === 'GET' && !name) {
      const items = [...store.values()].filter((o) => matches(o, selector));
      return send(200, {kind: `${KINDS[plural]}List`, apiVersion: 'v1', metadata: {resourceVersion: String(this.#version)}, items});
    }
    const obj = name ? store.get(name) : undefined;
    if (!obj) return status(404, 'NotFound', `${plural} "${name}" not found`);
    if (req.method === 'GET' && m[4]) return send(200, `log of ${name}\n`, 'text/plain');
    if (req.method === 'GET') return send(200, obj);
    if (req.method === 'DELETE') {
      if (plural !== 'pods') {
        store.delete(name!);
        return send(200, obj);
      }
      const grace = Number(url.searchParams.get('gracePeriodSeconds') ?? (obj as any).spec?.terminationGracePeriodSeconds ?? 30);
      obj.metadata.deletionTimestamp = new Date().toISOString();
      this.#bump(obj);
      this.#emit('MODIFIED', plural, obj);
      setImmediate(() => {
        if (store.get(name!) !== obj) return;
        if (obj.status.phase === 'Running' || obj.status.phase === 'Pending') this.#terminate(obj, grace === 0 ? 137 : 0);
        store.delete(name!);
        this.#bump(obj);
        this.#emit('DELETED', plural, obj);
      });
      return send(200, obj);
    }
    return status(405, 'MethodNotAllowed', `${req.method} is not served by the fake`);
  }
}

/** "a=b,c" (equality and existence: all the runner uses). */
function matches(obj: Obj, selector: string | undefined): boolean {
  if (!selector) return true;
  const labels = obj.metadata.labels ?? {};
  return selector.split(',').every((term) => {
    const eq = term.indexOf('=');
    return eq < 0 ? term in labels : labels[term.slice(0, eq)] === term.slice(eq + 1);
  });
}
