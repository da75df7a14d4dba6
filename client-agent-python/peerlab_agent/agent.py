"""The agent (PROTOCOL.md sections 1-6): one socket.io connection to the
coordinator, registered with `hello` on every connect; commands answered with
errors as values and within their deadlines; events numbered per process,
batched, kept until acknowledged and sent again after a reconnect; snapshots
and pings answered; reconnect with backoff and a grace period after which the
peer gives up.

Threads: python-socketio runs each incoming message on a thread of its own
(so a slow command never blocks a snapshot); the link thread connects and
reconnects; the flush thread sends event batches, one at a time.
"""
import datetime
import json
import os
import random
import sys
import threading
import time
import uuid

import socketio

from . import events as contract
from .args import CommandError, check_spec, validate_args
from .schema import SchemaError, check

PROTOCOL_VERSION = 1
HELLO_TIMEOUT_S = 5.0
BATCH_ACK_TIMEOUT_S = 5.0
CONNECT_TIMEOUT_S = 5.0
MAX_BATCH = 5000
CLOSE_FLUSH_S = 1.0
# Reconnect backoff (section 6): first retry after 100 ms, doubling to 2 s, +-30 % jitter.
BACKOFF_FIRST_S = 0.1
BACKOFF_MAX_S = 2.0
BACKOFF_JITTER = 0.3
# How long engine.io may take to notice its own closed websocket before the link watchdog steps in;
# it normally notices within milliseconds.
TRANSPORT_STUCK_S = 0.5

EXIT_GAVE_UP = 3
EXIT_PARENT_GONE = 4


def clock():
    """Wall-clock time of day with milliseconds, for log lines."""
    return datetime.datetime.now().strftime('%H:%M:%S.%f')[:-3]


def is_final_refusal(message):
    """A connect error that asking again cannot fix: the run token was refused (section 1).
    The protocol gives it no code, only a message that contains `unauthorized`."""
    return 'unauthorized' in (message or '')


def now_ms():
    return int(time.time() * 1000)


class Command:
    """A command the peer offers: its spec (sent in hello) and what runs it.

    run(args, ctx) returns the result (any JSON value) or raises CommandError;
    format(result, args) returns the text a person reads, or None.
    """

    def __init__(self, name, summary, run, *, group='general', args=(), format=None):
        self.spec = {'name': name, 'group': group, 'summary': summary, 'args': list(args)}
        check_spec(self.spec)
        self.run = run
        self.format = format

    @property
    def name(self):
        return self.spec['name']


class CommandContext:
    """What a handler gets besides its args: the agent, its deadline, and `cancelled`,
    set when the coordinator stopped waiting (deadline, lost connection, shutdown)."""

    def __init__(self, agent, request_id, timeout_ms):
        self.agent = agent
        self.id = request_id
        self.deadline = time.monotonic() + timeout_ms / 1000
        self.cancelled = threading.Event()

    def remaining_s(self):
        return max(0.0, self.deadline - time.monotonic())


def capabilities(events=(), fields=()):
    """The capabilities object of hello and --describe-commands (section 2)."""
    return {'events': list(events), 'fields': list(fields)}


def describe(commands, caps):
    """What `--describe-commands` prints: {commands, capabilities}, as in hello."""
    return json.dumps({'commands': [c.spec for c in commands], 'capabilities': caps})


def stderr_log(level, message):
    print(f'{clock()} agent {level}: {message}', file=sys.stderr, flush=True)


class ConnectionDropped(ConnectionError):
    """The connection a request went out on closed before its answer came."""


class _Call:
    """One request awaiting its ack, ended early when its connection drops."""

    def __init__(self):
        self.done = threading.Event()
        self.answer = None
        self.dropped = False

    def acked(self, *args):
        self.answer = args[0] if len(args) == 1 else (list(args) or None)
        self.done.set()

    def drop(self):
        self.dropped = True
        self.done.set()


