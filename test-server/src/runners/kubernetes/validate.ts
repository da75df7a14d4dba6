/**
 * Checks a manifest against Kubernetes' own schema (kubernetes-models, made
 * from the API's OpenAPI definitions) before it is sent or printed, so that a
 * mistake shows here, with the field it is in, not as an API server's 422 on
 * a cluster nobody tested against.
 */
import {Pod, Secret, Service} from 'kubernetes-models/v1';
import type {V1Pod, V1Secret, V1Service} from '@kubernetes/client-node';

export type Manifest = V1Pod | V1Service | V1Secret;

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestError';
  }
}

interface SchemaProblem {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function located(problem: SchemaProblem): string {
  const where = (problem.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.') || '(top)';
  const extra = problem.params && 'additionalProperty' in problem.params ? ` (${String(problem.params['additionalProperty'])})` : '';
  return `${where}: ${problem.message ?? 'invalid'}${extra}`;
}

/** Throws a ManifestError naming the object and every field at fault. */
export function validateManifest(manifest: Manifest): void {
  const kind = manifest.kind;
  // The models take their own (structurally equal) types; the cast stays at this one edge.
  const model = kind === 'Pod' ? new Pod(manifest as never) : kind === 'Service' ? new Service(manifest as never) : kind === 'Secret' ? new Secret(manifest as never) : undefined;
  const name = `${kind ?? 'object'} ${manifest.metadata?.name ?? '(no name)'}`;
  if (!model) throw new ManifestError(`${name}: not a kind this runner makes (Pod, Service, Secret)`);
  try {
    model.validate();
  } catch (error) {
    const problems = (error as {errors?: SchemaProblem[]}).errors;
    const detail = problems && problems.length > 0 ? problems.map(located).join('; ') : (error as Error).message;
    throw new ManifestError(`invalid ${name}: ${detail}`);
  }
}
