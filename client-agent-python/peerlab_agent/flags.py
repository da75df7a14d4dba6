"""The flags the fleet passes to every peer (PROTOCOL.md section 6).

    <command...> --name <name> --port 0 --profile <local|lan|wan> --coordinator <url>
                 --agent-grace <ms> --bootstrap <url>/bootstrap --data-dir <dir>
                 [--host <address>] [extra args...]

Flags this module does not know are ignored (a peer must not fail on them);
a peer adds its own with `extra`.
"""
import os
import re
from dataclasses import dataclass, field

NAME_PATTERN = re.compile(r'^[A-Za-z0-9._-]{1,64}$')
DEFAULT_GRACE_MS = 5000  # a peer started by hand; the fleet passes its own


class FlagError(ValueError):
    """A flag the peer cannot run with: exit 2."""


@dataclass
class PeerFlags:
    name: str = ''
    names: list = field(default_factory=list)
    port: int = 0
    host: str = '127.0.0.1'
    profile: str = 'local'
    coordinator: str = ''
    agent_grace_ms: int = DEFAULT_GRACE_MS
    bootstrap: str = ''
    data_dir: str = ''
    token: str = ''
    describe_commands: bool = False
    extra: dict = field(default_factory=dict)
    ignored: list = field(default_factory=list)


# flag -> (attribute, kind); kind: str, int, bool (no value), list (comma-separated)
KNOWN = {
    '--name': ('name', str),
    '--names': ('names', list),
    '--port': ('port', int),
    '--host': ('host', str),
    '--profile': ('profile', str),
    '--coordinator': ('coordinator', str),
    '--agent-grace': ('agent_grace_ms', int),
    '--bootstrap': ('bootstrap', str),
    '--data-dir': ('data_dir', str),
    '--token': ('token', str),
    '--describe-commands': ('describe_commands', bool),
}


def _value(flag, kind, text):
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise FlagError(f'{flag}: expected an integer, got {text!r}') from None
    if kind is list:
        return [part for part in text.split(',') if part]
    return text


def parse_flags(argv, extra=None, environ=None):
    """Parses argv (without the program). `extra` maps a peer's own flags to kinds
    (str, int, bool, list, or 'multi' for a flag that may repeat), stored in
    `.extra` under the flag's name without dashes. `--flag=value` works too."""
    environ = os.environ if environ is None else environ
    table = dict(KNOWN)
    for flag, kind in (extra or {}).items():
        table[flag] = (None, kind)
    out = PeerFlags()
    i = 0
    while i < len(argv):
        word = argv[i]
        flag, eq, inline = word.partition('=')
        if flag not in table:
            out.ignored.append(word)
            i += 1
            continue
        attr, kind = table[flag]
        if kind is bool:
            value = inline != 'false' if eq else True
        elif eq:
            value = _value(flag, kind if kind != 'multi' else str, inline)
        elif i + 1 < len(argv):
            i += 1
            value = _value(flag, kind if kind != 'multi' else str, argv[i])
        else:
            raise FlagError(f'{flag} needs a value')
        if attr is None:
            key = flag.lstrip('-')
            if kind == 'multi':
                out.extra.setdefault(key, []).append(value)
            else:
                out.extra[key] = value
        else:
            setattr(out, attr, value)
        i += 1
    if not out.token:
        out.token = environ.get('PEERLAB_TOKEN', '')
    if out.names and not out.name:
        out.name = out.names[0]
    for name in out.names or ([out.name] if out.name else []):
        if not NAME_PATTERN.match(name):
            raise FlagError(f'--name: expected 1-64 characters of [A-Za-z0-9._-], got {name!r}')
    if out.agent_grace_ms < 0:
        raise FlagError('--agent-grace: expected a number of ms >= 0')
    if not 0 <= out.port <= 65535:
        raise FlagError('--port: expected 0-65535')
    return out


def parent_pid(environ=None):
    """PEERLAB_PARENT_PID as a positive integer, or None (then nothing is watched)."""
    environ = os.environ if environ is None else environ
    text = environ.get('PEERLAB_PARENT_PID', '')
    return int(text) if text.isdigit() and int(text) > 0 else None


def bootstrap_token(environ=None):
    """The bootstrap service's token: PEERLAB_BOOTSTRAP_TOKEN, else PEERLAB_TOKEN (section 10)."""
    environ = os.environ if environ is None else environ
    return environ.get('PEERLAB_BOOTSTRAP_TOKEN') or environ.get('PEERLAB_TOKEN') or ''
