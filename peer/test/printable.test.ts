/**
 * Chat text is printed neutralised: escape sequences and newlines from
 * another peer reach neither the log nor the CLI's display raw, while the
 * message itself (history, `--json`, events) keeps its text as sent.
 */
import test from 'ava';
import dgram from 'node:dgram';
import {printable} from '../src/log.js';
import {PeerProcess, eventually, stopAll} from './helpers/peer-process.js';

const hostile = 'hi\u001b[2J\u001b]0;pwned\u0007\nfake 00:00:00.000 root swim info: forged line\r\u2028end';

test('printable escapes control characters and leaves other text alone', (t) => {
  t.is(printable('plain text, ünïcödé ✓'), 'plain text, ünïcödé ✓');
  t.is(printable('a\nb\tc\rd'), 'a\\nb\\tc\\rd');
  t.is(printable('\u001b[31mred\u009b'), '\\x1b[31mred\\x9b');
  t.is(printable('x\u2028y\u0000'), 'x\\u2028y\\x00');
});

test.serial('chat text with escapes and newlines is neutralised in logs and the CLI display, intact in history', async (t) => {
  const alice = await PeerProcess.start({name: 'raw1'});
  const bob = await PeerProcess.start({name: 'raw2', join: [alice.address]});
  t.teardown(() => stopAll([alice, bob]));
  const from = bob.stderr.length;
  // Sent as another peer's chat datagram would carry it (a prompt line cannot hold a newline).
  const message = {id: 'raw1:e1:1', sender: 'raw1', epoch: 'e1', seq: 1, text: hostile, sentAt: Date.now(), deps: []};
  const [host, port] = bob.address.split(':') as [string, string];
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => socket.send(JSON.stringify({t: 'chat', m: [message]}), Number(port), host, (e) => (e ? reject(e) : resolve())));
  socket.close();
  await eventually('bob delivered it', 3000, async () => ((await bob.json<{count: number}>('messages --json')).count === 1 ? true : undefined));
  const logLine = await bob.waitStderr((l) => l.includes('delivered raw1:'), from);
  t.false(/[\u0000-\u001f\u007f-\u009f\u2028]/.test(logLine), 'no control character in the log line');
  t.true(logLine.includes('\\x1b[2J') && logLine.includes('\\nfake'));
  t.false(bob.stderr.slice(from).some((l) => l.startsWith('fake ')), 'the newline forged no log line');
  const shown = await bob.command('messages');
  t.is(shown.length, 1, 'one display line for one message');
  t.false(/[\u0000-\u001f\u007f-\u009f\u2028]/.test(shown[0]!));
  const history = await bob.json<{messages: Array<{text: string}>}>('messages --json');
  t.is(history.messages[0]!.text, hostile);
});
