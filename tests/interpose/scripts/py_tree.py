"""bash -> python -> sh: the middle of a subprocess tree prints, and so does
its child (inheriting the session through the environment)."""
import os
import subprocess
import sys

sys.stdout.write('python: ' + os.environ['TEXT'])
sys.stdout.flush()
subprocess.run(['sh', '-c', 'printf "sh: %s" "$TEXT"; printf "%s" "$TEXT_A"; printf "%s" "$TEXT_B"'], check=True)
r = subprocess.run(['sh', '-c', 'printf "%s" "$TEXT" >&2'], check=True)
print('python: done', r.returncode)
