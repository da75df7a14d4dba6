/**
 * The project's config file, `peerlab.config.yaml`: found in the current
 * folder or the nearest folder above it that has one (so any sub-folder of
 * a project runs with the project's settings), or named with `--config`.
 * It holds `peer:`, the program the peers run, `faults:`, what makes
 * network faults (peer, kernel or auto; --faults and a scenario's own key
 * come first), `runner:`, what runs the peers (--runner comes first), and
 * `kubernetes:`, the kubernetes runner's settings (its flags come first).
 * Mistakes are
 * reported like a scenario's: file:line:column, the field, what was expected.
 */
import {readFile, stat} from 'node:fs/promises';
import path from 'node:path';
import {LineCounter, isMap, isPair, isScalar, parseDocument} from 'yaml';
import type {Node as YamlNode} from 'yaml';
import {z} from 'zod';
import type {ScenarioProblem} from '../scenario/problems.js';
import {fileProblem, formatProblem} from '../scenario/problems.js';
import type {PeerProgram} from './program.js';
import {issueMessage, peerProgram, peerProgramSchema} from './program.js';
import {RUNNER_KINDS} from '../runners/runner.js';
import type {RunnerKind} from '../runners/runner.js';

export const CONFIG_FILE_NAME = 'peerlab.config.yaml';

/** Far more than a config needs; bounds the read of a wrong path (a log, an image). */
const MAX_CONFIG_BYTES = 1024 * 1024;

const configSchema = z.strictObject({
  peer: peerProgramSchema.optional(),
  faults: z.enum(['peer', 'kernel', 'auto']).optional(),
  runner: z.enum(RUNNER_KINDS).optional(),
  kubernetes: z
    .strictObject({
      kubeconfig: z.string().min(1).optional(),
      namespace: z.string().min(1).optional(),
      image: z.string().min(1).optional(),
      coordinator_address: z.string().min(1).optional(),
    })
    .optional(),
});

/** The kubernetes runner's settings as a config file gives them (a relative kubeconfig from the file's folder). */
export interface KubernetesConfig {
  kubeconfig?: string;
  namespace?: string;
  image?: string;
  coordinatorAddress?: string;
}

export interface PeerlabConfig {
  file: string;
  peer?: PeerProgram;
  faults?: 'peer' | 'kernel' | 'auto';
  runner?: RunnerKind;
  kubernetes?: KubernetesConfig;
  /** Where a field is in the file (its nearest existing parent if it is not there), for problems found later. */
  position(field: readonly (string | number)[]): {line: number; column: number};
}

export class ConfigError extends Error {
  constructor(readonly problems: ScenarioProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

/** The config file of the folder `from` or the nearest folder above it that has one. */
export async function findConfigFile(from: string): Promise<string | undefined> {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const file = path.join(dir, CONFIG_FILE_NAME);
    if (await stat(file).then((info) => info.isFile(), () => false)) return file;
    if (path.dirname(dir) === dir) return undefined;
  }
}

export async function loadConfigFile(file: string): Promise<PeerlabConfig> {
  let text: string;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new ConfigError([fileProblem(file, 'not a regular file: the config is a .yaml file')]);
    if (info.size > MAX_CONFIG_BYTES) throw new ConfigError([fileProblem(file, `too big for a config file: ${info.size} bytes, at most ${MAX_CONFIG_BYTES}`)]);
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError([fileProblem(file, `cannot read: ${(error as Error).message}`)]);
  }
  return parseConfigText(text, file);
}

/** The config in `text`; `file` names it in problems, and a relative peer cwd is from its folder. */
export function parseConfigText(text: string, file: string): PeerlabConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, {lineCounter: lines, prettyErrors: false, uniqueKeys: true, logLevel: 'error'});
  const at = (offset: number) => {
    const pos = lines.linePos(offset);
    return {line: pos.line, column: pos.col};
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => ({file, ...at(e.pos[0]), field: '', message: `YAML: ${e.message.split('\n')[0]}`})));
  }
  const position = (field: readonly (string | number)[], key?: string) => {
    for (let n = field.length; n >= 0; n--) {
      const node = doc.getIn(field.slice(0, n), true) as YamlNode | undefined;
      if (!node?.range) continue;
      if (key && n === field.length && isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && item.key.value === key);
        if (pair && isScalar(pair.key) && pair.key.range) return at(pair.key.range[0]);
      }
      return at(node.range[0]);
    }
    return {line: 1, column: 1};
  };
  let root: unknown;
  try {
    // A config has no use for aliases beyond a few; the bound stops a "billion laughs" file.
    root = doc.toJS({maxAliasCount: 20});
  } catch (error) {
    throw new ConfigError([fileProblem(file, `YAML: ${(error as Error).message.split('\n')[0]}`)]);
  }
  // An empty file configures nothing.
  const parsed = configSchema.safeParse(root ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue): ScenarioProblem[] => {
      const field = issue.path as Array<string | number>;
      const name = (keys: readonly (string | number)[]) => keys.reduce<string>((out, k) => (typeof k === 'number' ? `${out}[${k}]` : out ? `${out}.${k}` : k), '');
      if (issue.code === 'unrecognized_keys') {
        const expected = field.length === 0 ? 'peer, faults, runner, kubernetes' : field.join('.') === 'peer' ? 'command, cwd, env' : field.join('.') === 'kubernetes' ? 'kubeconfig, namespace, image, coordinator_address' : '';
        return issue.keys.map((key) => ({file, ...position(field, key), field: name([...field, key]), message: `unknown field "${key}"${expected ? `; expected one of: ${expected}` : ''}`}));
      }
      const message = field.length === 0 && (typeof root !== 'object' || Array.isArray(root)) ? 'expected a mapping, e.g. peer: {command: [./my-peer]}' : issueMessage(issue);
      return [{file, ...position(field), field: name(field), message}];
    });
    throw new ConfigError(problems);
  }
  return {
    file,
    ...(parsed.data.peer ? {peer: peerProgram(parsed.data.peer, path.dirname(path.resolve(file)), file)} : {}),
    ...(parsed.data.faults ? {faults: parsed.data.faults} : {}),
    ...(parsed.data.runner ? {runner: parsed.data.runner} : {}),
    ...(parsed.data.kubernetes ? {kubernetes: kubernetesConfig(parsed.data.kubernetes, path.dirname(path.resolve(file)))} : {}),
    position: (field) => position(field),
  };
}

function kubernetesConfig(raw: {kubeconfig?: string | undefined; namespace?: string | undefined; image?: string | undefined; coordinator_address?: string | undefined}, dir: string): KubernetesConfig {
  return {
    ...(raw.kubeconfig ? {kubeconfig: path.resolve(dir, raw.kubeconfig)} : {}),
    ...(raw.namespace ? {namespace: raw.namespace} : {}),
    ...(raw.image ? {image: raw.image} : {}),
    ...(raw.coordinator_address ? {coordinatorAddress: raw.coordinator_address} : {}),
  };
}
