"""Command arguments (PROTOCOL.md section 3): the arg schema, usage lines,
validation of structured `args` (the agent's side, strict, no conversions),
and parsing of a typed line into `args` (the coordinator's side, for a peer
that also offers its commands at a prompt of its own).
"""
import json
import math

ARG_TYPES = ('string', 'integer', 'number', 'boolean', 'enum')
ERROR_CODES = ('unknown-command', 'bad-arguments', 'failed', 'timeout', 'bad-message')


class CommandError(Exception):
    """A command's failure as a value: the agent answers `{ok: false, error: {message, code}}`."""

    def __init__(self, message, code='failed'):
        super().__init__(message)
        self.code = code


def arg(name, type_='string', description='', *, flag=False, required=False, rest=False, repeatable=False, values=None):
    """One arg spec, with the schema's field names."""
    spec = {'name': name, 'type': type_, 'description': description}
    for key, value in (('flag', flag), ('required', required), ('rest', rest), ('repeatable', repeatable)):
        if value:
            spec[key] = True
    if values is not None:
        spec['values'] = list(values)
    return spec


def check_spec(spec):
    """Raises ValueError for a command spec the coordinator would misread (section 3's rules)."""
    if not isinstance(spec.get('name'), str) or not 1 <= len(spec['name']) <= 64:
        raise ValueError(f'command name: expected 1-64 characters, got {spec.get("name")!r}')
    args = spec.get('args', [])
    names = [a['name'] for a in args]
    if len(set(names)) != len(names):
        raise ValueError(f'{spec["name"]}: argument names must be unique')
    positionals = [a for a in args if not a.get('flag')]
    for a in args:
        if a.get('type') not in ARG_TYPES:
            raise ValueError(f'{spec["name"]}: {a["name"]} has type {a.get("type")!r}, expected one of {", ".join(ARG_TYPES)}')
        if a['type'] == 'enum' and not a.get('values'):
            raise ValueError(f'{spec["name"]}: enum {a["name"]} needs values')
        if (a.get('rest') or a.get('repeatable')) and (a.get('flag') or a is not positionals[-1]):
            raise ValueError(f'{spec["name"]}: only the last positional may be rest or repeatable ({a["name"]})')


def usage(spec):
    """`Usage: <name> <args...>`, rendered as the reference registry does."""
    parts = []
    for a in spec.get('args', []):
        shown = '|'.join(a['values']) if a.get('values') else None
        if a.get('flag'):
            label = f"--{a['name']}" if a['type'] == 'boolean' else f"--{a['name']} <{shown or a['type']}>"
        elif a.get('rest'):
            label = f"<{a['name']}...>"
        elif a.get('repeatable'):
            label = f"<{a['name']}>..."
        else:
            label = f"<{shown or a['name']}>"
        parts.append(label if a.get('required') else f'[{label}]')
    return 'Usage: ' + ' '.join([spec['name'], *parts])


