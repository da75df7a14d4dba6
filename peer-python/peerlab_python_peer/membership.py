"""SWIM membership with Lifeguard's suspicion timeout, after memberlist.

- Probe: every probe interval one member, round-robin over a shuffled list,
  gets a ping; no ack within the probe timeout, and `indirect_checks` others
  are asked to ping it for us (ping-req); no ack by the end of the interval,
  and it is suspected.
- Suspicion: a suspect is declared dead when its timer runs out. The timer
  starts at suspicion_max_timeout_mult times the floor (suspicion_mult ·
  max(1, log10 N) · probe interval) and shrinks toward the floor as other
  members independently confirm the suspicion (Lifeguard).
- Gossip: every change is queued and piggybacked on pings and acks, and sent
  to `gossip_nodes` random members each gossip interval while the queue is not
  empty, each update retransmit_mult · ceil(log10(N+1)) times.
- Incarnations: only a member raises its own, to refute a suspicion or a death
  (or a leave it did not make); news about a member replaces what a view holds
  only by SWIM's precedence (checkers/src/legality.ts lists the rules).
- Push-pull: full state with one random member every push-pull interval, a
  dead one every reconnect interval (so a healed partition merges), and with
  seeds to join.

All state is guarded by one lock; the loop thread reads the socket and runs
the timers, and command handlers call in from the agent's threads.
"""
import heapq
import math
import random
import select
import threading
import time
import zlib

from peerlab_agent import events as ev
from peerlab_agent.flags import NAME_PATTERN

from .transport import parse_address


def name_ok(value):
    return isinstance(value, str) and NAME_PATTERN.match(value) is not None

ALIVE, SUSPECT, DEAD, LEFT = 'alive', 'suspect', 'dead', 'left'
LIVE = (ALIVE, SUSPECT)
MAX_UPDATES_PER_PACKET = 32
MAX_INCARNATION = 2**32 - 1


def mono_ms():
    return time.monotonic() * 1000


class Member:
    __slots__ = ('name', 'address', 'incarnation', 'state', 'since', 'suspicion')

    def __init__(self, name, address, incarnation, state):
        self.name = name
        self.address = address
        self.incarnation = incarnation
        self.state = state
        self.since = mono_ms()
        self.suspicion = None

    def entry(self):
        return {'n': self.name, 'a': self.address, 'i': self.incarnation, 's': self.state}


class Suspicion:
    """Lifeguard's timer: the timeout shrinks with each independent confirmation."""

    def __init__(self, source, k, min_ms, max_ms):
        self.start = mono_ms()
        self.confirmers = {source}
        self.k = k
        self.min_ms = min_ms
        self.max_ms = max_ms

    def timeout_ms(self):
        confirmations = len(self.confirmers) - 1
        if self.k < 1:
            return self.min_ms
        frac = math.log(confirmations + 1) / math.log(self.k + 1)
        return max(self.min_ms, self.max_ms - frac * (self.max_ms - self.min_ms))

    def expired(self):
        return mono_ms() - self.start >= self.timeout_ms()


