"""The peer process: flags, the UDP transport, membership, chat, the agent,
joining through seeds or the bootstrap service, and the way out.

Exit codes: 0 graceful leave, 1 cannot bind, 2 bad flags, 3 the agent gave
up, 4 the parent is gone (PROTOCOL.md section 6).
"""
import datetime
import os
import random
import sys
import threading
import time

from peerlab_agent import (Agent, FlagError, bootstrap_token, capabilities, describe, events as ev, on_terminate,
                           parent_gone_exit, parse_flags, wait_forever, watch_parent)

from .bootstrap import JOIN_CONTACTS, Bootstrap, BootstrapError
from .chat import Chat
from .commands import build as build_commands
from .config import PROFILES
from .membership import Membership
from .transport import Transport

VERSION = '0.1.0'
BUGS = ('no-dead', 'drop-chat')
JOIN_RETRY_S = (0.5, 1, 2, 4, 8)
JOIN_RETRY_MAX_S = 10
LEVELS = {'error': 0, 'warn': 1, 'info': 2, 'debug': 3}
EXTRA_FLAGS = {'--join': 'multi', '--bug': str, '--log-level': str}


# Honest: membership with incarnations that mean something, `from` filled with who raised a
# suspicion, chat (FIFO, not causal), traffic counters. A broken build (--bug) declares the same,
# so it is judged, not excused.
CAPABILITIES = capabilities(events=['membership', 'chat', 'traffic'], fields=['incarnation', 'suspicion-source'])


def clock():
    """Wall-clock time of day with milliseconds, for log lines."""
    return datetime.datetime.now().strftime('%H:%M:%S.%f')[:-3]


class Peer:
    def __init__(self, flags):
        self.flags = flags
        self.name = flags.name
        self.bug = flags.extra.get('bug')
        self.level = LEVELS.get(flags.extra.get('log-level', 'info'), 2)
        self.profile = PROFILES[flags.profile]
        self.transport = Transport(flags.host, flags.port, self.profile.max_packet_bytes, self.log)
        self.agent = None
        self.membership = Membership(self.name, self.transport, self.profile, self.record, self.log, bug=self.bug)
        self.chat = Chat(self.membership, self.record, self.log, bug=self.bug)
        self.bootstrap = Bootstrap(flags.bootstrap, bootstrap_token(), flags.host) if flags.bootstrap else None
        self.commands = build_commands(self)
        self.leaving = threading.Lock()

    def log(self, level, message):
        if LEVELS.get(level, 2) <= self.level:
            print(f'{clock()} {self.name} {level}: {message}', file=sys.stderr, flush=True)

    def record(self, event_type, data):
        self.agent.record(event_type, data)
        if event_type.startswith('member.') or event_type == 'peer.joined':
            # The membership story in the peer's log, for a person reading it after a run.
            self.log('info', f'{event_type} ' + ' '.join(f'{k}={v}' for k, v in data.items()))

    def snapshot(self):
        with self.membership.lock:
            return {'peer': self.name, 'time': int(time.time() * 1000),
                    'members': [{'name': m.name, 'address': m.address, 'state': m.state, 'incarnation': m.incarnation}
                                for m in self.membership.all()],
                    'messages': {'count': len(self.chat.delivered), 'ids': [x['id'] for x in self.chat.delivered]},
                    'extra': {'checksum': self.membership.checksum(), 'duplicates': self.chat.duplicates,
                              'malformed': self.transport.malformed}}

    def counters_tick(self):
        t = self.transport
        self.record(ev.NET_COUNTERS, ev.net_counters(udp_out=t.udp_out, udp_out_bytes=t.udp_out_bytes, tcp_out=0, tcp_out_bytes=0))

    # --- joining ----------------------------------------------------------------

    def join(self, seeds=None, retry=False):
        """One attempt: through `seeds`, else the bootstrap service. With `retry` (at start), tries
        again in the background with backoff until it joins, has no one to join, or someone joined us."""
        result = self.attempt_join(seeds)
        if retry and result['failed']:
            threading.Thread(target=self.retry_join, args=(seeds,), name='join-retry', daemon=True).start()
        return result

    def attempt_join(self, seeds):
        errors = []
        if seeds is None:
            if self.bootstrap is None:
                return {'seeds': 0, 'contacted': False, 'errors': [], 'failed': False}
            try:
                contacts = self.bootstrap.join(self.name, self.transport.address)
            except BootstrapError as error:
                self.log('warn', f'bootstrap: {error}')
                return {'seeds': 0, 'contacted': False, 'errors': [str(error)], 'failed': True}
            seeds = random.sample(contacts, min(JOIN_CONTACTS, len(contacts)))
        if not seeds:
            self.membership.join([])  # a member again after a leave, in a group of its own
            return {'seeds': 0, 'contacted': False, 'errors': errors, 'failed': False}
        contacted = self.membership.join(seeds)
        if not contacted:
            errors.append(f'none of {", ".join(seeds)} answered within {self.profile.join_timeout_ms} ms')
        return {'seeds': len(seeds), 'contacted': contacted, 'errors': errors, 'failed': not contacted}

    def retry_join(self, seeds):
        attempt = 0
        while self.membership.running:
            delay = JOIN_RETRY_S[attempt] if attempt < len(JOIN_RETRY_S) else JOIN_RETRY_MAX_S
            attempt += 1
            time.sleep(delay)
            if self.membership.joined or self.membership.me.state == 'left':
                return
            if not self.attempt_join(seeds)['failed']:
                return

    # --- leaving ----------------------------------------------------------------

    def leave(self):
        with self.leaving:
            if self.membership.leave() and self.bootstrap is not None:
                try:
                    self.bootstrap.leave(self.name)
                except BootstrapError as error:
                    self.log('warn', f'bootstrap: {error}')

    def shutdown(self, leave=True):
        if leave:
            self.leave()
        self.membership.stop()
        self.agent.close()

    def exit_soon(self, leave=True):
        def later():
            time.sleep(0.02)  # the reply gets out first
            self.shutdown(leave)
            os._exit(0)
        threading.Thread(target=later, daemon=True).start()


