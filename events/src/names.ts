/**
 * The one rule for a peer's name, shared by the peer, its agent, the
 * coordinator's hub, scenarios, the REST API, the CLI and the bootstrap
 * service: a name appears in history sources (`peer:<name>`), file names
 * (`logs/<name>.log`) and URLs, so it is short and needs no escaping.
 */
export const PEER_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** How a refusal describes the rule to a person. */
export const PEER_NAME_RULE = '1-64 characters of A-Z a-z 0-9 . _ -';

export function isValidPeerName(name: unknown): name is string {
  return typeof name === 'string' && PEER_NAME.test(name);
}
