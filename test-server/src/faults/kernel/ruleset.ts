/**
 * The nftables ruleset of one run, as a pure function of the network rules
 * in force and the peers' addresses. Applied whole in one `nft -f`
 * transaction (the table declared, its chain flushed and refilled), so a
 * change is atomic and a restart or resume needs nothing but the same text.
 *
 * Rules sit on the input hook, as a firewall on the receiving host would:
 * a dropped packet leaves its sender as on a real network, and vanishes on
 * the way in. (On the output hook the sender's own send fails with EPERM,
 * which no real partition does, and which memberlist, for one, takes as its
 * own fault and never suspects the member it could not reach.) They key on
 * (source, destination) address pairs of peers: every peer has its own loopback address, and the
 * coordinator's 127.0.0.1 is never one of them, so agent traffic is untouched.
 */
import type {Link, NetRule} from '../../engine/fault-plan.js';

export const CHAIN = 'in';

/** A table name nft takes as is: letters, digits, underscores. */
export function isTableName(name: string): boolean {
  return /^[A-Za-z][A-Za-z0-9_]{0,62}$/.test(name);
}

export interface RulesetInput {
  table: string;
  rules: readonly NetRule[];
  /** Each peer's address; a rule naming a peer with none is left out (it has no traffic to match). */
  addresses: ReadonlyMap<string, string>;
}

/**
 * Loss is drawn per packet from nft's random number generator, to a
 * hundredth of a percent. A cut drops UDP and answers TCP with a reset, so a
 * connection through a cut fails at once, as it does when a peer's own
 * filter refuses it, instead of hanging until its timeout.
 */
export function buildRuleset({table, rules, addresses}: RulesetInput): string {
  if (!isTableName(table)) throw new RangeError(`not a table name nft takes: ${JSON.stringify(table)}`);
  const lines = [
    `table inet ${table} {`,
    `  chain ${CHAIN} {`,
    '    type filter hook input priority 0; policy accept;',
    '  }',
    '}',
    `flush chain inet ${table} ${CHAIN}`,
  ];
  const add = (rule: string) => lines.push(`add rule inet ${table} ${CHAIN} ${rule}`);
  const pairs = (links: readonly Link[]) => {
    const seen = new Set<string>();
    const out: Array<[string, string]> = [];
    for (const [from, to] of links) {
      const a = addresses.get(from);
      const b = addresses.get(to);
      if (a === undefined || b === undefined || a === b) continue;
      const key = `${a} ${b}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push([a, b]);
    }
    return out;
  };
  const every = [...new Set(addresses.values())].sort(compareAddresses);
  const set = every.length === 1 ? every[0]! : `{ ${every.join(', ')} }`;
  // Cuts first: a packet a cut drops is not also counted against a loss.
  // Each cut link once, however many rules cut it (a step's and a nemesis round's).
  for (const [a, b] of pairs(rules.flatMap((rule) => (rule.kind === 'cut' ? rule.links : [])))) {
    add(`ip saddr ${a} ip daddr ${b} meta l4proto tcp reject with tcp reset`);
    add(`ip saddr ${a} ip daddr ${b} drop`);
  }
  for (const rule of rules) {
    if (rule.kind !== 'loss') continue;
    const chance = Math.round(Math.min(100, Math.max(0, rule.percent)) * 100);
    if (chance === 0) continue;
    const drop = `numgen random mod 10000 < ${chance} drop`;
    if (rule.links === 'all') {
      if (every.length >= 2) add(`ip saddr ${set} ip daddr ${set} ${drop}`);
      continue;
    }
    for (const [a, b] of pairs(rule.links)) add(`ip saddr ${a} ip daddr ${b} ${drop}`);
  }
  // A delay rule cannot be made here: the loader refuses it before a run begins.
  return lines.join('\n') + '\n';
}

function compareAddresses(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
  return 0;
}
