"""The event vocabulary generated from docs/events.schema.json: fresh, complete, and checking."""
import importlib.util
import json
import pathlib
import unittest

from peerlab_agent import events
from peerlab_agent.schema import SchemaError

ROOT = pathlib.Path(__file__).resolve().parents[2]


def load_generator():
    spec = importlib.util.spec_from_file_location('gen_events', ROOT / 'client-agent-python' / 'tools' / 'gen_events.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Fresh(unittest.TestCase):
    def test_events_py_is_what_the_generator_writes_from_the_schema(self):
        generator = load_generator()
        expected = generator.render((ROOT / 'docs' / 'events.schema.json').read_text(encoding='utf-8'))
        self.assertEqual(generator.TARGET.read_text(encoding='utf-8'), expected,
                         'events.py is stale: run /usr/bin/python3 client-agent-python/tools/gen_events.py')

    def test_every_peer_event_of_the_schema_has_a_builder(self):
        schema = json.loads((ROOT / 'docs' / 'events.schema.json').read_text(encoding='utf-8'))
        types = [v['properties']['type']['const'] for v in schema['$defs']['peerEvent']['oneOf']]
        self.assertEqual(sorted(types), sorted(events.BUILDERS))
        for t in ('peer.started', 'member.dead', 'chat.delivered', 'net.counters'):
            self.assertIn(t, types)


class Builders(unittest.TestCase):
    def test_field_names_are_the_contracts(self):
        self.assertEqual(events.chat_delivered(id='a:e:1', sender='a', seq=1, sent_at=5, deps=[]),
                         {'id': 'a:e:1', 'sender': 'a', 'seq': 1, 'sentAt': 5, 'deps': []})
        self.assertEqual(events.member_suspect(name='b', incarnation=0, from_='a'), {'name': 'b', 'incarnation': 0, 'from': 'a'})
        self.assertEqual(events.net_counters(udp_out=1, udp_out_bytes=2, tcp_out=0, tcp_out_bytes=0),
                         {'udpOut': 1, 'udpOutBytes': 2, 'tcpOut': 0, 'tcpOutBytes': 0})
        self.assertNotIn('timing', events.peer_started(address='127.0.0.1:1', incarnation=0, profile='local'))

    def test_a_broken_event_is_refused_with_the_field(self):
        cases = [
            (lambda: events.member_dead(name='b', incarnation='7', from_='a'), 'data.incarnation'),
            (lambda: events.member_joined(name='a b', address='x:1', incarnation=0), 'data.name'),
            (lambda: events.member_alive(name='b', address='x:1', incarnation=1, previous='alive'), 'data.previous'),
            (lambda: events.peer_started(address='', incarnation=0, profile='local'), 'data.address'),
            (lambda: events.chat_sent(id='x', sender='a', seq=0, text=''), 'data.seq'),
            (lambda: events.check_data('member.left', {'name': 'a'}), 'data.incarnation'),
        ]
        for build, field in cases:
            with self.subTest(field=field):
                with self.assertRaises(SchemaError) as caught:
                    build()
                self.assertEqual(caught.exception.field, field)

    def test_extension_types_need_only_an_object(self):
        events.check_data('raft.leader', {'term': 3})
        with self.assertRaises(SchemaError):
            events.check_data('raft.leader', [])

    def test_the_envelope(self):
        events.check_wire_event({'seq': 1, 'time': 1.5, 'type': 'x.y', 'data': {}})
        with self.assertRaises(SchemaError):
            events.check_wire_event({'seq': 0, 'time': 1, 'type': 'x.y', 'data': {}})
        with self.assertRaises(SchemaError):
            events.check_wire_event({'seq': 1, 'time': 1, 'type': '', 'data': {}})


if __name__ == '__main__':
    unittest.main()
