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

const cast = ['alice', 'bob', 'charly', 'dave', 'eve', 'frank', 'grace', 'heidi', 'ivan', 'judy', 'ken', 'laura', 'mallory', 'niaj', 'olivia', 'peggy', 'quentin', 'rupert', 'sybil', 'trent', 'ursula', 'victor', 'walter', 'xena', 'yves', 'zoe'];

/**
 * N names that obey the rule, none of them in `taken`: the familiar cast
 * first, then numbered peers. Pure, so the scenario loader, the fleet, the CLI,
 * the REST API and the bench share it without loading process code.
 */
export function generateNames(count: number, taken: ReadonlySet<string> = new Set()): string[] {
  const names: string[] = [];
  for (let i = 0; names.length < count; i++) {
    const name = i < cast.length ? cast[i]! : `peer-${String(i + 1).padStart(3, '0')}`;
    if (!taken.has(name)) names.push(name);
  }
  return names;
}
