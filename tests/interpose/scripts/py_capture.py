"""Data passing: what subprocess.run captures is byte-exact (the pipe is not
a sink), and printing it afterwards masks it."""
import hashlib
import os
import subprocess
import sys

text = os.environ['TEXT']
r = subprocess.run(['sh', '-c', 'printf "%s" "$TEXT"'], capture_output=True, check=True)
print('captured sha256', hashlib.sha256(r.stdout).hexdigest(),
      'match' if r.stdout == text.encode() else 'MISMATCH')
r2 = subprocess.run([sys.executable, '-c', 'import os,sys; sys.stdout.write(os.environ["TEXT"])'],
                    stdout=subprocess.PIPE, check=True)
print('python child sha256', hashlib.sha256(r2.stdout).hexdigest())
sys.stdout.write(r.stdout.decode())