class Agent:
    def __init__(self, name, coordinator, token, *, commands, capabilities, snapshot=None,
                 address=lambda: '127.0.0.1:0', version='0.1.0', grace_ms=5000, log=stderr_log,
                 on_give_up=None):
        self.name = name
        self.url = coordinator
        self.token = token
        self.commands = {c.name: c for c in commands}
        self.capabilities = capabilities
        self.snapshot_fn = snapshot
        self.address = address
        self.version = version
        self.grace_s = grace_ms / 1000
        self.log = log
        self.on_give_up = on_give_up or self._default_give_up
        self.instance = str(uuid.uuid4())
        self.run_id = None
        self.settings = {'commandTimeoutMs': 10000, 'flushIntervalMs': 50}

        self._lock = threading.Lock()
        self._seq = 0
        self._pending = []            # recorded, not yet acknowledged; oldest first
        self._flush_due = None        # monotonic time of the next flush, None when none is scheduled
        self._wake = threading.Condition(self._lock)
        self._in_flight = threading.Lock()
        self._registered = False      # hello accepted on the current connection
        self._connection = 0          # counts connections, so a late hello ack is recognised as stale
        self._down_since = None       # monotonic time of the first failure since the last accepted hello
        self._refusal = None          # why the current connection attempt failed, from connect_error
        self._handshake = threading.Event()  # the current attempt's handshake was answered, either way
        self._closing = False
        self._stopped = threading.Event()
        self._live_commands = {}      # id -> CommandContext, to cancel on disconnect and shutdown
        self._link_up = False         # the namespace is connected: requests may go out
        self._calls = set()           # requests awaiting their acks, ended when the connection drops
        self.registrations = 0
        self._gone_since = None       # monotonic time the watchdog first saw the websocket closed under a live link
        self._nudged = False

        self.sio = socketio.Client(reconnection=False)  # the link thread reconnects, also after a server-side disconnect
        self.sio.on('connect', self._on_connect)
        self.sio.on('connect_error', self._on_connect_error)
        self.sio.on('disconnect', self._on_disconnect)
        self.sio.on('command', self._on_command)
        self.sio.on('snapshot', self._on_snapshot)
        self.sio.on('ping', lambda payload=None: payload)

    # --- events (section 4) ---------------------------------------------------

    def record(self, event_type, data):
        """Numbers and stamps one event, after checking it against the contract
        (a listed type) or the envelope (an extension): a refusal by the hub
        would block every later event, so a bad event is refused here."""
        if not isinstance(event_type, str) or not 1 <= len(event_type) <= 64:
            raise SchemaError('type', f'type: expected a string of 1-64 characters, got {event_type!r}')
        contract.check_data(event_type, data)
        with self._lock:
            self._seq += 1
            self._pending.append({'seq': self._seq, 'time': now_ms(), 'type': event_type, 'data': data})
            if self._flush_due is None:
                self._flush_due = time.monotonic() + self.settings['flushIntervalMs'] / 1000
                self._wake.notify_all()
            return self._seq

    @property
    def seq(self):
        with self._lock:
            return self._seq

    def pending_count(self):
        with self._lock:
            return len(self._pending)

    def flush_soon(self):
        with self._lock:
            self._flush_due = time.monotonic()
            self._wake.notify_all()

    def _flush_loop(self):
        while not self._stopped.is_set():
            with self._lock:
                while not self._stopped.is_set() and (self._flush_due is None or self._flush_due > time.monotonic()):
                    timeout = None if self._flush_due is None else max(0.0, self._flush_due - time.monotonic())
                    self._wake.wait(timeout if timeout is not None else 1.0)
                self._flush_due = None
            if self._stopped.is_set():
                return
            self.flush()
            with self._lock:
                if self._pending and self._registered and self._flush_due is None:
                    self._flush_due = time.monotonic() + self.settings['flushIntervalMs'] / 1000

    def flush(self, timeout=BATCH_ACK_TIMEOUT_S):
        """Sends the oldest pending events as one batch, if registered; True when acknowledged."""
        if not self._in_flight.acquire(timeout=timeout):
            return False
        try:
            with self._lock:
                batch = self._pending[:min(MAX_BATCH, self.settings.get('maxBatchEvents', MAX_BATCH))]
                registered = self._registered
            if not registered or not batch:
                return not batch
            try:
                ack = self._call('events', {'peer': self.name, 'events': batch}, timeout)
            except Exception as error:  # no ack, or disconnected: keep the events for the next connection
                self.log('debug', f'event batch not acknowledged: {error!r}')
                return False
            if not isinstance(ack, dict) or not ack.get('ok'):
                self.log('warn', f'event batch refused: {ack.get("error") if isinstance(ack, dict) else ack!r}')
                return False
            for rejection in ack.get('rejected') or []:
                self.log('warn', f'event rejected by the contract: {rejection}')
            last = batch[-1]['seq']
            with self._lock:
                self._pending = [e for e in self._pending if e['seq'] > last]
            return True
        finally:
            self._in_flight.release()

    # --- the connection (sections 2 and 6) -----------------------------------

    def start(self):
        """Starts the link and flush threads; returns at once."""
        threading.Thread(target=self._link_loop, name='agent-link', daemon=True).start()
        threading.Thread(target=self._flush_loop, name='agent-flush', daemon=True).start()

    def _link_loop(self):
        delay = BACKOFF_FIRST_S
        while not self._stopped.is_set():
            with self._lock:
                down = self._down_since
            if down is not None and time.monotonic() - down > self.grace_s:
                self._give_up(EXIT_GAVE_UP, f'coordinator unreachable for {int(self.grace_s * 1000)} ms')
                return
            if self._closing:
                return
            if not self.sio.connected:
                failure = self._connect_once()
                if failure is None:
                    delay = BACKOFF_FIRST_S
                else:
                    if self._stopped.is_set():
                        return
                    if is_final_refusal(failure):
                        self._give_up(EXIT_GAVE_UP, f'coordinator refused the token: {failure}')
                        return
                    self.log('debug', f'cannot reach coordinator: {failure}')
                    self._mark_down()
                    self._stopped.wait(min(delay * random.uniform(1 - BACKOFF_JITTER, 1 + BACKOFF_JITTER), self._grace_left()))
                    delay = min(delay * 2, BACKOFF_MAX_S)
                    continue
            else:
                self._watch_transport()
            self._stopped.wait(0.05)

    def _transport_gone(self):
        """True when engine.io still counts the connection as up though its websocket has closed.
        Reads python-engineio's internals (4.3.4); any other shape reads as not gone, so a
        different version keeps the library's own behaviour."""
        try:
            eio = self.sio.eio
            return (eio.state == 'connected' and eio.current_transport == 'websocket'
                    and eio.ws is not None and getattr(eio.ws, 'connected', True) is False)
        except Exception:
            return False

    def _watch_transport(self):
        """The link watchdog. python-engineio 4.3.4's write loop drops the stop marker its read
        loop queues when the server closes, if an outgoing packet (an event batch sent just as the
        server closed) is queued before it; the write loop then waits up to max(pingInterval,
        pingTimeout) + 5 s (30 s against the coordinator's defaults) and the read loop, which joins
        it, fires no disconnect until then: no grace period, no reconnect. When the websocket is
        closed but the link still up for longer than engine.io ever takes on its own, the watchdog
        queues the marker again, so engine.io ends the connection its usual way and the disconnect
        handler runs once, as for any lost connection. Should that not end it, it disconnects."""
        if not self._transport_gone():
            self._gone_since = None
            return
        now = time.monotonic()
        if self._gone_since is None:
            self._gone_since, self._nudged = now, False
            return
        if not self._nudged and now - self._gone_since > TRANSPORT_STUCK_S:
            self._nudged = True
            self.log('debug', 'the websocket closed but engine.io still holds the connection; ending it')
            try:
                self.sio.eio.queue.put(None)
            except Exception:
                pass
        elif self._nudged and now - self._gone_since > 4 * TRANSPORT_STUCK_S:
            self._gone_since = None
            self._disconnect_quietly()

    def _call(self, event, payload, timeout):
        """Sends a request and returns its ack; raises TimeoutError when none comes in time,
        ConnectionDropped when the connection closes first.

        Not sio.call: python-socketio (5.7.2) keeps waiting for an ack the closed connection
        can no longer bring, for the whole timeout. A batch that waits so would hold back the
        resend after a reconnect by seconds, since one batch is in flight at a time (section 4)."""
        call = _Call()
        with self._lock:
            if not self._link_up:
                raise ConnectionDropped('not connected')
            self._calls.add(call)
        try:
            self.sio.emit(event, payload, callback=call.acked)
            if not call.done.wait(timeout):
                raise TimeoutError(f'no ack to {event} within {int(timeout * 1000)} ms')
            if call.dropped:
                raise ConnectionDropped(f'the connection closed before {event} was acknowledged')
            return call.answer
        finally:
            with self._lock:
                self._calls.discard(call)

    def _connect_once(self):
        """One connection attempt: None once the namespace is connected, else why not.

        The attempt ends when the handshake is answered either way. python-socketio's
        connect(wait=True) (5.7.2) does not: after a connect error it waits out its whole
        wait_timeout, so a refused token would keep the peer running seconds after a
        refusal that is final (section 1). So connect() returns once the transport is up,
        and the connect or connect_error handler ends the wait."""
        self._handshake.clear()
        self._refusal = None
        try:
            self.sio.connect(self.url, auth={'token': self.token}, transports=['websocket'], wait=False)
        except Exception as error:  # the transport did not open (nothing listening, an HTTP refusal)
            return self._refusal or str(error) or repr(error)
        if self._handshake.wait(CONNECT_TIMEOUT_S) and self._refusal is None:
            return None
        refusal = self._refusal or f'no answer to the connect within {int(CONNECT_TIMEOUT_S * 1000)} ms'
        self._disconnect_quietly()
        return refusal

    def _disconnect_quietly(self):
        try:
            self.sio.disconnect()
        except Exception:
            pass

    def _grace_left(self):
        """Seconds until the grace period runs out (a little past, so that it has); the
        backoff sleeps no longer, so the peer exits when the period ends, not a retry later."""
        with self._lock:
            down = self._down_since
        return self.grace_s if down is None else max(0.0, down + self.grace_s - time.monotonic()) + 0.005

    def _mark_down(self):
        with self._lock:
            if self._down_since is None:
                self._down_since = time.monotonic()

    def _on_connect(self):
        with self._lock:
            self._connection += 1
            connection = self._connection
            self._link_up = True
        self._handshake.set()
        # The connect handler runs on the socket's reader thread: hello must wait for its ack elsewhere.
        self.sio.start_background_task(self._hello, connection)

    def _hello(self, connection):
        hello = {
            'protocol': PROTOCOL_VERSION, 'peer': self.name, 'pid': os.getpid(), 'version': self.version,
            'address': self.address(), 'commands': [c.spec for c in self.commands.values()],
            'instance': self.instance, 'capabilities': self.capabilities,
        }
        try:
            ack = self._call('hello', hello, HELLO_TIMEOUT_S)
        except ConnectionDropped:
            return  # the link thread connects again, and the next connection says hello
        except Exception as error:
            self.log('warn', f'hello not answered: {error!r}; connecting again')
            self._drop(connection)
            return
        if not self._current(connection):
            return  # answered on a connection that has since dropped; the next one says hello again
        if not isinstance(ack, dict):
            self._drop(connection)
            return
        if not ack.get('ok'):
            error = ack.get('error') or {}
            self._give_up(EXIT_GAVE_UP, f'coordinator refused registration: {error.get("message")} ({error.get("code")})')
            return
        settings = ack.get('settings') or {}
        run_id = ack.get('runId')
        good = (isinstance(run_id, str) and 1 <= len(run_id) <= 200
                and all(isinstance(settings.get(k), int) and not isinstance(settings.get(k), bool) and settings[k] >= 1
                        for k in ('commandTimeoutMs', 'flushIntervalMs')))
        if not good:
            self.log('warn', f'malformed hello ack {ack!r}; connecting again')
            self._drop(connection)
            return
        with self._lock:
            if connection != self._connection or not self._link_up:
                return
            self.run_id = run_id
            self.settings = {'commandTimeoutMs': settings['commandTimeoutMs'], 'flushIntervalMs': settings['flushIntervalMs']}
            # Optional: the coordinator holds every agent's batch until its turn, and sizes batches for the run.
            cap = settings.get('maxBatchEvents')
            if isinstance(cap, int) and not isinstance(cap, bool) and cap >= 1:
                self.settings['maxBatchEvents'] = cap
            self._registered = True
            self._down_since = None
            self.registrations += 1
            self._flush_due = time.monotonic()
            self._wake.notify_all()
        self.log('info', f'registered as {self.name} in run {run_id}')

    def _current(self, connection):
        with self._lock:
            return connection == self._connection and self._link_up

    def _drop(self, connection):
        """Ends a connection whose hello went wrong, unless it has ended already: the
        link thread may be opening the next one."""
        self._mark_down()
        if self._current(connection):
            self._disconnect_quietly()

    def _on_connect_error(self, data=None):
        # A refused namespace handshake gives the server's {message, data}; a transport that
        # failed gives its error text.
        message = data.get('message') if isinstance(data, dict) else data
        self._refusal = str(message) if message else 'connect error'
        self._mark_down()
        self._handshake.set()

    def _on_disconnect(self):
        with self._lock:
            self._registered = False
            self._link_up = False
            live = list(self._live_commands.values())
            calls = list(self._calls)
        for call in calls:
            call.drop()
        for ctx in live:
            ctx.cancelled.set()
        if not self._closing:
            self.log('debug', 'disconnected')
            self._mark_down()

    @property
    def registered(self):
        with self._lock:
            return self._registered

    def wait_registered(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.registered:
                return True
            time.sleep(0.02)
        return False

    # --- commands (section 3) and snapshots (section 5) ------------------------

    def _on_command(self, request=None):
        ok_shape = (isinstance(request, dict) and isinstance(request.get('id'), str) and 1 <= len(request['id']) <= 100
                    and isinstance(request.get('name'), str))
        if not ok_shape:
            rid = request.get('id') if isinstance(request, dict) and isinstance(request.get('id'), str) and request['id'] else '?'
            return {'id': rid, 'ok': False, 'error': {'message': 'malformed command request: expected {id, name, args?, timeoutMs}', 'code': 'bad-message'}}
        rid, name = request['id'], request['name']
        timeout_ms = request.get('timeoutMs')
        if not (isinstance(timeout_ms, int) and not isinstance(timeout_ms, bool) and timeout_ms >= 1):
            return self._reply_error(rid, f'command.timeoutMs: expected an integer >= 1, got {json.dumps(timeout_ms)}', 'bad-message')
        if 'args' in request and not isinstance(request['args'], dict):
            return self._reply_error(rid, f'command.args: expected an object, got {json.dumps(request["args"])[:60]}', 'bad-message')
        command = self.commands.get(name)
        if command is None:
            return self._reply_error(rid, f'unknown command "{name}". Type "help" for the list.', 'unknown-command')
        try:
            args = validate_args(command.spec, request.get('args') or {})
        except CommandError as error:
            return self._reply_error(rid, str(error), error.code)

        ctx = CommandContext(self, rid, timeout_ms)
        box = {}
        guard = threading.Lock()  # decides once whether the reply carries the result or a timeout
        started = time.monotonic()

        def work():
            try:
                result = command.run(args, ctx)
                text = None
                if command.format is not None and args.get('json') is not True:
                    try:
                        text = command.format(result, args)
                    except Exception:
                        text = None  # a rendering that fails is left out, the command still succeeded
                outcome = {'reply': (result, text)}
            except CommandError as error:
                outcome = {'error': {'message': str(error), 'code': error.code}}
            except Exception as error:
                outcome = {'error': {'message': f'{name}: {error}', 'code': 'failed'}}
            with guard:
                abandoned = box.get('abandoned', False)
                box.update(outcome)
            if abandoned:
                late = {'id': rid, 'name': name, 'ms': round((time.monotonic() - started) * 1000), 'ok': 'reply' in outcome}
                if 'error' in outcome:
                    late['error'] = outcome['error']['message']
                self.record(contract.COMMAND_LATE, late)

        with self._lock:
            self._live_commands[rid] = ctx
        worker = threading.Thread(target=work, name=f'command-{rid}', daemon=True)
        worker.start()
        worker.join(ctx.remaining_s())
        with self._lock:
            self._live_commands.pop(rid, None)
        with guard:
            if 'reply' not in box and 'error' not in box:
                box['abandoned'] = True
                ctx.cancelled.set()  # the handler is told, not killed; it records command.late when it ends
        self.flush_soon()  # the events the command caused go right after the reply; `seq` says how far
        if box.get('abandoned'):
            return self._reply_error(rid, f'{name} did not finish within {timeout_ms} ms', 'timeout')
        if 'reply' in box:
            result, text = box['reply']
            reply = {'id': rid, 'ok': True, 'result': result, 'seq': self.seq}
            if text is not None:
                reply['text'] = text
            return reply
        return {'id': rid, 'ok': False, 'error': box['error'], 'seq': self.seq}

    def _reply_error(self, rid, message, code):
        return {'id': rid, 'ok': False, 'error': {'message': message, 'code': code}, 'seq': self.seq}

    def _on_snapshot(self, _request=None):
        if self.snapshot_fn is None:
            return {'ok': False, 'error': {'message': 'this peer takes no snapshots', 'code': 'failed'}}
        try:
            snap = self.snapshot_fn()
            check(SNAPSHOT, snap, 'snapshot')
            return {'ok': True, 'snapshot': snap}
        except Exception as error:
            return {'ok': False, 'error': {'message': str(error), 'code': 'failed'}}

    # --- the end (section 6) ---------------------------------------------------

    def close(self, timeout=CLOSE_FLUSH_S):
        """Sends what is pending (waiting at most `timeout`), then disconnects."""
        self._closing = True
        with self._lock:
            live = list(self._live_commands.values())
        for ctx in live:
            ctx.cancelled.set()
        end = time.monotonic() + timeout
        while self.pending_count() and self.registered and time.monotonic() < end:
            if not self.flush(timeout=max(0.05, end - time.monotonic())):
                break
        self._stopped.set()
        with self._lock:
            self._wake.notify_all()
        try:
            self.sio.disconnect()
        except Exception:
            pass

    def _give_up(self, code, reason):
        self.log('warn', f'exiting: {reason}')
        self._stopped.set()
        self.on_give_up(code, reason)

    @staticmethod
    def _default_give_up(code, _reason):
        os._exit(code)


# What the hub checks in a snapshot (section 5).
SNAPSHOT = {
    'type': 'object',
    'required': ['peer', 'members', 'messages'],
    'properties': {
        'peer': {'type': 'string', 'pattern': r'^[A-Za-z0-9._-]{1,64}$'},
        'members': {'type': 'array', 'items': {
            'type': 'object', 'required': ['name', 'state', 'incarnation'],
            'properties': {
                'name': {'type': 'string', 'minLength': 1, 'maxLength': 64},
                'state': {'type': 'string', 'enum': ['alive', 'suspect', 'dead', 'left']},
                'incarnation': {'type': 'integer', 'minimum': 0},
            }}},
        'messages': {'type': 'object', 'required': ['count', 'ids'], 'properties': {
            'count': {'type': 'integer', 'minimum': 0}, 'ids': {'type': 'array'}}},
    },
}
