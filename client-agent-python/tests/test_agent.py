"""The agent's side of commands and events, without a coordinator: replies,
errors as values, deadlines, numbering. (Against the real coordinator:
test-server/test/python-peer.test.ts.)"""
import threading
import time
import unittest

from peerlab_agent import Agent, Command, CommandError, SchemaError, arg, capabilities, describe, events


def make_agent():
    gate = threading.Event()

    def slow(args, ctx):
        ctx.cancelled.wait(5)
        gate.wait(5)
        return {'slept': True}

    def boom(_args, _ctx):
        raise CommandError('boom: it broke', 'failed')

    def crash(_args, _ctx):
        raise KeyError('x')

    commands = [
        Command('ping', 'answer pong', lambda args, ctx: {'pong': args.get('text', '')}, args=[arg('text')],
                format=lambda r, a: 'pong'),
        Command('slow', 'wait', slow),
        Command('boom', 'fail', boom),
        Command('crash', 'throw', crash),
    ]
    agent = Agent('alice', 'http://127.0.0.1:9', 't', commands=commands, capabilities=capabilities(['chat']),
                  snapshot=lambda: {'peer': 'alice', 'time': 1, 'members': [], 'messages': {'count': 0, 'ids': []}},
                  log=lambda *_: None)
    return agent, gate


class Commands(unittest.TestCase):
    def setUp(self):
        self.agent, self.gate = make_agent()

    def tearDown(self):
        self.gate.set()

    def test_a_reply_echoes_the_id_and_carries_seq_and_text(self):
        self.agent.record('x.y', {})
        reply = self.agent._on_command({'id': 'c1', 'name': 'ping', 'args': {'text': 'hi'}, 'timeoutMs': 1000})
        self.assertEqual(reply, {'id': 'c1', 'ok': True, 'result': {'pong': 'hi'}, 'seq': 1, 'text': 'pong'})

    def test_json_leaves_the_text_out(self):
        agent = Agent('a', 'http://127.0.0.1:9', 't', commands=[Command('s', 's', lambda a, c: 1, args=[arg('json', 'boolean', flag=True)],
                                                                          format=lambda r, a: 'one')],
                      capabilities=capabilities(), log=lambda *_: None)
        self.assertNotIn('text', agent._on_command({'id': 'c1', 'name': 's', 'args': {'json': True}, 'timeoutMs': 1000}))

    def test_errors_are_values_with_the_codes_of_section_8(self):
        cases = [
            ({'id': 'c2', 'name': 'nope', 'timeoutMs': 1000}, 'unknown-command'),
            ({'id': 'c3', 'name': 'ping', 'args': {'bogus': 1}, 'timeoutMs': 1000}, 'bad-arguments'),
            ({'id': 'c4', 'name': 'boom', 'timeoutMs': 1000}, 'failed'),
            ({'id': 'c5', 'name': 'crash', 'timeoutMs': 1000}, 'failed'),
            ({'id': 'c6', 'name': 'ping', 'timeoutMs': 0}, 'bad-message'),
            ({'id': 'c7', 'name': 'ping', 'args': [], 'timeoutMs': 10}, 'bad-message'),
        ]
        for request, code in cases:
            with self.subTest(code=code):
                reply = self.agent._on_command(request)
                self.assertEqual((reply['id'], reply['ok'], reply['error']['code']), (request['id'], False, code))
        self.assertEqual(self.agent._on_command({'name': 'ping'})['id'], '?')
        self.assertEqual(self.agent._on_command('junk')['error']['code'], 'bad-message')

    def test_a_deadline_is_answered_at_the_deadline_and_the_late_end_recorded(self):
        started = time.monotonic()
        reply = self.agent._on_command({'id': 'c9', 'name': 'slow', 'timeoutMs': 100})
        self.assertLess(time.monotonic() - started, 1.0)
        self.assertEqual(reply['error'], {'message': 'slow did not finish within 100 ms', 'code': 'timeout'})
        self.gate.set()
        deadline = time.monotonic() + 5
        while self.agent.pending_count() == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        late = self.agent._pending[-1]
        self.assertEqual((late['type'], late['data']['id'], late['data']['name'], late['data']['ok']), ('command.late', 'c9', 'slow', True))

    def test_snapshot_and_ping(self):
        self.assertEqual(self.agent._on_snapshot({})['ok'], True)
        broken = Agent('a', 'http://127.0.0.1:9', 't', commands=[], capabilities=capabilities(),
                       snapshot=lambda: {'peer': 'a', 'members': [{'name': 'a', 'state': 'gone', 'incarnation': 0}],
                                         'messages': {'count': 0, 'ids': []}}, log=lambda *_: None)
        self.assertEqual(broken._on_snapshot({})['error']['code'], 'failed')

    def test_describe(self):
        self.assertIn('"capabilities": {"events": ["chat"], "fields": []}', describe(self.agent.commands.values(), self.agent.capabilities))


class Events(unittest.TestCase):
    def test_numbered_from_one_and_checked_when_recorded(self):
        agent, _ = make_agent()
        self.assertEqual(agent.record(events.PEER_STARTED, events.peer_started(address='127.0.0.1:1', incarnation=0, profile='local')), 1)
        self.assertEqual(agent.record('ext.thing', {'n': 1}), 2)
        with self.assertRaises(SchemaError):
            agent.record('member.dead', {'name': 'b', 'incarnation': '7', 'from': 'a'})
        with self.assertRaises(SchemaError):
            agent.record('', {})
        with self.assertRaises(SchemaError):
            agent.record('x' * 65, {})
        self.assertEqual([e['seq'] for e in agent._pending], [1, 2])
        for e in agent._pending:
            events.check_wire_event(e)

    def test_kept_until_acknowledged_and_resent_from_the_oldest(self):
        # The coordinator cannot be made to lose an ack on cue, so the socket is a stand-in here;
        # python-peer.test.ts reconnects against the real one.
        agent, _ = make_agent()
        batches = []
        answers = [None, {'ok': False, 'error': {'message': 'events before hello', 'code': 'bad-message'}},
                   {'ok': True, 'lastSeq': 4}]  # None: no ack comes

        class Socket:
            @staticmethod
            def emit(event, payload, callback):
                assert event == 'events' and payload['peer'] == 'alice'
                batches.append([e['seq'] for e in payload['events']])
                agent.record('x.y', {'during': 'flight'})  # recorded while the batch is on its way
                answer = answers.pop(0)
                if answer is not None:
                    callback(answer)

        agent.sio = Socket()
        agent._link_up = True
        for _ in range(2):
            agent.record('x.y', {})
        agent._registered = True
        self.assertFalse(agent.flush(timeout=0.1))   # the ack is lost: everything stays
        self.assertFalse(agent.flush(timeout=0.1))   # refused: nothing of it was recorded, everything stays
        self.assertTrue(agent.flush(timeout=0.1))    # acknowledged up to the batch's last seq
        self.assertEqual(batches, [[1, 2], [1, 2, 3], [1, 2, 3, 4]])
        self.assertEqual([e['seq'] for e in agent._pending], [5], 'what came during the last flight stays')

    def test_nothing_is_sent_before_hello(self):
        agent, _ = make_agent()
        agent.record('x.y', {})
        self.assertFalse(agent.flush(timeout=0.1))
        self.assertEqual(agent.pending_count(), 1)


if __name__ == '__main__':
    unittest.main()
