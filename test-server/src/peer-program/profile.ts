/**
 * The timing profiles a scenario may name. The harness hands one to every
 * peer program as `--profile` (docs/PROTOCOL.md): `local` for many peers on
 * one machine, `lan` and `wan` for memberlist's LAN and WAN defaults.
 */
export const PEER_PROFILES = ['local', 'lan', 'wan'] as const;

export type PeerProfile = (typeof PEER_PROFILES)[number];