def main(argv, early_signals=()):
    try:
        flags = parse_flags(argv, extra=EXTRA_FLAGS)
        if flags.profile not in PROFILES:
            raise FlagError(f'--profile: expected one of {", ".join(PROFILES)}, got {flags.profile!r}')
        bug = flags.extra.get('bug')
        if bug is not None and bug not in BUGS:
            raise FlagError(f'--bug: expected one of {", ".join(BUGS)}, got {bug!r}')
        if len(flags.names) > 1:
            raise FlagError('--names: this peer runs one peer per process (peers_per_process 1)')
    except FlagError as error:
        print(f'peerlab-python-peer: {error}', file=sys.stderr)
        return 2
    if flags.describe_commands:
        # The specs do not depend on a live peer; a throwaway one on no socket is not needed.
        print(describe(build_commands(_Describe()), CAPABILITIES))
        return 0
    if not flags.name or not flags.coordinator:
        print('peerlab-python-peer: --name and --coordinator are required', file=sys.stderr)
        return 2
    try:
        peer = Peer(flags)
    except OSError as error:
        print(f'peerlab-python-peer: cannot bind {flags.host}:{flags.port}: {error}', file=sys.stderr)
        return 1
    except ValueError as error:
        print(f'peerlab-python-peer: {error}', file=sys.stderr)
        return 2
    peer.agent = Agent(flags.name, flags.coordinator, flags.token, commands=peer.commands,
                       capabilities=CAPABILITIES, snapshot=peer.snapshot,
                       address=lambda: peer.transport.address, version=VERSION, grace_ms=flags.agent_grace_ms,
                       log=lambda level, message: peer.log(level, f'agent: {message}'))
    # The first event, before the agent connects: this process's view starts from nothing but itself.
    peer.record(ev.PEER_STARTED, ev.peer_started(address=peer.transport.address, incarnation=0,
                                                 profile=peer.profile.name, timing=peer.profile.timing()))
    peer.membership.start()
    peer.chat.start()
    peer.membership.every(peer.profile.counters_interval_ms, peer.counters_tick)
    # Signals and the parent watch before the agent connects: the coordinator may send SIGTERM as soon
    # as the peer registers, and a registration can win the race against a main thread slow to get here.
    watch_parent(parent_gone_exit(peer.agent))
    on_terminate(peer.shutdown, pending=early_signals)
    peer.agent.start()
    peer.log('info', f'listening on udp {peer.transport.address} (profile {peer.profile.name}{", bug " + peer.bug if peer.bug else ""})')
    seeds = flags.extra.get('join')
    threading.Thread(target=peer.join, args=(seeds, True), name='join', daemon=True).start()
    wait_forever()


class _Describe:
    """Stands in for a Peer when only the command specs are wanted."""
    membership = chat = transport = profile = bug = None