def _json(value):
    text = json.dumps(value, separators=(',', ':'), ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + '...'


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate_args(spec, raw):
    """Checks structured `args` against the spec (section 3, "Validating structured
    arguments"); returns them, a lone string of a repeatable arg made a list.
    Raises CommandError('bad-arguments') at the first rule broken."""
    cmd = spec['name']
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise CommandError(f'{cmd}: arguments must be an object of named values', 'bad-arguments')
    known = {a['name']: a for a in spec.get('args', [])}
    for key in raw:
        if key not in known:
            raise CommandError(f'{cmd}: unknown argument "{key}". {usage(spec)}', 'bad-arguments')
    out = {}
    for name, a in known.items():
        if name not in raw:
            if a.get('required'):
                raise CommandError(f'{cmd}: missing <{name}>. {usage(spec)}', 'bad-arguments')
            continue
        value, kind = raw[name], a['type']

        def fail(expected):
            raise CommandError(f'{cmd}: {name} must be {expected}, got {_json(value)}', 'bad-arguments')

        if a.get('repeatable'):
            value = value if isinstance(value, list) else [value]
            if not all(isinstance(v, str) for v in value):
                fail('a list of strings')
            if a.get('required') and not value:
                fail('at least one value')
        elif kind == 'string':
            if not isinstance(value, str):
                fail('a string')
            if a.get('required') and value == '':
                fail('a non-empty string')
        elif kind == 'enum':
            if not isinstance(value, str) or value not in a.get('values', []):
                fail('one of ' + ', '.join(a.get('values', [])))
        elif kind == 'boolean':
            if not isinstance(value, bool):
                fail('true or false')
        elif kind == 'integer':
            if not (_is_number(value) and float(value).is_integer()):
                fail('an integer')
            value = int(value)
        elif kind == 'number':
            if not _is_number(value):
                fail('a number')
        out[name] = value
    return out


def split_words(line):
    """Splits a typed line at whitespace; quotes group, a backslash escapes."""
    words, word, quote, have = [], [], None, False
    i = 0
    while i < len(line):
        c = line[i]
        if c == '\\' and i + 1 < len(line):
            word.append(line[i + 1])
            have = True
            i += 2
            continue
        if quote:
            if c == quote:
                quote = None
            else:
                word.append(c)
        elif c in '"\'':
            quote, have = c, True
        elif c.isspace():
            if have:
                words.append(''.join(word))
                word, have = [], False
        else:
            word.append(c)
            have = True
        i += 1
    if quote:
        raise CommandError(f'unterminated {quote} quote', 'bad-arguments')
    if have:
        words.append(''.join(word))
    return words


def _convert(spec, a, text):
    # A typed word may stand for a boolean or a number; the strict check follows.
    if a['type'] == 'boolean' and text in ('true', 'false'):
        return text == 'true'
    if a['type'] in ('integer', 'number'):
        try:
            number = float(text)
        except ValueError:
            return text
        return int(number) if number.is_integer() and a['type'] == 'integer' else number
    return text


def parse_words(spec, words):
    """Typed words (after the command name) -> structured args, then validated."""
    cmd = spec['name']
    specs = spec.get('args', [])
    flags = {a['name']: a for a in specs if a.get('flag')}
    positionals = [a for a in specs if not a.get('flag')]
    out = {}
    i = 0
    while i < len(words):
        word = words[i]
        if word.startswith('--') and len(word) > 2:
            name, eq, value = word[2:].partition('=')
            a = flags.get(name)
            if a is None:
                raise CommandError(f'{cmd}: unknown option --{name}. {usage(spec)}', 'bad-arguments')
            if a['type'] == 'boolean' and not eq:
                out[name] = True
            elif eq:
                out[name] = _convert(spec, a, value)
            elif i + 1 < len(words):
                i += 1
                out[name] = _convert(spec, a, words[i])
            else:
                raise CommandError(f'{cmd}: --{name} needs a value. {usage(spec)}', 'bad-arguments')
            i += 1
            continue
        if not positionals:
            raise CommandError(f'{cmd}: unexpected argument "{word}". {usage(spec)}', 'bad-arguments')
        a = positionals[0]
        if a.get('rest'):
            out[a['name']] = ' '.join(words[i:])
            break
        if a.get('repeatable'):
            out.setdefault(a['name'], []).append(word)
        else:
            out[a['name']] = _convert(spec, a, word)
            positionals.pop(0)
        i += 1
    return validate_args(spec, out)


def parse_line(commands, line):
    """A typed line -> (spec, args), with the commands' specs; raises CommandError."""
    words = split_words(line)
    if not words:
        raise CommandError('empty command', 'bad-arguments')
    spec = next((c for c in commands if c['name'] == words[0]), None)
    if spec is None:
        raise CommandError(f'unknown command "{words[0]}". Type "help" for the list.', 'unknown-command')
    return spec, parse_words(spec, words[1:])
