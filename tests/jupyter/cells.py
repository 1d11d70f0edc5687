"""Secrets and notebook cells shared by the Jupyter tests.

The secrets are matched by the built-in rules (check with build/redact):
an AWS access key id, a GitHub token, a JWT, and a generic password
assignment whose quoted value contains a backslash, so that on the wire it
is JSON-escaped (\\" around it, \\\\ inside).
"""
AWS = "AKIAQYLPMN5HFIQR7XPA"
GHP = "ghp_" + "Xk3m9QpR2sT5vW8yZa1Bc4De6Fg7Hj0KlM2n"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0."
       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
PW_VALUE = "Kp3\\vR9tLm2Wd7Qx"
SECRETS = [AWS, GHP, JWT, PW_VALUE]
# What the default rules mask: generic-password-assignment masks a quoted
# value together with its quotes (patterns/generic.yaml), the others the token.
MASKED = ['"%s"' % PW_VALUE] + SECRETS

# (name, source, expected output types in the notebook).  On the wire the
# display cell sends display_data then update_display_data (MESSAGES).  Output from fds 1/2 reaches the
# notebook through ipykernel's pipe watcher thread: the cells wait for it so
# that it is part of the cell's output.
# Output written to fds 1/2 reaches the notebook through ipykernel's pipe
# watcher thread; a cell that ends before the watcher has read it loses it
# to the next cell.  drain() waits until the pipe is empty (FIONREAD works on
# either end of a pipe), then a little longer for the watcher to hand the
# text to sys.stdout, which the kernel flushes before the cell completes.
SETUP = """import fcntl, struct, termios, time
def drain(fd=1):
    for _ in range(1000):
        if not struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"    "))[0]:
            break
        time.sleep(0.01)
    time.sleep(0.3)"""

CELLS = [
    ("setup", SETUP, []),
    ("print", 'print("aws key: %s")' % AWS, ["stream"]),
    ("logging", 'import logging\nlogging.getLogger("app").warning("github token %s")' % GHP, ["stream"]),
    ("os.system", 'import os\nos.system("echo shell %s")\ndrain()' % JWT, ["stream"]),
    ("ctypes", 'import ctypes\nline = b"ctypes %s\\n"\nctypes.CDLL(None).write(1, line, len(line))\ndrain()' % AWS,
     ["stream"]),
    ("subprocess", 'import subprocess\nsubprocess.run(["echo", "subprocess %s"])\ndrain()' % GHP, ["stream"]),
    ("multiprocessing", 'import multiprocessing, sys, time\ndef child():\n    sys.stdout.write("child %s\\n")\n    sys.stdout.flush()\n'
                        'p = multiprocessing.Process(target=child)\np.start()\np.join()\ntime.sleep(0.3)' % AWS,
     ["stream"]),
    ("expression", '"%s"' % JWT, ["execute_result"]),
    ("display", 'from IPython.display import display, HTML\nh = display(HTML("<b>%s</b>"), display_id=True)\n'
                'h.update(HTML("<i>%s</i>"))' % (AWS, GHP), ["display_data"]),
    ("exception", 'raise ValueError("bad key %s")' % AWS, ["error"]),
    ("quote+backslash", "print('password = \"%s\"')" % PW_VALUE.replace("\\", "\\\\"), ["stream"]),
]


MESSAGES = {"display": ["display_data", "update_display_data"]}


def message_types(name, types):
    """The iopub output messages a cell sends."""
    return MESSAGES.get(name, types)


def stars(obj):
    """obj with every secret replaced by stars of its length (REDACT_MASK=stars)."""
    if isinstance(obj, str):
        for s in MASKED:
            obj = obj.replace(s, "*" * len(s))
        return obj
    if isinstance(obj, list):
        return [stars(x) for x in obj]
    if isinstance(obj, dict):
        return {k: stars(v) for k, v in obj.items()}
    return obj


def leaks(text):
    """The secrets found in text (also JSON-escaped)."""
    import json
    return [s for s in SECRETS if s in text or json.dumps(s)[1:-1] in text]
