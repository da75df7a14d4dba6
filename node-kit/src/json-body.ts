/**
 * A body express.json() skipped (text/plain, or JSON sent without a
 * Content-Type) would otherwise look like a missing body and earn a misleading
 * "expected a JSON object". An empty body without a type is left to validation.
 */
import type {Request} from 'express';

/** Why the request's body is not one express.json() read, or undefined if it is (or there is none). */
export function notJsonBody(req: Request): string | undefined {
  const type = req.get('content-type');
  const hasContent = req.get('transfer-encoding') !== undefined || Number(req.get('content-length') ?? 0) > 0;
  if ((type !== undefined || hasContent) && req.is('application/json') === false) {
    return `body: expected Content-Type application/json, got ${type ?? 'none'}`;
  }
  return undefined;
}
