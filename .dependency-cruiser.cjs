/**
 * Which way the imports go, checked by dependency-cruiser in the test
 * test-server/test/import-rules.test.ts (part of `npm test`) twice: over the
 * built JS (each package's dist/src, what actually loads at run time) and
 * over the sources transpiled with every import kept, `import type` included
 * (the built JS has none: a dependency on another module's types is still a
 * dependency, and a cycle of types is still a cycle). `npm run lint:imports`
 * runs that test alone. Paths are relative to the repository
 * root as built (<package>/dist/src/...); each workspace package is the folder
 * of the same name.
 *
 * Every rule has a case in the test's fixture that must break it, so a rule
 * that can no longer fire (a renamed folder, a mistyped path) fails the test.
 */

/** Our packages, as folders. */
const OURS = '^(events|node-kit|client-agent|checkers|report|peer|bootstrap|test-server|bench)/';
/** Anything outside the repository's own packages: what npm installed. */
const NPM = '^node_modules/';

module.exports = {
  forbidden: [
    {
      name: 'peer-imports-only-agent-events-kit',
      comment:
        'The peer is the system under test and a stand-in for peers in other languages: it reaches the ' +
        'coordinator only through its client agent, and the bootstrap service only over HTTP. It may use ' +
        'the agent library, the event contract and the shared Node helpers; never the coordinator, the ' +
        'checkers (the judge must not be part of what it judges) or the bootstrap service.',
      severity: 'error',
      from: {path: '^peer/'},
      to: {path: OURS, pathNot: '^(peer|client-agent|events|node-kit)/'},
    },
    {
      name: 'client-agent-imports-only-events',
      comment:
        'The agent is the library any peer embeds: it knows the protocol and the event contract, nothing ' +
        'of chat, SWIM or the coordinator, and depends on nothing but socket.io-client, so embedding it ' +
        'drags in nothing else.',
      severity: 'error',
      from: {path: '^client-agent/'},
      to: {path: `${OURS}|${NPM}`, pathNot: '^(client-agent|events)/|^node_modules/(socket\\.io-client|engine\\.io-client|socket\\.io-parser)/'},
    },
    {
      name: 'checkers-import-only-events',
      comment:
        'Checkers are pure functions of a history: they must run anywhere a history file is (peerlab check, ' +
        'another CI, a notebook) and install without a server. So nothing of ours but the event contract, ' +
        'no npm package at all (no express, socket.io, execa), and no Node module that starts processes or ' +
        'opens sockets.',
      severity: 'error',
      from: {path: '^checkers/'},
      to: {
        path: `${OURS}|${NPM}|^(node:)?(child_process|net|http|https|http2|dgram|cluster|worker_threads|tls)$`,
        pathNot: '^(checkers|events)/',
      },
    },
    {
      name: 'report-data-is-pure',
      comment:
        "The report's data is computed from a history with the checkers' own code, so a picture never " +
        'contradicts a verdict: report/src/data imports the checkers and the event contract, nothing else ' +
        'of ours, no npm package, and no Node module that reads or writes files, starts processes or opens ' +
        'sockets. It is a function of the history; writing it out and serving it live are done elsewhere.',
      severity: 'error',
      from: {path: '^report/dist/src/data/'},
      to: {
        path: `${OURS}|${NPM}|^(node:)?(fs|fs/promises|child_process|net|http|https|http2|dgram|cluster|worker_threads|tls)$`,
        pathNot: '^(report/dist/src/data|checkers|events)/',
      },
    },
    {
      name: 'events-import-nothing-of-ours',
      comment:
        'The event contract is the root every side shares (peer, agent, coordinator, checkers): it imports ' +
        'nothing of ours, and of npm only zod, the one source of its types and its JSON Schema, and ajv, which runs ' +
        'that schema fast, so anyone can depend on it without a cycle or a cost (the peer imports its types only, ' +
        'so neither is in its bundle).',
      severity: 'error',
      from: {path: '^events/'},
      to: {path: `${OURS}|${NPM}`, pathNot: '^(events/|node_modules/(zod|ajv)/)'},
    },
    {
      name: 'bootstrap-imports-only-events-kit',
      comment:
        'The bootstrap data service runs on its own (peerlab-bootstrap) as well as inside the coordinator: ' +
        'it must not need the coordinator, the peer or the checkers.',
      severity: 'error',
      from: {path: '^bootstrap/'},
      to: {path: OURS, pathNot: '^(bootstrap|events|node-kit)/'},
    },
    {
      name: 'node-kit-imports-nothing-of-ours',
      comment: 'Shared Node helpers sit under every package that uses them; one import back up would make a cycle between packages.',
      severity: 'error',
      from: {path: '^node-kit/'},
      to: {path: OURS, pathNot: '^node-kit/'},
    },
    {
      name: 'scenario-loads-no-process-code',
      comment:
        'Loading and validating a scenario (YAML in, Plan out) is pure: peerlab check, the schema writer and ' +
        'the fuzz tests load scenarios without starting anything. So scenario/ imports nothing that runs ' +
        'processes or servers: not the runners (only what a runner cannot do, runners/limits, which is data), ' +
        'the engine, the hub, the API, the coordinator or the CLI, and no execa or child_process. Asking the ' +
        'peer binary for its command specs is process work: it lives in peer-program/peer-commands.ts and the ' +
        'CLI hands the specs to the loader.',
      severity: 'error',
      from: {path: '^test-server/dist/src/scenario/'},
      to: {
        path: '^test-server/dist/src/(runners/(?!limits\\.js$)|(engine|hub|api|cli|reporters)/|peer-program/peer-commands\\.js$)|^test-server/dist/src/coordinator\\.js$|^node_modules/(execa|socket\\.io|express)/|^(node:)?(child_process|net|http|https|dgram|cluster)$',
      },
    },
    {
      name: 'reporters-see-results-not-engine',
      comment:
        'Reporters render results: they read the result types (engine/results.ts) and nothing else of the ' +
        'engine, and nothing of the CLI, so a new front end (an HTML report, a dashboard) can reuse them and ' +
        'the engine can change inside without breaking them. Tables come from @peerlab/node-kit/table, the ' +
        'one table renderer.',
      severity: 'error',
      from: {path: '^test-server/dist/src/reporters/'},
      to: {path: '^test-server/dist/src/(engine/(?!results\\.js$)|cli/|runners/|hub/|api/|coordinator\\.js$)'},
    },
    {
      name: 'engine-reaches-peers-through-coordinator',
      comment:
        'The engine drives peers only through the coordinator (its runner, hub and views): it never starts ' +
        'processes itself or talks to an agent behind the hub\'s back, so every action lands in the history.',
      severity: 'error',
      from: {path: '^test-server/dist/src/engine/'},
      to: {path: '^test-server/dist/src/(api|cli)/|^node_modules/(execa|socket\\.io-client)/|^(node:)?(child_process|dgram)$'},
    },
    {
      name: 'api-does-not-import-coordinator',
      comment:
        'The REST router takes the run it serves as an interface defined beside it (ApiRun) and the ' +
        'coordinator satisfies it; the coordinator imports the router. Importing back would be a cycle.',
      severity: 'error',
      from: {path: '^test-server/dist/src/api/'},
      to: {path: '^test-server/dist/src/(coordinator\\.js$|cli/|engine/)'},
    },
    {
      name: 'cli-does-not-import-api',
      comment:
        'The console (cli/) and the REST API (api/) are two front ends of one coordinator: what both show ' +
        '(a peer\'s row) lives beside the coordinator (peer-row.ts), so neither imports the other.',
      severity: 'error',
      from: {path: '^test-server/dist/src/cli/'},
      to: {path: '^test-server/dist/src/api/'},
    },
    {
      name: 'bench-uses-public-packages',
      comment:
        'The bench measures the peer from outside, like a user: it spawns the peer binary and asks it for ' +
        'its profile (peerlab-peer --print-profile), and takes the SWIM model from the checkers. It imports ' +
        'no peer code, so it cannot measure something the binary does not do.',
      severity: 'error',
      from: {path: '^bench/'},
      to: {path: '^peer/'},
    },
    {
      name: 'no-relative-imports-across-packages',
      comment:
        'A package is reached by its name (@peerlab/x/...), through the exports its package.json allows; ' +
        'a relative path into another package\'s dist or src bypasses those and breaks when it is installed ' +
        'on its own.',
      severity: 'error',
      from: {path: '^([^/]+)/'},
      to: {dependencyTypes: ['local'], pathNot: '^$1/'},
    },
    {
      name: 'no-circular',
      comment: 'A cycle makes load order matter and the two modules one unit that cannot be understood or tested apart.',
      severity: 'error',
      from: {},
      to: {circular: true},
    },
  ],
  options: {
    // What npm installed is a leaf: its own imports are not ours to judge.
    doNotFollow: {path: 'node_modules'},
    // Tests may reach into anything they test.
    exclude: {path: '/dist/test/'},
    // Resolve @peerlab/* through their package.json exports to the built JS (not to the .d.ts the `types` condition names).
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      mainFields: ['module', 'main'],
    },
  },
};
