"""peerlab_agent: the peerlab agent protocol (docs/PROTOCOL.md) for peers written in Python.

    from peerlab_agent import Agent, Command, arg, capabilities, parse_flags, events

Needs python-socketio 5 with its websocket client (Debian: python3-socketio,
python3-websocket); the rest is the standard library.
"""
from . import events
from .agent import EXIT_GAVE_UP, EXIT_PARENT_GONE, PROTOCOL_VERSION, Agent, Command, CommandContext, capabilities, describe, now_ms
from .args import CommandError, arg, parse_line, parse_words, split_words, usage, validate_args
from .flags import FlagError, PeerFlags, bootstrap_token, parent_pid, parse_flags
from .lifecycle import on_terminate, parent_gone_exit, wait_forever, watch_parent
from .schema import SchemaError

__all__ = [
    'Agent', 'Command', 'CommandContext', 'CommandError', 'EXIT_GAVE_UP', 'EXIT_PARENT_GONE', 'FlagError',
    'PROTOCOL_VERSION', 'PeerFlags', 'SchemaError', 'arg', 'bootstrap_token', 'capabilities', 'describe',
    'events', 'now_ms', 'on_terminate', 'parent_gone_exit', 'parent_pid', 'parse_flags', 'parse_line',
    'parse_words', 'split_words', 'usage', 'validate_args', 'wait_forever', 'watch_parent',
]
__version__ = '0.1.0'
