/**
 * Bearer-token check for every HTTP request, as servers listening beyond
 * loopback need: `Authorization: Bearer <token>` (or `X-Peerlab-Token`).
 * Compared in constant time over hashes, so neither the token's content nor
 * its length leaks through timing.
 */
import {createHash, timingSafeEqual} from 'node:crypto';
import type {RequestHandler} from 'express';

export function tokenMatches(given: unknown, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** `why` completes "unauthorized: ..." for the client, e.g. "this coordinator listens beyond loopback". */
export function requireBearerToken(token: string, why: string, tokenName = 'token'): RequestHandler {
  return (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const given = /^Bearer (.+)$/.exec(header)?.[1] ?? req.get('x-peerlab-token');
    if (tokenMatches(given, token)) return next();
    res.status(401).json({error: {message: `unauthorized: ${why}; send "Authorization: Bearer <${tokenName}>"`, code: 'unauthorized', field: 'authorization'}});
  };
}
