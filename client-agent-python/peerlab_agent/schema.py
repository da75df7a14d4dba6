"""A checker for the subset of JSON Schema (draft 2020-12) the event contract uses.

The contract (docs/events.schema.json) is written by the TypeScript side; the
generated module events.py carries its fragments as Python values, and this
module judges a value against one of them, with the hub's message style
(`<field>: expected <what>, got <value>`), so that an agent finds a broken
event when it records it, not when the hub rejects it.
"""
import json
import math
import re

MAX_SAFE_INTEGER = 2**53 - 1


class SchemaError(ValueError):
    """A value that breaks a schema; `field` is the dotted path to the first broken part."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field


def show(value):
    """A value as JSON, cut to 60 characters, or `nothing` (the hub's describeValue)."""
    if value is _ABSENT:
        return 'nothing'
    try:
        text = json.dumps(value, separators=(',', ':'), ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + '...'


class _Absent:
    pass


_ABSENT = _Absent()


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_integer(value):
    return _is_number(value) and float(value).is_integer() and abs(value) <= MAX_SAFE_INTEGER


def _utf16_length(text):
    # The contract counts characters as JavaScript does, in UTF-16 code units.
    return len(text.encode('utf-16-le')) // 2


_TYPES = {
    'object': lambda v: isinstance(v, dict),
    'array': lambda v: isinstance(v, list),
    'string': lambda v: isinstance(v, str),
    'number': _is_number,
    'integer': _is_integer,
    'boolean': lambda v: isinstance(v, bool),
    'null': lambda v: v is None,
}


def check(schema, value, field='data'):
    """Raises SchemaError at the first part of `value` that `schema` does not allow."""

    def fail(expected):
        raise SchemaError(field, f'{field}: expected {expected}, got {show(value)}')

    if not isinstance(schema, dict) or schema == {}:
        return
    if 'oneOf' in schema or 'anyOf' in schema:
        options = schema.get('oneOf') or schema.get('anyOf')
        for option in options:
            try:
                check(option, value, field)
                return
            except SchemaError:
                continue
        fail('one of the allowed shapes')
    kind = schema.get('type')
    if kind is not None and not _TYPES[kind](value):
        fail({'object': 'an object', 'array': 'an array', 'integer': 'an integer'}.get(kind, f'a {kind}'))
    if 'const' in schema and value != schema['const']:
        fail(show(schema['const']))
    if 'enum' in schema and value not in schema['enum']:
        fail('|'.join(str(v) for v in schema['enum']))
    if isinstance(value, str):
        length = _utf16_length(value)
        if 'minLength' in schema and length < schema['minLength'] or 'maxLength' in schema and length > schema['maxLength']:
            fail(f"a string of {schema.get('minLength', 0)}-{schema.get('maxLength', 'any')} characters")
        if 'pattern' in schema and re.search(schema['pattern'], value) is None:
            fail(f"a string matching {schema['pattern']}")
    if _is_number(value):
        if 'minimum' in schema and value < schema['minimum']:
            fail(f"a number >= {schema['minimum']}")
        if 'maximum' in schema and value > schema['maximum']:
            fail(f"a number <= {schema['maximum']}")
    if isinstance(value, list):
        if 'maxItems' in schema and len(value) > schema['maxItems']:
            fail(f"at most {schema['maxItems']} items")
        if 'minItems' in schema and len(value) < schema['minItems']:
            fail(f"at least {schema['minItems']} items")
        if 'items' in schema:
            for i, item in enumerate(value):
                check(schema['items'], item, f'{field}[{i}]')
    if isinstance(value, dict):
        for name in schema.get('required', []):
            if name not in value:
                raise SchemaError(f'{field}.{name}', f'{field}.{name}: expected a value, got nothing')
        properties = schema.get('properties', {})
        for name, item in value.items():
            if name in properties:
                check(properties[name], item, f'{field}.{name}')
            elif 'additionalProperties' in schema:
                check(schema['additionalProperties'], item, f'{field}.{name}')
