"""The link watchdog against python-engineio's own read and write loops (the
real engineio.Client, over a stand-in websocket): when the server closes just
as an event batch is queued, engine.io 4.3.4's write loop drops the stop marker
and the disconnect would come only after max(pingInterval, pingTimeout) + 5 s;
the watchdog ends the connection within a second, and the disconnect handler
runs once."""
import threading
import time
import unittest

import engineio

from peerlab_agent import Agent, capabilities


class ClosingWebSocket:
    """websocket-client's WebSocket as the server closes it: recv gets the close
    frame (connected turns False, recv returns ''); the first send can be held
    so that a second packet and the stop marker queue up behind it."""

    def __init__(self):
        self.connected = True
        self.sent = []
        self.sending = threading.Event()
        self.release = threading.Event()
        self.server_closed = threading.Event()

    def recv(self):
        self.server_closed.wait()
        self.connected = False
        return ''

    def send(self, data):
        self.sending.set()
        self.release.wait()
        self.sent.append(data)

    send_binary = send

    def close(self, *args, **kwargs):
        self.connected = False


class StandInClient:
    """python-socketio's Client as far as the watchdog reads it: `connected` and `eio`."""

    def __init__(self, eio):
        self.eio = eio
        self.connected = True

    def disconnect(self):
        self.eio.disconnect(abort=True)


def stuck_engineio():
    """A real engine.io client whose server closed while a batch waited behind one being
    sent: its read loop has queued the stop marker behind the batch."""
    eio = engineio.Client()
    ws = ClosingWebSocket()
    eio.state, eio.current_transport, eio.ws = 'connected', 'websocket', ws
    eio.ping_interval, eio.ping_timeout = 25, 20  # socket.io's defaults, which the coordinator keeps
    eio.queue = eio.create_queue()
    dropped = []
    eio.on('disconnect', lambda: dropped.append(time.monotonic()))
    eio.write_loop_task = eio.start_background_task(eio._write_loop)
    eio.send('first batch')
    assert ws.sending.wait(2)
    eio.send('events batch')  # sent just as the server closes
    eio.read_loop_task = eio.start_background_task(eio._read_loop_websocket)
    ws.server_closed.set()
    deadline = time.monotonic() + 2
    while eio.queue.qsize() < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert eio.queue.qsize() == 2, 'the batch, then the stop marker'
    ws.release.set()
    return eio, dropped


def until(check, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end and not check():
        time.sleep(0.01)
    return check()


class Watchdog(unittest.TestCase):
    def test_engineio_alone_keeps_the_dead_connection(self):
        eio, dropped = stuck_engineio()
        if until(lambda: dropped, 1.5):
            self.skipTest('this python-engineio keeps its stop marker; the watchdog is not needed')
        self.assertEqual(eio.state, 'connected', 'the write loop dropped the stop marker: no disconnect')
        eio.queue.put(None)  # let its threads end

    def test_the_watchdog_ends_it_and_the_disconnect_fires_once(self):
        eio, dropped = stuck_engineio()
        agent = Agent('alice', 'http://127.0.0.1:9', 'right', commands=[], capabilities=capabilities(),
                      log=lambda *_: None, on_give_up=lambda *_: None)
        agent.sio = StandInClient(eio)
        started = time.monotonic()
        self.assertTrue(until(lambda: (agent._watch_transport(), dropped)[1], 2), 'the disconnect fired')
        self.assertLess(dropped[0] - started, 1.5)
        self.assertEqual(eio.state, 'disconnected')
        for _ in range(20):
            agent._watch_transport()  # nothing left to end: no second disconnect
            time.sleep(0.05)
        self.assertEqual(len(dropped), 1)

    def test_an_unknown_engineio_shape_reads_as_alive(self):
        agent = Agent('alice', 'http://127.0.0.1:9', 'right', commands=[], capabilities=capabilities(),
                      log=lambda *_: None, on_give_up=lambda *_: None)
        agent.sio = object()
        agent._watch_transport()
        self.assertFalse(agent._transport_gone())


if __name__ == '__main__':
    unittest.main()
