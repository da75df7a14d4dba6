"""The agent's connection over time: a refused token ends it at once, a dropped
connection does not hold back the resend, registration happens once per
connection. The socket is a stand-in that behaves as python-socketio 5.7.2's
client does where it matters (connect(wait=True) waits out wait_timeout after a
connect error; an ack lost with its connection never comes); the coordinator
cannot be made to refuse or drop on cue at a chosen moment from here.
python-peer.test.ts checks the same against the real coordinator."""
import threading
import time
import unittest

from peerlab_agent import Agent, capabilities
from peerlab_agent.agent import BATCH_ACK_TIMEOUT_S, CONNECT_TIMEOUT_S

HELLO_ACK = {'ok': True, 'runId': 'run-1', 'settings': {'commandTimeoutMs': 10000, 'flushIntervalMs': 20}}


class StandInSocket:
    """The coordinator's end and python-socketio's client in one: `refuse` makes the
    handshake fail with that connect error; `hold_events` leaves event batches
    unanswered; `drop()` closes the connection from the server's side."""

    def __init__(self, agent, refuse=None):
        self.agent = agent
        self.refuse = refuse
        self.hold_events = False
        self.connected = False
        self.attempts = 0
        self.hellos = []      # monotonic times the hellos came
        self.batches = []     # (monotonic time, [seq...]) per batch, as they came
        self.in_flight = 0
        self.most_in_flight = 0
        self.recorded = []    # seqs the coordinator keeps, duplicates dropped
        self._lock = threading.Lock()

    def connect(self, _url, auth=None, transports=None, wait=True, wait_timeout=1):
        assert auth == {'token': self.agent.token} and transports == ['websocket']
        self.attempts += 1
        if self.refuse is not None:
            answered = threading.Event()
            self._later(lambda: (self.agent._on_connect_error({'message': self.refuse}), answered.set()))
            if wait:  # 5.7.2: the wait loop ends only when every namespace connected, or at wait_timeout
                time.sleep(wait_timeout)
                raise ConnectionError('One or more namespaces failed to connect')
            self.connected = True  # wait=False: set once the transport is up, whatever the namespace says
            return
        self.connected = True
        self._later(self.agent._on_connect)

    def disconnect(self):
        if self.connected:
            self.connected = False
            self.agent._on_disconnect()

    drop = disconnect

    def start_background_task(self, target, *args):
        threading.Thread(target=target, args=args, daemon=True).start()

    def emit(self, event, data, callback=None):
        if event == 'hello':
            self.hellos.append(time.monotonic())
            self._later(lambda: callback(HELLO_ACK))
        elif event == 'events':
            seqs = [e['seq'] for e in data['events']]
            with self._lock:
                self.batches.append((time.monotonic(), seqs))
                self.in_flight += 1
                self.most_in_flight = max(self.most_in_flight, self.in_flight)
            if not self.hold_events:
                self._later(lambda: self._ack(seqs, callback))

    def _ack(self, seqs, callback):
        with self._lock:
            self.in_flight -= 1
            self.recorded += [q for q in seqs if q not in self.recorded]
        callback({'ok': True, 'lastSeq': seqs[-1]})

    @staticmethod
    def _later(fn):
        threading.Timer(0.005, fn).start()


def until(check, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        time.sleep(0.005)
    return check()


class Link(unittest.TestCase):
    def start(self, refuse=None, grace_ms=5000):
        ended = []
        agent = Agent('alice', 'http://127.0.0.1:9', 'right', commands=[], capabilities=capabilities(),
                      grace_ms=grace_ms, log=lambda *_: None, on_give_up=lambda code, reason: ended.append((code, reason)))
        agent.sio = StandInSocket(agent, refuse)
        self.addCleanup(agent.close, 0.1)
        return agent, ended

    def test_a_refused_token_ends_the_agent_at_once_with_code_3(self):
        agent, ended = self.start(refuse='unauthorized: a valid run token is required')
        started = time.monotonic()
        agent.start()
        self.assertTrue(until(lambda: ended, CONNECT_TIMEOUT_S + 1), 'it gave up')
        self.assertLess(time.monotonic() - started, 1.0, 'at once, not after a connect timeout')
        self.assertEqual(ended, [(3, 'coordinator refused the token: unauthorized: a valid run token is required')])
        self.assertEqual(agent.sio.attempts, 1, 'a final refusal is not retried')

    def test_another_connect_error_is_retried_and_the_grace_period_ends_it(self):
        agent, ended = self.start(refuse='server busy', grace_ms=400)
        started = time.monotonic()
        agent.start()
        self.assertTrue(until(lambda: ended, 5), 'it gave up')
        self.assertEqual(ended[0][0], 3)
        self.assertIn('unreachable for 400 ms', ended[0][1])
        self.assertGreaterEqual(time.monotonic() - started, 0.4)
        self.assertGreater(agent.sio.attempts, 1, 'each attempt ends when it is refused, and the next follows with backoff')

    def test_after_a_drop_the_unacknowledged_batch_goes_again_right_after_the_new_hello(self):
        agent, _ = self.start()
        link = agent.sio
        agent.record('x.y', {})
        agent.start()
        self.assertTrue(until(lambda: link.recorded == [1], 2), 'the first batch is acknowledged')
        link.hold_events = True
        agent.record('x.y', {})
        agent.record('x.y', {})
        self.assertTrue(until(lambda: len(link.batches) == 2, 2), 'the second batch went out')
        agent.record('x.y', {})  # while the batch is in flight: it waits, one batch at a time
        time.sleep(0.1)
        self.assertEqual([b[1] for b in link.batches], [[1], [2, 3]])
        link.hold_events = False
        link.drop()  # its ack never comes
        self.assertTrue(until(lambda: len(link.hellos) == 2, 2), 'it says hello again')
        self.assertTrue(until(lambda: link.recorded == [1, 2, 3, 4], 2), 'the held events go again')
        resend_at, resent = link.batches[2]
        self.assertEqual(resent, [2, 3, 4], 'from the oldest unacknowledged, in order, the one recorded meanwhile after them')
        self.assertLess(resend_at - link.hellos[1], 1.0, f'right after the new hello, not after the {BATCH_ACK_TIMEOUT_S:.0f} s ack timeout')
        # The coordinator keeps the batch before its ack reaches the flush thread, which forgets it then.
        self.assertTrue(until(lambda: agent.pending_count() == 0, 2), 'acknowledged events are forgotten')
        self.assertEqual(agent.registrations, 2)

    def test_a_drop_ends_the_wait_for_an_ack_and_keeps_the_batch(self):
        agent, _ = self.start()
        link = agent.sio
        agent.start()
        self.assertTrue(until(lambda: agent.registered, 2))
        agent._stopped.set()  # the flush thread stops: this test sends by hand
        link.hold_events = True
        agent.record('x.y', {})
        threading.Timer(0.1, link.drop).start()
        started = time.monotonic()
        self.assertFalse(agent.flush())
        self.assertLess(time.monotonic() - started, 1.0, 'the drop ended the wait, not the ack timeout')
        self.assertEqual(agent.pending_count(), 1, 'kept for the next connection')


if __name__ == '__main__':
    unittest.main()
