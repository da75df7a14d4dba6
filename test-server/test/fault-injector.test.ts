/**
 * The FaultInjector on a fake runner (no processes): the actions on one peer
 * happen in the order they were planned, whoever planned them, and a resumed
 * peer's network rules are cleared before those in force are applied again.
 */
import test from 'ava';
import type {Coordinator} from '../src/coordinator.js';
import {FaultInjector} from '../src/engine/faults.js';
import type {NetRule} from '../src/engine/fault-plan.js';

type State = 'running' | 'paused' | 'exited';

class FakeHost {
  state: State = 'running';
  readonly names: string[];
  #exit!: () => void;
  readonly exited = new Promise<void>((resolve) => (this.#exit = resolve));
  constructor(readonly name: string) {
    this.names = [name];
  }
  get alive(): boolean {
    return this.state !== 'exited';
  }
  kill(): void {
    this.state = 'exited';
    this.#exit();
  }
  async terminate(): Promise<void> {
    this.kill();
  }
  pause(): boolean {
    if (this.state !== 'running') return false;
    this.state = 'paused';
    return true;
  }
  resume(): boolean {
    if (this.state !== 'paused') return false;
    this.state = 'running';
    return true;
  }
}

function deferred(): {promise: Promise<void>; resolve: () => void} {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return {promise, resolve};
}

/** A runner of running peers whose restarts wait for `restartGate` between the old process's exit and the new one's start. */
function fakeRunner(names: string[], withoutNetCommands: readonly string[] = []) {
  const hosts = new Map(names.map((n) => [n, new FakeHost(n)]));
  let restartGate = Promise.resolve();
  const coordinator = {
    registerTimeoutMs: 1000,
    runner: {
      get: (name: string) => hosts.get(name),
      peers: () => [...hosts].map(([name, handle]) => ({name, handle})),
      async kill(name: string) {
        hosts.get(name)!.kill();
      },
      async terminate(name: string) {
        await hosts.get(name)!.terminate();
      },
      async pause(name: string) {
        hosts.get(name)!.pause();
      },
      async resume(name: string) {
        hosts.get(name)!.resume();
      },
      async restart(name: string) {
        const old = hosts.get(name)!;
        if (old.alive) old.kill();
        await restartGate;
        const fresh = new FakeHost(name);
        hosts.set(name, fresh);
        return fresh;
      },
    },
    hub: {
      isConnected: () => true,
      waitForRegistered: async () => {},
      // What each hello registered: the net-* commands, unless the peer leaves network faults to the kernel.
      get: (name: string) => ({commands: withoutNetCommands.includes(name) ? [{name: 'status', args: []}] : [{name: 'net-heal', args: []}]}),
    },
  };
  return {
    hosts,
    coordinator: coordinator as unknown as Coordinator,
    holdRestarts(gate: Promise<void>) {
      restartGate = gate;
    },
  };
}

test('a step kill that lands while a recovery restarts the peer waits for it, then kills the restarted process', async (t) => {
  const runner = fakeRunner(['alice', 'bob']);
  const records: unknown[] = [];
  const injector = new FaultInjector(runner.coordinator, (_type, data) => records.push(data), async () => ({ok: true}), () => []);
  const gate = deferred();
  runner.holdRestarts(gate.promise);
  // The nemesis's recovery, then a step's kill, planned in that order: the planner says bob is dead.
  const recovery = injector.apply([{kind: 'restart', peer: 'bob', record: {nemesis: 1}}]);
  const kill = injector.apply([{kind: 'kill', peer: 'bob', record: {}}]);
  await new Promise((resolve) => setImmediate(resolve));
  t.is(runner.hosts.get('bob')!.state, 'exited', 'the restart has killed the old process and waits for the new one');
  gate.resolve();
  t.deepEqual(await recovery, []);
  t.deepEqual(await kill, [], 'the kill found bob running: the restart was done first');
  t.is(runner.hosts.get('bob')!.state, 'exited', 'bob is down, as the planner says');
  t.deepEqual(records.filter((r) => (r as {kind?: string}).kind !== undefined && (r as {peer?: string}).peer === 'bob').map((r) => (r as {kind: string}).kind), ['restart', 'kill']);
});

test('actions on different peers do not wait for each other', async (t) => {
  const runner = fakeRunner(['alice', 'bob']);
  const injector = new FaultInjector(runner.coordinator, () => {}, async () => ({ok: true}), () => []);
  const gate = deferred();
  runner.holdRestarts(gate.promise);
  const restart = injector.apply([{kind: 'restart', peer: 'bob', record: {}}]);
  t.deepEqual(await injector.apply([{kind: 'pause', peer: 'alice', record: {}}]), []);
  t.is(runner.hosts.get('alice')!.state, 'paused');
  gate.resolve();
  t.deepEqual(await restart, []);
});

test('a resumed peer drops the network rules healed while it was paused, then gets those in force', async (t) => {
  const runner = fakeRunner(['alice', 'bob', 'charly']);
  const sent: string[] = [];
  let rules: NetRule[] = [{by: 'step', kind: 'cut', links: [['alice', 'charly'], ['charly', 'alice'], ['bob', 'charly'], ['charly', 'bob']]}];
  const injector = new FaultInjector(runner.coordinator, () => {}, async (peer, name, args) => (sent.push(`${peer} ${name} ${JSON.stringify(args)}`), {ok: true}), () => rules);
  t.deepEqual(await injector.apply([{kind: 'pause', peer: 'charly', record: {}}]), []);
  // The step's partition healed, a nemesis isolation of bob in force: charly, paused, heard neither.
  rules = [{by: 'nemesis', round: 1, kind: 'cut', links: [['bob', 'alice'], ['alice', 'bob'], ['bob', 'charly'], ['charly', 'bob']]}];
  sent.length = 0;
  t.deepEqual(await injector.apply([{kind: 'resume', peer: 'charly', record: {}}]), []);
  t.deepEqual(sent, ['charly net-heal {}', 'charly net-cut {"peers":["bob"],"direction":"out"}', 'charly net-cut {"peers":["bob"],"direction":"in"}']);
});

test('a resumed peer without net-heal (its network faults come from outside) is sent no net-* command', async (t) => {
  const runner = fakeRunner(['alice', 'charly'], ['charly']);
  const sent: string[] = [];
  const injector = new FaultInjector(runner.coordinator, () => {}, async (peer, name) => (sent.push(`${peer} ${name}`), {ok: true}), () => []);
  t.deepEqual(await injector.apply([{kind: 'pause', peer: 'charly', record: {}}]), []);
  t.deepEqual(await injector.apply([{kind: 'resume', peer: 'charly', record: {}}]), [], 'no problem: nothing to clear');
  t.is(runner.hosts.get('charly')!.state, 'running');
  t.deepEqual(sent, []);
});