class Membership:
    def __init__(self, name, transport, profile, emit, log, bug=None):
        self.name = name
        self.transport = transport
        self.profile = profile
        self.emit = emit              # emit(event_type, data): the agent's record, events built by peerlab_agent.events
        self.log = log
        self.bug = bug                # 'no-dead': never declares a member dead and ignores deaths and leaves
        self.lock = threading.RLock()
        self.me = Member(name, transport.address, 0, ALIVE)
        self.members = {name: self.me}
        self.queue = {}               # name -> [update, transmits left]: the piggyback queue
        self.timers = []              # heap of (due ms, counter, fn)
        self.counter = 0
        self.probe_order = []
        self.probe = None             # the probe in progress: {seq, target, acked}
        self.relays = {}              # our ping seq -> (requester address, their seq, due ms)
        self.seq = 0
        self.joined = False           # part of a group (a seed answered, or someone joined through us)
        self.join_wait = None         # threading.Event while a join waits for its first answer
        self.join_seeds = 0
        self.handlers = {}            # extra message types (chat) -> fn(message, sender address)
        self.running = False
        self.stopped = threading.Event()

    # --- views --------------------------------------------------------------

    def live(self, include_self=True):
        with self.lock:
            return [m for m in self.members.values() if m.state in LIVE and (include_self or m is not self.me)]

    def others_live(self):
        return self.live(include_self=False)

    def all(self):
        with self.lock:
            return list(self.members.values())

    def checksum(self):
        with self.lock:
            text = ','.join(sorted(f'{m.name}@{m.incarnation}' for m in self.members.values() if m.state in LIVE))
        return f'{zlib.crc32(text.encode()):08x}'

    def n(self):
        return len(self.live())

    # --- the loop ------------------------------------------------------------

    def start(self):
        self.running = True
        p = self.profile
        self.every(p.probe_interval_ms, self.probe_tick)
        self.every(p.gossip_interval_ms, self.gossip_tick)
        self.every(p.push_pull_interval_ms, self.push_pull_tick)
        self.every(p.reconnect_interval_ms, self.reconnect_tick)
        threading.Thread(target=self.loop, name='membership', daemon=True).start()

    def stop(self):
        self.running = False
        self.stopped.set()

    def after(self, ms, fn):
        with self.lock:
            self.counter += 1
            heapq.heappush(self.timers, (mono_ms() + ms, self.counter, fn))

    def every(self, ms, fn):
        def tick():
            if self.running:
                try:
                    fn()
                finally:
                    self.after(ms, tick)
        # A random first delay, so that peers started together do not tick in step.
        self.after(random.uniform(0, ms), tick)

    def loop(self):
        sock = self.transport.sock
        while self.running:
            with self.lock:
                wait = min(0.025, max(0.0, (self.timers[0][0] - mono_ms()) / 1000)) if self.timers else 0.025
            try:
                readable, _, _ = select.select([sock], [], [], wait)
            except (OSError, ValueError):
                return
            if readable:
                for message, sender in self.transport.receive():
                    with self.lock:
                        try:
                            self.handle(message, sender)
                        except Exception as error:  # one bad datagram must not stop the loop
                            self.transport.malformed += 1
                            self.log('debug', f'bad {message.get("t")} from {sender}: {error!r}')
            with self.lock:
                now = mono_ms()
                due = []
                while self.timers and self.timers[0][0] <= now:
                    due.append(heapq.heappop(self.timers)[2])
                for fn in due:
                    try:
                        fn()
                    except Exception as error:
                        self.log('warn', f'timer failed: {error!r}')
                self.check_suspicions()
                self.reap()

    # --- the piggyback queue ----------------------------------------------------

    def retransmit_limit(self):
        return self.profile.retransmit_mult * math.ceil(math.log10(self.n() + 1))

    def enqueue(self, update):
        self.queue[update['n']] = [update, self.retransmit_limit()]

    def take_updates(self, limit=MAX_UPDATES_PER_PACKET):
        if not self.queue:
            return []
        # The least sent first: fresh news spreads before old news is repeated.
        items = sorted(self.queue.items(), key=lambda kv: -kv[1][1])[:limit]
        out = []
        for name, slot in items:
            out.append(slot[0])
            slot[1] -= 1
            if slot[1] <= 0:
                del self.queue[name]
        return out

    def apply_updates(self, updates, sender_name):
        if not isinstance(updates, list):
            return
        for u in updates[:MAX_UPDATES_PER_PACKET]:
            self.apply(u, sender_name)

    def apply(self, u, sender_name):
        if not isinstance(u, dict):
            return
        kind, name, inc = u.get('k'), u.get('n'), u.get('i')
        if not isinstance(name, str) or not name_ok(name) or not isinstance(inc, int) or not 0 <= inc <= MAX_INCARNATION:
            return
        if kind == ALIVE:
            if parse_address(u.get('a')) is not None:
                self.on_alive(name, inc, u['a'])
        elif kind == SUSPECT:
            self.on_suspect(name, inc, u.get('f') if isinstance(u.get('f'), str) and name_ok(u.get('f')) else sender_name)
        elif kind == DEAD:
            self.on_dead(name, inc, u.get('f') if isinstance(u.get('f'), str) and name_ok(u.get('f')) else sender_name)
        elif kind == LEFT:
            self.on_left(name, inc)

    # --- the state machine --------------------------------------------------

    def on_alive(self, name, inc, address):
        if name == self.name:
            if self.me.state == LEFT:
                return
            # News of an older me (a previous process, or a rumour) at or above my incarnation: outbid it.
            if inc > self.me.incarnation or (inc == self.me.incarnation and address != self.me.address):
                self.refute(inc)
            return
        m = self.members.get(name)
        if m is None:
            m = Member(name, address, inc, ALIVE)
            self.members[name] = m
            self.emit(ev.MEMBER_JOINED, ev.member_joined(name=name, address=address, incarnation=inc))
            self.enqueue({'k': ALIVE, 'n': name, 'i': inc, 'a': address})
            self.note_contact()
            return
        if inc <= m.incarnation:
            return
        previous, moved = m.state, address != m.address
        m.incarnation, m.address, m.state, m.since, m.suspicion = inc, address, ALIVE, mono_ms(), None
        if previous != ALIVE:
            self.emit(ev.MEMBER_ALIVE, ev.member_alive(name=name, address=address, incarnation=inc, previous=previous))
        else:
            self.emit(ev.MEMBER_UPDATED, ev.member_updated(name=name, address=address, incarnation=inc,
                                                           reason='address' if moved else 'incarnation'))
        self.enqueue({'k': ALIVE, 'n': name, 'i': inc, 'a': address})
        self.note_contact()

    def on_suspect(self, name, inc, source):
        if name == self.name:
            if self.me.state != LEFT and inc >= self.me.incarnation:
                self.refute(inc)
            return
        m = self.members.get(name)
        if m is None or m.state not in LIVE or inc < m.incarnation:
            return
        if m.state == SUSPECT and inc == m.incarnation:
            if m.suspicion is not None and source not in m.suspicion.confirmers:
                m.suspicion.confirmers.add(source)  # an independent confirmation: Lifeguard shortens the timer
                self.enqueue({'k': SUSPECT, 'n': name, 'i': inc, 'f': source})
            return
        n = self.n()
        floor = round(self.profile.suspicion_mult * max(1.0, math.log10(max(1, n))) * self.profile.probe_interval_ms)
        m.state, m.incarnation, m.since = SUSPECT, inc, mono_ms()
        m.suspicion = Suspicion(source, min(self.profile.indirect_checks, n - 2), floor,
                                floor * self.profile.suspicion_max_timeout_mult)
        self.emit(ev.MEMBER_SUSPECT, ev.member_suspect(name=name, incarnation=inc, from_=source))
        self.enqueue({'k': SUSPECT, 'n': name, 'i': inc, 'f': source})

    def on_dead(self, name, inc, source):
        if name == self.name:
            if self.me.state != LEFT and inc >= self.me.incarnation:
                self.refute(inc)
            return
        if self.bug == 'no-dead':
            return
        m = self.members.get(name)
        if m is None or m.state not in LIVE or inc < m.incarnation:
            return
        m.state, m.incarnation, m.since, m.suspicion = DEAD, inc, mono_ms(), None
        self.emit(ev.MEMBER_DEAD, ev.member_dead(name=name, incarnation=inc, from_=source))
        self.enqueue({'k': DEAD, 'n': name, 'i': inc, 'f': source})

    def on_left(self, name, inc):
        if name == self.name:
            if self.me.state != LEFT and inc >= self.me.incarnation:
                self.refute(inc)  # a leave this process did not make
            return
        if self.bug == 'no-dead':
            return
        m = self.members.get(name)
        if m is None or m.state == LEFT or inc < m.incarnation:
            return
        m.state, m.incarnation, m.since, m.suspicion = LEFT, inc, mono_ms(), None
        self.emit(ev.MEMBER_LEFT, ev.member_left(name=name, incarnation=inc))
        self.enqueue({'k': LEFT, 'n': name, 'i': inc})

    def refute(self, inc):
        self.me.incarnation = min(MAX_INCARNATION, max(self.me.incarnation, inc) + 1)
        self.emit(ev.MEMBER_UPDATED, ev.member_updated(name=self.name, address=self.me.address,
                                                       incarnation=self.me.incarnation, reason='refute'))
        self.enqueue(self.self_alive())

    def self_alive(self):
        return {'k': ALIVE, 'n': self.name, 'i': self.me.incarnation, 'a': self.me.address}

    def check_suspicions(self):
        if self.bug == 'no-dead':
            return
        for m in list(self.members.values()):
            if m.state == SUSPECT and m.suspicion is not None and m.suspicion.expired():
                self.on_dead(m.name, m.incarnation, self.name)

    def reap(self):
        now = mono_ms()
        for m in list(self.members.values()):
            if m is not self.me and m.state in (DEAD, LEFT) and now - m.since >= self.profile.dead_reap_ms:
                del self.members[m.name]
                self.emit(ev.MEMBER_REAPED, ev.member_reaped(name=m.name, state=m.state, incarnation=m.incarnation))

    def note_contact(self):
        if not self.joined and self.others_live():
            self.joined = True

    # --- probing ----------------------------------------------------------------

    def next_seq(self):
        self.seq += 1
        return self.seq

    def probe_tick(self):
        if self.me.state == LEFT:
            return
        candidates = {m.name for m in self.others_live()}
        self.probe_order = [n for n in self.probe_order if n in candidates]
        if not self.probe_order:
            self.probe_order = list(candidates)
            random.shuffle(self.probe_order)
        if not self.probe_order:
            return
        target = self.members[self.probe_order.pop(0)]
        seq = self.next_seq()
        self.probe = {'seq': seq, 'target': target.name, 'incarnation': target.incarnation, 'acked': False}
        self.transport.send(target.address, {'t': 'ping', 'seq': seq, 'to': target.name, 'from': self.name, 'g': self.take_updates()})
        self.after(self.profile.probe_timeout_ms, lambda: self.indirect_probe(seq))
        self.after(self.profile.probe_interval_ms * 0.95, lambda: self.probe_end(seq))

    def indirect_probe(self, seq):
        probe = self.probe
        if probe is None or probe['seq'] != seq or probe['acked']:
            return
        target = self.members.get(probe['target'])
        if target is None or target.state not in LIVE:
            return
        intermediaries = [m for m in self.others_live() if m.name != target.name]
        for relay in random.sample(intermediaries, min(self.profile.indirect_checks, len(intermediaries))):
            self.transport.send(relay.address, {'t': 'ping-req', 'seq': seq, 'target': target.name,
                                                 'addr': target.address, 'from': self.name})

    def probe_end(self, seq):
        probe = self.probe
        if probe is None or probe['seq'] != seq or probe['acked']:
            return
        target = self.members.get(probe['target'])
        if target is not None and target.state in LIVE and target.incarnation == probe['incarnation']:
            self.on_suspect(target.name, target.incarnation, self.name)

    # --- messages -------------------------------------------------------------

    def handle(self, message, sender):
        kind = message['t']
        source = message.get('from') if isinstance(message.get('from'), str) and name_ok(message.get('from')) else None
        if self.me.state == LEFT and kind not in ('sync',):
            return  # a member that left takes no part until it joins again
        if kind in self.handlers:
            self.handlers[kind](message, sender, source)
            return
        if source is None:
            self.transport.malformed += 1
            return
        if kind == 'ping':
            self.apply_updates(message.get('g'), source)
            if message.get('to') != self.name:
                return  # meant for a previous holder of this address
            reply = {'t': 'ack', 'seq': message.get('seq'), 'from': self.name, 'g': self.take_updates()}
            held = self.members.get(source)
            if held is not None and held.state == DEAD:
                # It still pings, so it does not know it was declared dead: tell it, and it refutes.
                reply['g'].append({'k': DEAD, 'n': source, 'i': held.incarnation, 'f': self.name})
            self.transport.send(sender, reply)
        elif kind == 'ack':
            self.apply_updates(message.get('g'), source)
            seq = message.get('seq')
            if self.probe is not None and self.probe['seq'] == seq:
                self.probe['acked'] = True
            relay = self.relays.pop(seq, None)
            if relay is not None:
                self.transport.send(relay[0], {'t': 'ack', 'seq': relay[1], 'from': self.name, 'g': []})
        elif kind == 'ping-req':
            target, address = message.get('target'), message.get('addr')
            if not isinstance(target, str) or parse_address(address) is None:
                return
            seq = self.next_seq()
            self.relays[seq] = (sender, message.get('seq'))
            self.after(self.profile.probe_interval_ms, lambda: self.relays.pop(seq, None))
            self.transport.send(address, {'t': 'ping', 'seq': seq, 'to': target, 'from': self.name, 'g': []})
        elif kind == 'gossip':
            self.apply_updates(message.get('g'), source)
        elif kind == 'sync':
            self.on_sync(message, sender, source)

    # --- gossip and push-pull ----------------------------------------------------

    def gossip_tick(self):
        if not self.queue:
            return
        targets = self.others_live()
        for m in random.sample(targets, min(self.profile.gossip_nodes, len(targets))):
            updates = self.take_updates()
            if not updates:
                return
            self.transport.send(m.address, {'t': 'gossip', 'from': self.name, 'g': updates})

    def state_message(self, join=False, reply=False):
        return {'t': 'sync', 'from': self.name, 'addr': self.me.address, 'join': join, 'reply': reply,
                'state': [m.entry() for m in self.members.values()]}

    def push_pull_tick(self):
        if self.me.state == LEFT:
            return
        others = self.others_live()
        if others:
            self.transport.send(random.choice(others).address, self.state_message())

    def reconnect_tick(self):
        # A dead member may be alive behind a healed partition: exchanging state lets either side refute.
        if self.me.state == LEFT:
            return
        dead = [m for m in self.members.values() if m.state == DEAD]
        if dead:
            self.transport.send(random.choice(dead).address, self.state_message())

    def on_sync(self, message, sender, source):
        if source is None or not isinstance(message.get('state'), list):
            return
        if self.me.state == LEFT:
            if not message.get('reply'):
                return
        else:
            self.merge(message['state'], source)
        if not message.get('reply'):
            self.transport.send(sender, self.state_message(reply=True))
            if message.get('join'):
                self.note_contact()
        elif self.join_wait is not None and not self.join_wait.is_set():
            if self.me.state != LEFT:
                self.joined = True
                self.emit(ev.PEER_JOINED, ev.peer_joined(via=sender, seeds=self.join_seeds))
                self.join_wait.set()

    def merge(self, entries, source):
        for e in entries[:4096]:
            if not isinstance(e, dict):
                continue
            state = e.get('s')
            update = {'k': state, 'n': e.get('n'), 'i': e.get('i'), 'a': e.get('a'), 'f': source}
            if state == DEAD:
                update['k'] = SUSPECT  # memberlist: a remote death is a suspicion here, so the member may still refute
            if state in (ALIVE, SUSPECT, DEAD, LEFT):
                self.apply(update, source)

    # --- join and leave ---------------------------------------------------------

    def join(self, seeds, timeout_ms=None):
        """Exchanges state with each seed ('host:port'); True once one answered within the timeout."""
        seeds = [s for s in seeds if s != self.me.address]
        with self.lock:
            if self.me.state == LEFT:
                self.me.state = ALIVE
                self.me.incarnation += 1
                self.emit(ev.MEMBER_ALIVE, ev.member_alive(name=self.name, address=self.me.address,
                                                           incarnation=self.me.incarnation, previous=LEFT))
                self.enqueue(self.self_alive())
            if not seeds:
                return False
            wait = threading.Event()
            self.join_wait, self.join_seeds = wait, len(seeds)
            for seed in seeds:
                self.transport.send(seed, self.state_message(join=True))
        return wait.wait((timeout_ms or self.profile.join_timeout_ms) / 1000)

    def leave(self):
        """Leaves gracefully: tells every live member directly, and gossips it for leave_propagate_ms."""
        with self.lock:
            if self.me.state == LEFT:
                return False
            self.me.state = LEFT
            self.emit(ev.MEMBER_LEFT, ev.member_left(name=self.name, incarnation=self.me.incarnation))
            update = {'k': LEFT, 'n': self.name, 'i': self.me.incarnation}
            targets = self.others_live()
            for m in targets:
                self.transport.send(m.address, {'t': 'gossip', 'from': self.name, 'g': [update]})
        # Once more after a moment, for a datagram lost on the way.
        time.sleep(self.profile.leave_propagate_ms / 1000)
        with self.lock:
            for m in targets:
                self.transport.send(m.address, {'t': 'gossip', 'from': self.name, 'g': [update]})
        return True
