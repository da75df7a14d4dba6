"""Membership and chat of a few peers in one process, over real UDP sockets on
loopback: join, convergence, chat, leave, crash, restart, and the legality of
every change each view reports."""
import dataclasses
import threading
import time
import unittest

from peerlab_python_peer.chat import Chat
from peerlab_python_peer.config import PROFILES
from peerlab_python_peer.membership import Membership
from peerlab_python_peer.transport import Transport

# Faster than `local`, so the test waits little; the logic is the same.
FAST = dataclasses.replace(PROFILES['local'], probe_interval_ms=100, probe_timeout_ms=50, gossip_interval_ms=50,
                           push_pull_interval_ms=500, chat_sync_interval_ms=150)


class Node:
    def __init__(self, name, bug=None):
        self.name = name
        self.events = []
        self.lock = threading.Lock()
        self.transport = Transport('127.0.0.1', 0, FAST.max_packet_bytes, lambda *_: None)
        self.membership = Membership(name, self.transport, FAST, self.emit, lambda *_: None, bug=bug)
        self.chat = Chat(self.membership, self.emit, lambda *_: None)
        self.membership.start()
        self.chat.start()

    def emit(self, event_type, data):
        with self.lock:
            self.events.append((event_type, dict(data)))

    def states(self):
        with self.membership.lock:
            return {m.name: m.state for m in self.membership.all()}

    def stop(self):
        self.membership.stop()
        self.transport.close()


def until(condition, timeout=8.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


def legal(before, after):
    """checkers/src/legality.ts, in short."""
    (s0, i0), (s1, i1) = before, after
    if s1 == 'alive':
        return i1 > i0
    if s1 == 'suspect':
        return (s0 == 'alive' and i1 >= i0) or (s0 == 'suspect' and i1 > i0)
    if s1 == 'dead':
        return s0 in ('alive', 'suspect') and i1 >= i0
    return s0 in ('alive', 'suspect', 'dead') and i1 >= i0


STATE_OF = {'member.joined': 'alive', 'member.alive': 'alive', 'member.updated': 'alive', 'member.suspect': 'suspect',
            'member.dead': 'dead', 'member.left': 'left'}


class Group(unittest.TestCase):
    def setUp(self):
        self.nodes = []

    def tearDown(self):
        for n in self.nodes:
            n.stop()
        for n in self.nodes:
            view = {}
            for event_type, data in n.events:
                if event_type not in STATE_OF or data['name'] == n.name:
                    continue
                after = (STATE_OF[event_type], data['incarnation'])
                if data['name'] in view:
                    self.assertTrue(legal(view[data['name']], after), f'{n.name}: {data["name"]} {view[data["name"]]} -> {after}')
                view[data['name']] = after

    def start(self, *names, bug=None):
        nodes = [Node(name, bug) for name in names]
        self.nodes += nodes
        return nodes

    def converged(self, nodes):
        names = {n.name for n in nodes}
        return all({k for k, v in n.states().items() if v in ('alive', 'suspect')} == names for n in nodes)

    def test_join_chat_leave_crash_restart(self):
        a, b, c, d = self.start('a', 'b', 'c', 'd')
        for n in (b, c, d):
            self.assertTrue(n.membership.join([a.transport.address]))
        self.assertTrue(until(lambda: self.converged([a, b, c, d])), [n.states() for n in (a, b, c, d)])
        self.assertIn(('peer.joined', {'via': a.transport.address, 'seeds': 1}), b.events)

        sent = b.chat.send('hello')
        self.assertTrue(until(lambda: all(any(x['id'] == sent['id'] for x in n.chat.messages()) for n in (a, b, c, d))))
        self.assertEqual([e for e in b.events if e[0] == 'chat.sent'][0][1]['text'], 'hello')

        d.membership.leave()
        self.assertTrue(until(lambda: all(n.states().get('d') == 'left' for n in (a, b, c))))

        c.stop()  # a crash: no goodbye
        self.assertTrue(until(lambda: all(n.states().get('c') == 'dead' for n in (a, b))))
        dead = [e for e in a.events if e[0] == 'member.dead' and e[1]['name'] == 'c']
        self.assertEqual(len(dead), 1)

        c2 = Node('c')  # the same name, a new process on a new port
        self.nodes.append(c2)
        self.assertTrue(c2.membership.join([a.transport.address]))
        self.assertTrue(until(lambda: self.converged([a, b, c2])), [n.states() for n in (a, b, c2)])
        with a.membership.lock:
            self.assertGreater(a.membership.members['c'].incarnation, 0)
            self.assertEqual(a.membership.members['c'].address, c2.transport.address)

    def test_a_late_joiner_catches_up_on_chat_by_anti_entropy(self):
        a, b = self.start('a', 'b')
        self.assertTrue(b.membership.join([a.transport.address]))
        first = a.chat.send('before')
        (c,) = self.start('c')
        self.assertTrue(c.membership.join([b.transport.address]))
        self.assertTrue(until(lambda: self.converged([a, b, c])))
        second = a.chat.send('after')
        self.assertTrue(until(lambda: [x['id'] for x in c.chat.messages()] == [first['id'], second['id']]))

    def test_the_no_dead_bug_never_declares_a_crash(self):
        a, b, c = self.start('a', 'b', 'c', bug='no-dead')
        for n in (b, c):
            self.assertTrue(n.membership.join([a.transport.address]))
        self.assertTrue(until(lambda: self.converged([a, b, c])))
        c.stop()
        self.assertTrue(until(lambda: a.states().get('c') == 'suspect'))
        time.sleep(2)
        self.assertEqual(a.states().get('c'), 'suspect')


if __name__ == '__main__':
    unittest.main()
