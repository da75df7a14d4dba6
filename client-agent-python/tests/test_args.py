"""Command arguments as section 3 of docs/PROTOCOL.md gives them, with its captured messages."""
import unittest

from peerlab_agent.args import CommandError, arg, check_spec, parse_line, parse_words, split_words, usage, validate_args

SEND = {'name': 'send', 'group': 'chat', 'summary': '', 'args': [
    arg('reply-to', 'string', flag=True), arg('text', 'string', rest=True, required=True)]}
MESSAGES = {'name': 'messages', 'group': 'chat', 'summary': '', 'args': [
    arg('json', 'boolean', flag=True), arg('last', 'integer', flag=True), arg('ids', 'boolean', flag=True)]}
MEMBERS = {'name': 'members', 'group': 'membership', 'summary': '', 'args': [arg('json', 'boolean', flag=True), arg('all', 'boolean', flag=True)]}
JOIN = {'name': 'join', 'group': 'membership', 'summary': '', 'args': [arg('seeds', 'string', repeatable=True)]}
LEVEL = {'name': 'log-level', 'group': 'logging', 'summary': '', 'args': [
    arg('level', 'enum', values=['error', 'warn', 'info', 'debug', 'trace'])]}


def error_of(fn, *args):
    try:
        fn(*args)
    except CommandError as error:
        return str(error), error.code
    raise AssertionError('no CommandError')


class Usage(unittest.TestCase):
    def test_renders_each_kind_of_arg(self):
        self.assertEqual(usage(SEND), 'Usage: send [--reply-to <string>] <text...>')
        self.assertEqual(usage(MESSAGES), 'Usage: messages [--json] [--last <integer>] [--ids]')
        self.assertEqual(usage(JOIN), 'Usage: join [<seeds>...]')
        self.assertEqual(usage(LEVEL), 'Usage: log-level [<error|warn|info|debug|trace>]')


class Validate(unittest.TestCase):
    def test_the_captured_refusals(self):
        self.assertEqual(error_of(validate_args, MEMBERS, {'bogus': 1}),
                         ('members: unknown argument "bogus". Usage: members [--json] [--all]', 'bad-arguments'))
        self.assertEqual(error_of(validate_args, SEND, {}),
                         ('send: missing <text>. Usage: send [--reply-to <string>] <text...>', 'bad-arguments'))
        self.assertEqual(error_of(validate_args, SEND, {'text': 5}), ('send: text must be a string, got 5', 'bad-arguments'))
        self.assertEqual(error_of(validate_args, SEND, {'text': ''}), ('send: text must be a non-empty string, got ""', 'bad-arguments'))
        self.assertEqual(error_of(validate_args, MESSAGES, {'last': 1.5}), ('messages: last must be an integer, got 1.5', 'bad-arguments'))
        self.assertEqual(error_of(validate_args, LEVEL, {'level': 'loud'}),
                         ('log-level: level must be one of error, warn, info, debug, trace, got "loud"', 'bad-arguments'))

    def test_no_conversions(self):
        self.assertIn('must be an integer', error_of(validate_args, MESSAGES, {'last': '3'})[0])
        self.assertIn('must be an integer', error_of(validate_args, MESSAGES, {'last': True})[0])
        self.assertIn('must be true or false', error_of(validate_args, MESSAGES, {'json': 'true'})[0])
        self.assertIn('must be a string', error_of(validate_args, SEND, {'text': None})[0])
        self.assertEqual(error_of(validate_args, SEND, [])[0], 'send: arguments must be an object of named values')

    def test_accepts_and_normalises(self):
        self.assertEqual(validate_args(JOIN, {'seeds': '127.0.0.1:1'}), {'seeds': ['127.0.0.1:1']})
        self.assertEqual(validate_args(MESSAGES, {'last': 3.0}), {'last': 3})
        self.assertEqual(validate_args(MEMBERS, None), {})
        self.assertIn('must be a list of strings', error_of(validate_args, JOIN, {'seeds': [1]})[0])


class Parse(unittest.TestCase):
    def test_the_typed_lines_of_section_3(self):
        cases = [
            ('send hello bob', {'text': 'hello bob'}),
            ('send "two  spaces"', {'text': 'two  spaces'}),
            ('messages --last 3 --json', {'json': True, 'last': 3}),
            ('send hi --json', {'text': 'hi --json'}),
            ('members --all', {'all': True}),
            ('join 127.0.0.1:7000 127.0.0.1:7001', {'seeds': ['127.0.0.1:7000', '127.0.0.1:7001']}),
            ('messages --last=2 --json=false', {'json': False, 'last': 2}),
        ]
        for line, expected in cases:
            with self.subTest(line=line):
                self.assertEqual(parse_line([SEND, MESSAGES, MEMBERS, JOIN], line)[1], expected)

    def test_words(self):
        self.assertEqual(split_words(r"a 'b c' d\ e"), ['a', 'b c', 'd e'])
        self.assertEqual(error_of(split_words, 'a "b')[1], 'bad-arguments')

    def test_refusals(self):
        self.assertEqual(error_of(parse_line, [SEND], 'nope')[1], 'unknown-command')
        self.assertIn('unknown option --x', error_of(parse_words, MEMBERS, ['--x'])[0])
        self.assertIn('--last needs a value', error_of(parse_words, MESSAGES, ['--last'])[0])
        self.assertIn('unexpected argument "x"', error_of(parse_words, MEMBERS, ['x'])[0])


class Spec(unittest.TestCase):
    def test_only_the_last_positional_may_be_rest(self):
        with self.assertRaises(ValueError):
            check_spec({'name': 'x', 'args': [arg('a', rest=True), arg('b')]})
        with self.assertRaises(ValueError):
            check_spec({'name': 'x', 'args': [arg('a', 'enum')]})
        check_spec(SEND)


if __name__ == '__main__':
    unittest.main()
