"""Every timing knob of the peer, per profile, with memberlist's names where the
harness's timing model (checkers/src/swim-model.ts) reads them. `local` is
for many peers on one loopback machine: slower than the reference peer's
(150 ms probes, 50 ms gossip) because a Python process on a loaded 2-core box
answers later, and a slow ack must not turn into a false `dead`.
"""
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    probe_interval_ms: int
    probe_timeout_ms: int
    indirect_checks: int
    suspicion_mult: int
    suspicion_max_timeout_mult: int
    retransmit_mult: int
    gossip_interval_ms: int
    gossip_nodes: int
    push_pull_interval_ms: int
    reconnect_interval_ms: int
    join_timeout_ms: int
    leave_propagate_ms: int
    chat_sync_interval_ms: int
    chat_repair_grace_ms: int
    max_packet_bytes: int
    counters_interval_ms: int
    dead_reap_ms: int

    def timing(self):
        """The `timing` of peer.started: the eight knobs the harness's model reads."""
        return {
            'probeIntervalMs': self.probe_interval_ms,
            'suspicionMult': self.suspicion_mult,
            'suspicionMaxTimeoutMult': self.suspicion_max_timeout_mult,
            'gossipIntervalMs': self.gossip_interval_ms,
            'gossipNodes': self.gossip_nodes,
            'retransmitMult': self.retransmit_mult,
            'pushPullIntervalMs': self.push_pull_interval_ms,
            'chatSyncIntervalMs': self.chat_sync_interval_ms,
        }

    def as_dict(self):
        return asdict(self)


PROFILES = {
    'local': Profile(
        name='local', probe_interval_ms=200, probe_timeout_ms=100, indirect_checks=3, suspicion_mult=4,
        suspicion_max_timeout_mult=4, retransmit_mult=4, gossip_interval_ms=100, gossip_nodes=3,
        push_pull_interval_ms=2000, reconnect_interval_ms=1000, join_timeout_ms=1000, leave_propagate_ms=300,
        chat_sync_interval_ms=300, chat_repair_grace_ms=100, max_packet_bytes=16000, counters_interval_ms=1000,
        dead_reap_ms=30000),
    'lan': Profile(
        name='lan', probe_interval_ms=1000, probe_timeout_ms=500, indirect_checks=3, suspicion_mult=4,
        suspicion_max_timeout_mult=6, retransmit_mult=4, gossip_interval_ms=200, gossip_nodes=3,
        push_pull_interval_ms=30000, reconnect_interval_ms=10000, join_timeout_ms=5000, leave_propagate_ms=1000,
        chat_sync_interval_ms=1000, chat_repair_grace_ms=250, max_packet_bytes=1400, counters_interval_ms=1000,
        dead_reap_ms=300000),
    # memberlist's DefaultWANConfig (its 30 s TCP timeout for the join), the rest as the reference peer's wan profile.
    'wan': Profile(
        name='wan', probe_interval_ms=5000, probe_timeout_ms=3000, indirect_checks=3, suspicion_mult=6,
        suspicion_max_timeout_mult=6, retransmit_mult=4, gossip_interval_ms=500, gossip_nodes=4,
        push_pull_interval_ms=60000, reconnect_interval_ms=30000, join_timeout_ms=30000, leave_propagate_ms=2500,
        chat_sync_interval_ms=2500, chat_repair_grace_ms=600, max_packet_bytes=1400, counters_interval_ms=1000,
        dead_reap_ms=300000),
}
