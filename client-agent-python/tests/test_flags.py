"""The flags the fleet passes (section 6), and those it does not know about."""
import unittest

from peerlab_agent.flags import FlagError, bootstrap_token, parent_pid, parse_flags

FLEET = ['--name', 'alice', '--port', '0', '--profile', 'local', '--coordinator', 'http://127.0.0.1:4000',
         '--agent-grace', '3000', '--bootstrap', 'http://127.0.0.1:4000/bootstrap', '--data-dir', '/tmp/x']


class Flags(unittest.TestCase):
    def test_what_the_fleet_passes(self):
        f = parse_flags(FLEET + ['--host', '127.0.0.7'], environ={'PEERLAB_TOKEN': 't0k'})
        self.assertEqual((f.name, f.port, f.profile, f.coordinator, f.agent_grace_ms, f.bootstrap, f.data_dir, f.host, f.token),
                         ('alice', 0, 'local', 'http://127.0.0.1:4000', 3000, 'http://127.0.0.1:4000/bootstrap', '/tmp/x', '127.0.0.7', 't0k'))

    def test_defaults_by_hand(self):
        f = parse_flags(['--name', 'a'], environ={})
        self.assertEqual((f.host, f.agent_grace_ms, f.token, f.describe_commands), ('127.0.0.1', 5000, '', False))

    def test_token_flag_wins_over_the_environment(self):
        self.assertEqual(parse_flags(['--token', 'a'], environ={'PEERLAB_TOKEN': 'b'}).token, 'a')

    def test_unknown_flags_are_ignored(self):
        f = parse_flags(FLEET + ['--fancy', '--colour', 'red'], environ={})
        self.assertEqual(f.name, 'alice')
        self.assertEqual(f.ignored, ['--fancy', '--colour', 'red'])

    def test_a_peer_adds_its_own(self):
        f = parse_flags(FLEET + ['--bug=no-dead', '--join', 'a:1', '--join', 'b:2'], extra={'--bug': str, '--join': 'multi'}, environ={})
        self.assertEqual(f.extra, {'bug': 'no-dead', 'join': ['a:1', 'b:2']})

    def test_names_and_describe(self):
        f = parse_flags(['--names', 'a,b', '--describe-commands'], environ={})
        self.assertEqual((f.names, f.name, f.describe_commands), (['a', 'b'], 'a', True))

    def test_refusals(self):
        for argv in (['--port', 'x'], ['--name', 'a b'], ['--name'], ['--agent-grace', '-1']):
            with self.subTest(argv=argv), self.assertRaises(FlagError):
                parse_flags(argv, environ={})

    def test_environment(self):
        self.assertEqual(parent_pid({'PEERLAB_PARENT_PID': '42'}), 42)
        self.assertIsNone(parent_pid({'PEERLAB_PARENT_PID': '0'}))
        self.assertIsNone(parent_pid({'PEERLAB_PARENT_PID': 'x'}))
        self.assertEqual(bootstrap_token({'PEERLAB_BOOTSTRAP_TOKEN': 'b', 'PEERLAB_TOKEN': 't'}), 'b')
        self.assertEqual(bootstrap_token({'PEERLAB_TOKEN': 't'}), 't')


if __name__ == '__main__':
    unittest.main()
