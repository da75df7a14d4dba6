"""on_terminate with a signal held before it was installed (the peer's launcher
holds SIGTERM/SIGINT from its first line, before the slow imports): it is acted
on at once, as a leave and exit 0, not dropped."""
import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = r'''
import signal, sys, time
held = []
signal.signal(signal.SIGTERM, lambda s, _f: held.append(s))
signal.raise_signal(signal.SIGTERM)  # before the handler exists
sys.path.insert(0, sys.argv[1])
from peerlab_agent import on_terminate
on_terminate(lambda: print('left', flush=True), pending=held)
time.sleep(10)
sys.exit(9)
'''


class Terminate(unittest.TestCase):
    def test_a_signal_held_before_the_handler_leaves_and_exits_0(self):
        run = subprocess.run([sys.executable, '-c', PROGRAM, os.path.dirname(HERE)], capture_output=True, text=True, timeout=20)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(run.stdout, 'left\n')


if __name__ == '__main__':
    unittest.main()
