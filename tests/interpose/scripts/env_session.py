"""The session travels in environ, which the library replaces at start-up
with a copy in static storage (no malloc before main).  Data passing must
stay byte-exact after the program changes its environment (putenv, unsetenv,
clearenv-and-refill, all working on that copy), and in a session whose first
process had more environment entries than the copy holds (setenv fallback).
"""
import hashlib
import os
import subprocess
import sys

text = os.environ['TEXT']
show = ['sh', '-c', 'printf "%s" "$TEXT"']


def captured(label, **kw):
    r = subprocess.run(show, capture_output=True, check=True, **kw)
    print(label, hashlib.sha256(r.stdout).hexdigest(), 'match' if r.stdout == text.encode() else 'MISMATCH')


captured('inherited')
os.putenv('EXTRA_SETTING', '1')      # putenv: glibc allocates past our copy
os.unsetenv('HOME')                  # unsetenv: shifts entries inside it
captured('after putenv and unsetenv')
if len(sys.argv) == 1:
    # A new session (no LIBREDACT_SESSION) whose first process has 600
    # more entries than the library's copy of environ holds.
    env = {k: v for k, v in os.environ.items() if k != 'LIBREDACT_SESSION'}
    env.update({'PAD_%d' % i: 'x' for i in range(600)})
    r = subprocess.run([sys.executable, __file__, 'big'], env=env, stdout=subprocess.PIPE, check=True)
    sys.stdout.write(r.stdout.decode())
sys.stdout.write(text + '\n')
