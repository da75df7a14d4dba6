"""Broadcast chat: each message is pushed straight to every live member in one
datagram, delivered exactly once per process and in each sender's order, and
repaired by anti-entropy (every chat_sync_interval_ms a digest of the highest
in-order seq of each sender stream goes to one random live member, which
sends back what the digest lacks and its own digest, so either side catches
up; after a partition heals both sides do).

A stream is `<sender>:<epoch>`, new for every process, and a message id is
`<stream>:<seq>`. Delivery is FIFO per stream, not causal: the peer declares
`chat`, not `causal-chat`.
"""
import json
import random
import string
import time

from peerlab_agent import events as ev
from peerlab_agent.agent import now_ms

MAX_TEXT = 4000
MAX_HELD = 1024


def epoch_id():
    digits = string.digits + string.ascii_lowercase
    n, out = now_ms(), ''
    while n:
        n, r = divmod(n, 36)
        out = digits[r] + out
    return out + ''.join(random.choice(digits) for _ in range(4))


class Chat:
    def __init__(self, membership, emit, log, bug=None):
        self.membership = membership
        self.transport = membership.transport
        self.profile = membership.profile
        self.name = membership.name
        self.emit = emit
        self.log = log
        self.bug = bug               # 'drop-chat': delivers only its own messages
        self.stream = f'{self.name}:{epoch_id()}'
        self.sent = 0
        self.store = {}              # stream -> {seq: message}, every message delivered here
        self.upto = {}               # stream -> highest seq delivered in order
        self.held = {}               # stream -> {seq: message} waiting for a gap to fill
        self.delivered = []          # [{id, sender, text, sentAt, deliveredAt}] in delivery order
        self.delivered_at = {}       # id -> monotonic ms of delivery here (repair grace)
        self.duplicates = 0
        membership.handlers['chat'] = self.on_chat
        membership.handlers['chat-digest'] = self.on_digest

    def start(self):
        self.membership.every(self.profile.chat_sync_interval_ms, self.sync_tick)

    # --- sending ----------------------------------------------------------

    def send(self, text):
        with self.membership.lock:
            if self.membership.me.state != 'alive':
                raise RuntimeError(f'not a member of a group ({self.membership.me.state})')
            if len(text) > MAX_TEXT:
                raise RuntimeError(f'the text is {len(text)} characters, more than {MAX_TEXT}')
            self.sent += 1
            message = {'id': f'{self.stream}:{self.sent}', 'sender': self.name, 'seq': self.sent, 'text': text, 'sentAt': now_ms()}
            size = len(json.dumps({'t': 'chat', 'from': self.name, 'm': [message]}, ensure_ascii=False).encode())
            if size > self.profile.max_packet_bytes:
                self.sent -= 1
                raise RuntimeError(f'the message takes {size} bytes, more than one datagram ({self.profile.max_packet_bytes})')
            self.emit(ev.CHAT_SENT, ev.chat_sent(id=message['id'], sender=self.name, seq=message['seq'], text=text, deps=[]))
            self.accept(message)
            for m in self.membership.others_live():
                self.transport.send(m.address, {'t': 'chat', 'from': self.name, 'm': [message]})
            return message

    # --- receiving ----------------------------------------------------------

    @staticmethod
    def well_formed(m):
        if not isinstance(m, dict):
            return False
        mid, sender, seq = m.get('id'), m.get('sender'), m.get('seq')
        return (isinstance(mid, str) and 1 <= len(mid) <= 200 and isinstance(sender, str) and isinstance(seq, int)
                and not isinstance(seq, bool) and seq >= 1 and isinstance(m.get('text'), str)
                and isinstance(m.get('sentAt'), (int, float)) and mid.startswith(sender + ':') and mid.endswith(f':{seq}'))

    def on_chat(self, message, _sender, _source):
        items = message.get('m')
        if not isinstance(items, list):
            return
        for m in items:
            if self.well_formed(m):
                self.accept(m)
            else:
                self.transport.malformed += 1

    def accept(self, m):
        if self.bug == 'drop-chat' and m['sender'] != self.name:
            return
        stream = m['id'].rsplit(':', 1)[0]
        upto = self.upto.get(stream, 0)
        held = self.held.setdefault(stream, {})
        if m['seq'] <= upto or m['seq'] in held:
            self.duplicates += 1
            return
        if m['seq'] != upto + 1:
            if sum(len(h) for h in self.held.values()) < MAX_HELD:
                held[m['seq']] = m  # waits for the gap; anti-entropy fills it
            return
        self.deliver(stream, m)
        following = m['seq'] + 1
        while following in held:
            self.deliver(stream, held.pop(following))
            following += 1

    def deliver(self, stream, m):
        self.store.setdefault(stream, {})[m['seq']] = m
        self.upto[stream] = m['seq']
        self.delivered_at[m['id']] = time.monotonic() * 1000
        self.delivered.append({'id': m['id'], 'sender': m['sender'], 'text': m['text'], 'sentAt': m['sentAt'], 'deliveredAt': now_ms()})
        self.emit(ev.CHAT_DELIVERED, ev.chat_delivered(id=m['id'], sender=m['sender'], seq=m['seq'], sent_at=m['sentAt'], deps=[]))

    # --- anti-entropy ---------------------------------------------------------

    def digest(self):
        return {stream: upto for stream, upto in self.upto.items()}

    def sync_tick(self):
        if self.membership.me.state != 'alive':
            return
        others = self.membership.others_live()
        if others:
            self.transport.send(random.choice(others).address, {'t': 'chat-digest', 'from': self.name, 'd': self.digest(), 'reply': False})

    def on_digest(self, message, sender, _source):
        digest = message.get('d')
        if not isinstance(digest, dict):
            return
        now = time.monotonic() * 1000
        grace = self.profile.chat_repair_grace_ms
        missing = []
        for stream, messages in self.store.items():
            have = digest.get(stream, 0)
            have = have if isinstance(have, int) else 0
            for seq in sorted(messages):
                m = messages[seq]
                # Too young to repair: its push is still on the way, and a repair would only race it.
                if seq > have and now - self.delivered_at.get(m['id'], 0) >= grace:
                    missing.append(m)
        self.send_batches(sender, missing)
        if not message.get('reply'):
            self.transport.send(sender, {'t': 'chat-digest', 'from': self.name, 'd': self.digest(), 'reply': True})

    def send_batches(self, address, messages):
        budget = self.profile.max_packet_bytes - 200
        batch, size = [], 0
        for m in messages:
            cost = len(json.dumps(m, ensure_ascii=False).encode()) + 1
            if batch and size + cost > budget:
                self.transport.send(address, {'t': 'chat', 'from': self.name, 'm': batch})
                batch, size = [], 0
            batch.append(m)
            size += cost
        if batch:
            self.transport.send(address, {'t': 'chat', 'from': self.name, 'm': batch})

    # --- views ------------------------------------------------------------------

    def messages(self):
        with self.membership.lock:
            return list(self.delivered)

    def held_count(self):
        with self.membership.lock:
            return sum(len(h) for h in self.held.values())
