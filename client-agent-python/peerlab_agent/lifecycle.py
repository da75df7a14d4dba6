"""What keeps a peer from outliving its run (PROTOCOL.md section 6): the
parent-pid watch and the signals. Exit codes: 0 after a graceful leave, 3 the
agent gave up (agent.py), 4 the parent is gone, 130/143 a second signal.
"""
import os
import select
import signal
import socket
import sys
import threading
import time

from .agent import EXIT_PARENT_GONE
from .flags import parent_pid

PARENT_CHECK_S = 0.25


def watch_parent(on_gone, expected=None, interval=PARENT_CHECK_S):
    """Calls on_gone() once the parent process is no longer `expected`
    (PEERLAB_PARENT_PID by default); does nothing without one. on_gone should
    send pending events and exit 4 without leaving the group."""
    expected = parent_pid() if expected is None else expected
    if expected is None:
        return None

    def loop():
        while os.getppid() == expected:
            time.sleep(interval)
        print(f'parent {expected} is gone; exiting', file=sys.stderr, flush=True)
        on_gone()

    thread = threading.Thread(target=loop, name='parent-watch', daemon=True)
    thread.start()
    return thread


def parent_gone_exit(agent):
    """The standard reaction to a lost parent: flush what is pending (at most 1 s), exit 4."""

    def gone():
        try:
            agent.close()
        finally:
            os._exit(EXIT_PARENT_GONE)

    return gone


def on_terminate(leave, pending=()):
    """SIGTERM and SIGINT: run leave() (leave the group, flush, disconnect) and
    exit 0; a second signal while it runs exits at once, 128 + the signal.
    `pending`: signals that came before this was installed (held by an earlier
    handler); the first is acted on now."""
    state = {'leaving': False}

    def handler(signum, _frame):
        if state['leaving']:
            os._exit(128 + signum)
        state['leaving'] = True
        # Off the signal handler's frame, so that a second signal can still interrupt the wait.
        thread = threading.Thread(target=_leave_and_exit, args=(leave,), name='graceful-leave', daemon=True)
        thread.start()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    if pending:
        handler(pending[0], None)


def wait_forever():
    """The main thread's idle wait, for a peer whose work runs on other threads.

    A signal sent to the process may be taken by any of its threads. CPython runs the
    Python handler on the main thread, but only when that thread runs bytecode again:
    a main thread in time.sleep(3600) did not until the hour was up, so a SIGTERM that
    landed on a socket thread left the peer running until it was killed. With a wakeup
    fd the C-level handler wakes the main thread, whichever thread took the signal;
    the one-second timeout is a backstop should something else own the wakeup fd."""
    wake, woken = socket.socketpair()
    woken.setblocking(False)
    signal.set_wakeup_fd(woken.fileno(), warn_on_full_buffer=False)
    while True:
        ready, _, _ = select.select([wake], [], [], 1.0)
        if ready:
            wake.recv(64)


def _leave_and_exit(leave):
    code = 0
    try:
        leave()
    except Exception as error:
        print(f'graceful leave failed: {error!r}', file=sys.stderr, flush=True)
        code = 1
    sys.stderr.flush()
    os._exit(code)
