#!/usr/bin/python3
"""Integration matrix for libredact's interposition layer.

Every check runs a real program twice, without and with the library
preloaded, and compares what came out:

  * with a planted secret (an AWS access key id, a GitHub token, a JWT, a
    PEM private key block), the output with the library must be the output
    without it with the secret's bytes replaced by '*' (the default mask is
    length-preserving), byte for byte, on every channel (stdout, stderr, a
    socket peer, a file);
  * with a "twin" text that only looks like secrets (each one a character
    short, or a PUBLIC key), both outputs must be identical.

Exit statuses must match too.  Some groups add their own assertions (a
prompt visible before the program reads, no byte lost on a non-blocking
pipe, PIPE_BUF atomicity, ...).

    matrix.py --lib build/libredact.so --bindir build/tests/interpose GROUP...
    matrix.py --list

Groups are listed in GROUPS at the end; the data files under cases/ hold
the program cases (see cases/README).  Only the Python standard library is
used.  A tool that is missing makes the group fail with the Debian package
to install; nothing is skipped.
"""
import argparse
import concurrent.futures
import errno as errno_mod
import fcntl
import hashlib
import os
import pty
import re
import select
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.normpath(os.path.join(HERE, '..', '..'))

# ---------------------------------------------------------------------------
# Texts

B64 = ('MIIEowIBAAKCAQEA0Zq3v5Yk8n9hQx2mJ7pL4sT6wR1cV8bN3fG5hK9jD2aE7uI0',
       'oP4lM6nB8vC1xZ3qW5eR7tY9uI2oP4aS6dF8gH0jK2lL4zX6cV8bN0mQ1wE3rT5y')
SECRETS = {
    'aws': 'AKIAZ4TQW7HNB2XKP5MD',
    'github': 'ghp_Zq7Lr2Xw9Kd4Tn8Vb3Hs6Jm1Pc5Fy0Ga2Ue7',
    'jwt': ('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ.'
            'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c'),
    'pem': '-----BEGIN RSA PRIVATE KEY-----\n' + B64[0] + '\n' + B64[1] + '\n-----END RSA PRIVATE KEY-----',
}
# Each near miss is one character short of a secret, or not a private key.
TWIN = ('cfg id AKIAZ4TQW7HNB2XKP5M gh ghp_Zq7Lr2Xw9Kd4Tn8Vb3Hs6Jm1Pc5Fy0Ga2U '
        'jwt eyJhbGciOiJIUzI1NiJ9.e30 key -----BEGIN RSA PUBLIC KEY----- ok\n')


def line_for(kind):
    return 'cfg id ' + SECRETS[kind] + ' ok\n'


class Text:
    """A text a program prints: a line with one secret, or the twin."""

    def __init__(self, kind):
        self.kind = kind
        self.secret = SECRETS.get(kind)
        self.text = line_for(kind) if self.secret else TWIN
        if self.secret:
            start = self.text.index(self.secret)
            self.split = start + len(self.secret) // 2
        else:
            self.split = self.text.index('ghp_') + 10
        self.a, self.b = self.text[:self.split], self.text[self.split:]

    def env(self):
        return {'TEXT': self.text, 'TEXT_A': self.a, 'TEXT_B': self.b, 'SPLIT': str(self.split)}

    def name(self):
        return self.kind


TEXT_KINDS = ['aws', 'github', 'jwt', 'pem', 'twin']

# Debian packages of the tools the matrix runs (for the message when one is
# missing: the matrix installs nothing).
PACKAGES = {
    'python3': 'python3-minimal', 'bash': 'bash', 'sh': 'dash', 'dash': 'dash', 'perl': 'perl-base',
    'mawk': 'mawk', 'awk': 'mawk', 'strace': 'strace', 'sha256sum': 'coreutils', 'cat': 'coreutils',
    'echo': 'coreutils', 'ls': 'coreutils', 'head': 'coreutils', 'tr': 'coreutils', 'grep': 'grep',
    'sed': 'sed', 'true': 'coreutils', 'nm': 'binutils', 'nvcc': 'nvidia-cuda-toolkit (or NVIDIA\'s cuda-nvcc)',
}


class Missing(Exception):
    pass


def need(path):
    """A program the check runs; a missing one fails the check with the
    package to install."""
    p = path if os.path.isabs(path) else shutil.which(path, path='/usr/local/bin:/usr/bin:/bin')
    if not p or not os.access(p, os.X_OK):
        base = os.path.basename(path)
        raise Missing('%s not found: install the Debian package %s' % (path, PACKAGES.get(base, '?')))
    return p


# ---------------------------------------------------------------------------
# Running programs

class Result:
    def __init__(self):
        self.rc = None
        self.out = b''
        self.err = b''
        self.peer = b''
        self.gate_ok = True
        self.timed_out = False
        self.files = {}

    def channels(self):
        return {'stdout': self.out, 'stderr': self.err, 'peer': self.peer}


class Ctx:
    def __init__(self, args):
        self.lib = os.path.abspath(args.lib)
        self.bindir = os.path.abspath(args.bindir)
        self.asan = args.asan
        self.asan_rt = None
        if self.asan:
            self.asan_rt = subprocess.run(['gcc', '-print-file-name=libasan.so'], capture_output=True,
                                          text=True).stdout.strip()
            if not os.path.isabs(self.asan_rt):
                raise Missing('gcc -print-file-name=libasan.so found no ASan runtime: install libasan8')
        self.tmp = tempfile.mkdtemp(prefix='interpose-')
        self.workers = args.jobs or max(2, (os.cpu_count() or 2) * 2)
        self.scripts = os.path.join(HERE, 'scripts')
        self.cli = os.path.abspath(args.cli)
        if not os.access(self.cli, os.X_OK):
            raise Missing('the redact CLI %s was not built' % self.cli)
        self.oracle = Oracle(self)

    def bin(self, name):
        p = os.path.join(self.bindir, name)
        if not os.access(p, os.X_OK):
            raise Missing('test program %s was not built (make in the build directory)' % p)
        return p

    def env(self, lib, extra=None):
        e = {
            'PATH': '/usr/local/bin:/usr/bin:/bin',
            'HOME': self.tmp,
            'TMPDIR': self.tmp,
            'LANG': 'C.UTF-8',
            'LC_ALL': 'C.UTF-8',
            'TERM': 'dumb',
        }
        if lib:
            e['LD_PRELOAD'] = (self.asan_rt + ' ' if self.asan else '') + self.lib
            if self.asan:
                e['ASAN_OPTIONS'] = 'detect_leaks=0:halt_on_error=1:abort_on_error=0:exitcode=86'
                e['UBSAN_OPTIONS'] = 'halt_on_error=1:print_stacktrace=1'
        if extra:
            e.update(extra)
        return e

    def subst(self, s):
        return s.replace('{bin}', self.bindir).replace('{scripts}', self.scripts).replace('{src}', SRC)


def run(ctx, argv, lib, env=None, stdin=b'', out='pipe', err='pipe', sock=False, gate=None,
        gate_timeout=2.0, timeout=60, cwd=None):
    """Runs argv; returns a Result.

    out: 'pipe' or 'file' (a regular file, read back afterwards).
    err: 'pipe', 'merge' (into stdout) or 'null'.
    sock: give the program one end of a connected AF_UNIX stream socketpair
      (its number in SNIPPET_SOCK_FD) and collect what arrives at the other.
    gate: stdin stays open and empty until these bytes appear on stdout or
      the program exits; after gate_timeout seconds without them the run is
      marked gate_ok=False (the program waited for input with output still
      held back).  Then stdin gets its data and is closed."""
    res = Result()
    e = dict(env or {})
    pass_fds = []
    peer = None
    if sock:
        peer, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pass_fds.append(child.fileno())
        e['SNIPPET_SOCK_FD'] = str(child.fileno())
    outf = None
    if out == 'file':
        outf = tempfile.TemporaryFile(dir=ctx.tmp)
    p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=outf if outf else subprocess.PIPE,
                         stderr={'pipe': subprocess.PIPE, 'merge': subprocess.STDOUT,
                                 'null': subprocess.DEVNULL}[err],
                         env=ctx.env(lib, e), pass_fds=pass_fds, cwd=cwd, start_new_session=True)
    if sock:
        child.close()
    streams = {}
    if p.stdout:
        streams[p.stdout.fileno()] = 'out'
    if p.stderr:
        streams[p.stderr.fileno()] = 'err'
    if peer:
        streams[peer.fileno()] = 'peer'
    bufs = {'out': bytearray(), 'err': bytearray(), 'peer': bytearray()}
    start = time.monotonic()
    stdin_open = True

    def feed_stdin():
        nonlocal stdin_open
        try:
            if stdin:
                p.stdin.write(stdin)
            p.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        stdin_open = False

    if gate is None:
        feed_stdin()
    while streams or p.poll() is None:
        now = time.monotonic()
        if now - start > timeout:
            res.timed_out = True
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            break
        if stdin_open:
            if gate in bufs['out'] or p.poll() is not None:
                feed_stdin()
            elif now - start > gate_timeout:
                res.gate_ok = False
                feed_stdin()
        if not streams:
            time.sleep(0.005)
            continue
        r, _, _ = select.select(list(streams), [], [], 0.02)
        for fd in r:
            try:
                d = os.read(fd, 65536)
            except OSError:
                d = b''
            if d:
                bufs[streams[fd]] += d
            else:
                del streams[fd]
    if stdin_open:
        feed_stdin()
    try:
        res.rc = p.wait(timeout=max(1, timeout - (time.monotonic() - start)))
    except subprocess.TimeoutExpired:
        res.timed_out = True
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        res.rc = p.wait()
    for f in (p.stdout, p.stderr):
        if f:
            f.close()
    if peer:
        peer.close()
    if outf:
        outf.seek(0)
        bufs['out'] = outf.read()
        outf.close()
    res.out, res.err, res.peer = bytes(bufs['out']), bytes(bufs['err']), bytes(bufs['peer'])
    return res


def first_diff(a, b):
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def describe_diff(what, want, got):
    i = first_diff(want, got)
    lo = max(0, i - 40)
    return ('%s differs at byte %d (want %d bytes, got %d)\n      want ...%r\n      got  ...%r'
            % (what, i, len(want), len(got), want[lo:i + 60], got[lo:i + 60]))


# ---------------------------------------------------------------------------
# Reporting

class Report:
    def __init__(self, group):
        self.group = group
        self.lock = threading.Lock()
        self.failures = []
        self.passed = 0

    def ok(self, name):
        with self.lock:
            self.passed += 1

    def fail(self, name, msg):
        with self.lock:
            self.failures.append((name, msg))
            print('FAIL %s/%s: %s' % (self.group, name, msg), flush=True)

    def check(self, name, cond, msg):
        if cond:
            self.ok(name)
        else:
            self.fail(name, msg)
        return cond


def parallel(ctx, fn, items):
    with concurrent.futures.ThreadPoolExecutor(max_workers=ctx.workers) as ex:
        futs = [ex.submit(fn, *it) for it in items]
        for f in futs:
            f.result()


class Oracle:
    """What the library must make of a program's output: the redact CLI (the
    same engine and built-in rules, run on the whole output of a channel as
    one stream).  Results are cached: many runs print the same bytes."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.cache = {}
        self.lock = threading.Lock()

    def __call__(self, data):
        if not data:
            return data
        with self.lock:
            if data in self.cache:
                return self.cache[data]
        env = self.ctx.env(False)
        env['ASAN_OPTIONS'] = 'detect_leaks=0'
        r = subprocess.run([self.ctx.cli], input=data, capture_output=True, env=env, timeout=120)
        if r.returncode != 0:
            raise Missing('the redact CLI failed (%d): %r' % (r.returncode, r.stderr[-500:]))
        with self.lock:
            self.cache[data] = r.stdout
        return r.stdout


def compare_runs(ctx, rep, name, text, ref, got, channels=('stdout', 'stderr', 'peer'), check_rc=True, prints=True):
    """The core assertion: what came out with the library (got) is what came
    out without it (ref) as the rules redact it, on every channel, byte for
    byte; the planted secret is nowhere in got; same exit status.  Premises:
    without the library the secret was printed, and the rules mask it there;
    the twin is left alone by the rules."""
    ok = True
    if got.timed_out or ref.timed_out:
        rep.fail(name, 'timed out (%s)' % ('with the library' if got.timed_out else 'without the library'))
        return False
    s = text.secret.encode() if text.secret else None
    if s and prints and not any(s in ref.channels()[c] for c in channels):
        rep.fail(name, 'premise: the program did not print the secret without the library '
                 '(stdout %r, stderr %r)' % (ref.out[:200], ref.err[:200]))
        return False
    for c in channels:
        data = ref.channels()[c]
        want = ctx.oracle(data)
        if s and s in want:
            rep.fail(name, 'premise: the rules do not mask the secret in %s: %r' % (c, data[:300]))
            return False
        if not s and want != data:
            rep.fail(name, 'premise: the rules change the twin text in %s: %r' % (c, want[:300]))
            return False
        have = got.channels()[c]
        if s and s in have:
            rep.fail(name, 'the secret is in %s unmasked: %r' % (c, have[:300]))
            ok = False
        if want != have:
            rep.fail(name, describe_diff(c, want, have))
            ok = False
    if check_rc and ref.rc != got.rc:
        rep.fail(name, 'exit status %s with the library, %s without (stderr %r)' % (got.rc, ref.rc, got.err[-500:]))
        ok = False
    if ok:
        rep.ok(name)
    return ok


# ---------------------------------------------------------------------------
# Group: one snippet per hooked function (hooks.def), three builds

ERRNO_RE = re.compile(rb'#errno=(-?\d+)\n\Z')
EDOM = errno_mod.EDOM


def split_errno(res):
    m = ERRNO_RE.search(res.err)
    if not m:
        return None
    res.err = res.err[:m.start()]
    return int(m.group(1))


def hooks_def_names():
    names = []
    with open(os.path.join(SRC, 'lib', 'hooks', 'hooks.def')) as f:
        for line in f:
            m = re.match(r'RD_HOOK\([^,]+,\s*([A-Za-z0-9_]+),', line)
            if m:
                names.append(m.group(1))
    return names


def group_snippets(ctx, rep, variant):
    binary = ctx.bin('snippets-' + variant)
    listing = subprocess.run([binary, '--list'], capture_output=True, text=True, env=ctx.env(False))
    entries = [l.split() for l in listing.stdout.splitlines()]
    names = [e[0] for e in entries]
    if names != hooks_def_names():
        rep.fail('list', 'the program does not run exactly the entries of hooks.def')
        return
    rep.ok('list')

    def one(name, kind, hold):
        base = {}
        libenv = {}
        if kind == 'SOCK':
            libenv['REDACT_SOCKETS'] = 'all'
        if hold == 'hold':
            # Only the call under test may release the tail: the flusher
            # thread waits a minute.
            libenv['REDACT_HOLDBACK_MS'] = '60000'
        argv_tail = ['mark'] if hold == 'hold' else []
        opts = dict(out='file' if kind == 'FILE' else 'pipe', sock=kind == 'SOCK',
                    gate=b'tail ghp' if hold == 'hold' else None, stdin=b'input line\n')
        for tk in TEXT_KINDS:
            text = Text(tk)
            cname = '%s[%s]' % (name, tk)
            argv = [binary, name, text.text] + argv_tail
            ref = run(ctx, argv, False, env=base, **opts)
            got = run(ctx, argv, True, env=dict(base, **libenv), **opts)
            e_ref, e_got = split_errno(ref), split_errno(got)
            if not got.gate_ok:
                rep.fail(cname, 'held-back output was not released before the program waited for input '
                         '(nothing for 2 s; stdout so far %r)' % got.out[-200:])
                continue
            if not compare_runs(ctx, rep, cname, text, ref, got):
                continue
            if (e_ref is None) != (e_got is None):
                rep.fail(cname, 'errno report missing in one run (%s / %s)' % (e_ref, e_got))
            elif e_got is not None and e_got != e_ref and e_got != EDOM:
                rep.fail(cname, 'errno after the call is %d with the library, %d without (sentinel %d)'
                         % (e_got, e_ref, EDOM))
            else:
                rep.ok(cname + ' errno')

    parallel(ctx, one, entries)


# ---------------------------------------------------------------------------
# Data-driven program cases (cases/*.cases)

def parse_cases(path):
    cases = []
    cur = None
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip('\n')
            if not line.strip() or line.lstrip().startswith('#'):
                continue
            m = re.match(r'^\[(.+)\]\s*$', line)
            if m:
                cur = {'name': m.group(1), 'line': n}
                cases.append(cur)
                continue
            m = re.match(r'^\s*([a-z0-9-]+)\s*:\s?(.*)$', line)
            if not m or cur is None:
                raise SystemExit('%s:%d: cannot parse %r' % (path, n, line))
            key, val = m.group(1), m.group(2)
            if key in cur:
                cur[key] += '\n' + val
            else:
                cur[key] = val
    return cases


def kv(s):
    out = {}
    for item in shlex.split(s or ''):
        k, _, v = item.partition('=')
        out[k] = v
    return out


STRACE_LINE = re.compile(r'^(?:\d+\s+)?(write|writev|pwrite64|send|sendto|sendmsg)\((\d+),\s*(.*)$')
HEXSTR = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')


def strace_writes(log):
    """(syscall, fd, data) of every write-like call in an strace -xx log."""
    calls = []
    with open(log) as f:
        for line in f:
            m = STRACE_LINE.match(line)
            if not m:
                continue
            data = b''.join(bytes.fromhex(h.replace('\\x', '')) for h in HEXSTR.findall(m.group(3)))
            calls.append((m.group(1), int(m.group(2)), data))
    return calls


def strace_syscalls(log):
    names = set()
    with open(log) as f:
        for line in f:
            m = re.match(r'^(?:\d+\s+)?([a-z_0-9]+)\(', line)
            if m:
                names.add(m.group(1))
    return names


def check_premise(ctx, rep, name, case, argv, text, env, run_opts):
    """Runs the program without the library under strace and checks what the
    case relies on: 'split' -- the secret crosses a write() boundary;
    'syscall:NAME' -- the program makes that system call."""
    premise = case.get('premise')
    if not premise or not text.secret:
        return True
    strace = need('strace')
    log = os.path.join(ctx.tmp, 'strace-%d-%d.log' % (os.getpid(), threading.get_ident()))
    argv2 = [strace, '-f', '-qq', '-xx', '-s', '1048576', '-o', log, '--'] + argv
    run(ctx, argv2, False, env=env, **run_opts)
    ok = True
    for p in premise.split():
        if p == 'split':
            calls = [c for c in strace_writes(log) if c[0] != 'sendmsg']
            s = text.secret.encode()
            whole = any(s in d for _, _, d in calls)
            seen = s in b''.join(d for _, fd, d in calls if fd in (1, 2))
            if whole or not seen:
                rep.fail(name, 'premise: the secret should reach write() split in two calls '
                         '(in one call: %s; in the output: %s)' % (whole, seen))
                ok = False
        elif p.startswith('syscall:'):
            want = p.split(':', 1)[1]
            if want not in strace_syscalls(log):
                rep.fail(name, 'premise: the program should call %s without the library' % want)
                ok = False
        else:
            raise SystemExit('unknown premise %r' % p)
    os.unlink(log)
    return ok


def run_case(ctx, rep, case, tk):
    text = Text(tk)
    name = '%s[%s]' % (case['name'], tk)
    try:
        argv = [ctx.subst(a) for a in shlex.split(case['run'])]
        argv = [{'{TEXT}': text.text, '{TEXT_A}': text.a, '{TEXT_B}': text.b}.get(a, a) for a in argv]
        argv[0] = need(argv[0])
        for t in (case.get('needs') or '').split():
            need(t)
    except Missing as e:
        rep.fail(name, str(e))
        return
    env = dict(text.env())
    env['SCRIPTS'] = ctx.scripts
    env['BIN'] = ctx.bindir
    env.update({k: ctx.subst(v) for k, v in kv(case.get('env')).items()})
    libenv = dict(env)
    libenv.update({k: ctx.subst(v) for k, v in kv(case.get('libenv')).items()})
    stdin = case.get('stdin', '')
    if stdin == 'text':
        stdin = text.text.encode()
    else:
        stdin = stdin.encode().decode('unicode_escape').encode('latin-1')
    opts = dict(out=case.get('stdout', 'pipe'), err=case.get('stderr', 'pipe'), stdin=stdin,
                timeout=float(case.get('timeout', 60)))
    outfiles = (case.get('outfile') or '').split()
    dirs = []
    results = []
    infile = case.get('infile')

    def workdir():
        d = tempfile.mkdtemp(dir=ctx.tmp)
        if infile:
            with open(os.path.join(d, infile), 'w') as f:
                f.write(text.text)
        return d

    for lib in (False, True):
        d = workdir()
        dirs.append(d)
        results.append(run(ctx, argv, lib, env=libenv if lib else env, cwd=d, **opts))
    ref, got = results
    if not check_premise(ctx, rep, name, case, argv, text, env, dict(opts, cwd=workdir())):
        return
    channels = ('stdout', 'stderr')
    if not compare_runs(ctx, rep, name, text, ref, got, channels=channels, prints=case.get('prints') != 'no'):
        return
    for what in (case.get('sha256') or '').split():
        data = {'text': text.text, 'text-nl': text.text + '\n'}[what].encode()
        digest = hashlib.sha256(data).hexdigest().encode()
        rep.check(name + ' sha256', digest in got.out,
                  'the reader saw other bytes than were sent: sha256 %s not in %r' % (digest, got.out[:300]))
    for f in outfiles:
        try:
            a = open(os.path.join(dirs[0], f), 'rb').read()
            b = open(os.path.join(dirs[1], f), 'rb').read()
        except OSError as e:
            rep.fail(name, 'output file %s: %s' % (f, e))
            continue
        if hashlib.sha256(a).digest() != hashlib.sha256(b).digest():
            rep.fail(name, describe_diff('file ' + f + ' (data between programs must be byte-exact)', a, b))
        elif text.secret and text.secret.encode() not in a:
            rep.fail(name, 'premise: file %s should hold the secret' % f)
        else:
            rep.ok(name + ' ' + f)


def group_cases(ctx, rep, fname):
    cases = parse_cases(os.path.join(HERE, 'cases', fname))
    items = []
    for c in cases:
        kinds = c.get('texts', 'all')
        kinds = TEXT_KINDS if kinds == 'all' else kinds.split()
        for tk in kinds:
            items.append((ctx, rep, c, tk))
    parallel(ctx, run_case, items)


# ---------------------------------------------------------------------------
# Processes driven step by step (non-blocking pipes, EINTR, hold-back bounds)

class Live:
    """A running program whose stdout/stderr the driver reads when it
    chooses (pipes), with stdin kept open."""

    def __init__(self, ctx, argv, lib, env=None, pty_out=False):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  env=ctx.env(lib, env), start_new_session=True)
        self.buf = {'out': bytearray(), 'err': bytearray()}
        self.fds = {self.p.stdout.fileno(): 'out', self.p.stderr.fileno(): 'err'}
        self.t0 = time.monotonic()

    def pump(self, which=('out', 'err'), timeout=0.05, limit=65536):
        """Reads what is there on the named streams (at most limit bytes per
        read); returns False when they are all at EOF."""
        fds = [fd for fd, n in self.fds.items() if n in which]
        if not fds:
            return False
        r, _, _ = select.select(fds, [], [], timeout)
        for fd in r:
            d = os.read(fd, limit)
            if d:
                self.buf[self.fds[fd]] += d
            else:
                del self.fds[fd]
        return True

    def wait_for(self, which, pattern, timeout, read=('out', 'err')):
        """Reads until pattern is in the buffer `which`; True if seen in time."""
        end = time.monotonic() + timeout
        while pattern not in self.buf[which]:
            if time.monotonic() > end:
                return False
            if not self.pump(read, timeout=0.05) and self.p.poll() is not None:
                return pattern in self.buf[which]
        return True

    def send(self, data, close=False):
        try:
            self.p.stdin.write(data)
            self.p.stdin.flush()
            if close:
                self.p.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    def finish(self, timeout=60):
        """Drains everything and waits; returns a Result."""
        try:
            self.p.stdin.close()
        except OSError:
            pass
        end = time.monotonic() + timeout
        res = Result()
        while self.fds and time.monotonic() < end:
            self.pump(timeout=0.05)
        try:
            res.rc = self.p.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            res.timed_out = True
            self.kill()
            res.rc = self.p.wait()
        res.out, res.err = bytes(self.buf['out']), bytes(self.buf['err'])
        self.p.stdout.close()
        self.p.stderr.close()
        return res

    def kill(self):
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def reports(err):
    """The '#...' report lines of behave, and stderr without them."""
    lines = [l for l in err.split(b'\n')]
    rep = [l[1:].decode() for l in lines if l.startswith(b'#')]
    rest = b'\n'.join(l for l in lines if not l.startswith(b'#'))
    return rep, rest


def texts_for(kinds=TEXT_KINDS):
    return [Text(k) for k in kinds]


def group_nonblock(ctx, rep):
    """A non-blocking stdout pipe and a slow reader: nothing lost, doubled or
    reordered; EAGAIN and partial counts as the kernel gives them."""
    behave = ctx.bin('behave')

    def one(text, args):
        name = 'nonblock-%s[%s]' % ('small' if args[1] == '0' else 'large', text.kind)
        results = []
        for lib in (False, True):
            live = Live(ctx, [behave, 'nonblock'] + args, lib, env=text.env())
            # Nothing is read until the program saw the pipe full.
            if not live.wait_for('err', b'#full', 30, read=('err',)):
                live.kill()
                rep.fail(name, 'the program never saw EAGAIN (a blocking write with O_NONBLOCK?) '
                         '(with%s the library)' % ('' if lib else 'out'))
                return
            # A slow reader: small reads with pauses.
            while live.fds:
                live.pump(timeout=0.05, limit=2048)
                time.sleep(0.0005)
                if time.monotonic() - live.t0 > 120:
                    break
            results.append(live.finish())
        ref, got = results
        rref, ref.err = reports(ref.err)
        rgot, got.err = reports(got.err)
        stats = [r for r in rgot if r.startswith('stats')]
        if not compare_runs(ctx, rep, name, text, ref, got, channels=('stdout', 'stderr')):
            return
        m = re.search(r'eagain=(\d+) partial=(\d+)', stats[0] if stats else '')
        rep.check(name + ' eagain', m and int(m.group(1)) > 0,
                  'no EAGAIN seen with the library: %s' % stats)

    # Small writes (records, some cut in the middle of the secret), and
    # 100 writes of 200 texts each (partial writes cut them anywhere).
    parallel(ctx, one, [(t, a) for t in texts_for() for a in (['20000', '0'], ['100', '200'])])


def group_eintr(ctx, rep):
    """A blocking write interrupted by a signal returns what the kernel
    returns: the partial count after a page went out, then -1/EINTR."""
    behave = ctx.bin('behave')

    def one(text):
        name = 'eintr[%s]' % text.kind
        results, reps = [], []
        for lib in (False, True):
            live = Live(ctx, [behave, 'eintr'], lib, env=text.env())
            if not live.wait_for('err', b'#full', 30, read=('err',)):
                live.kill()
                rep.fail(name, 'the program did not fill the pipe (with%s the library)' % ('' if lib else 'out'))
                return
            # Exactly one page.
            got = bytearray()
            end = time.monotonic() + 30
            while len(got) < 4096 and time.monotonic() < end:
                r, _, _ = select.select([live.p.stdout], [], [], 0.1)
                if r:
                    got += os.read(live.p.stdout.fileno(), 4096 - len(got))
            live.buf['out'] += got
            live.send(b'go\n')
            if not live.wait_for('err', b'#eintr', 30, read=('err',)):
                live.kill()
                rep.fail(name, 'the interrupted write did not return (with%s the library): the write '
                         'went on blocking after the signal' % ('' if lib else 'out'))
                return
            res = live.finish()
            r, res.err = reports(res.err)
            reps.append([x for x in r if x.startswith('eintr')])
            results.append(res)
        ref, got = results
        if not rep.check(name + ' returns', reps[0] == reps[1],
                         'write returned differently: %s with the library, %s without' % (reps[1], reps[0])):
            return
        compare_runs(ctx, rep, name, text, ref, got, channels=('stdout', 'stderr'))

    parallel(ctx, one, [(t,) for t in texts_for()])


def masked_text(ctx, text):
    return ctx.oracle(text.text.encode())


def sequences(recs):
    """{writer: [record numbers in output order]} of records whose header
    captured (writer, number)."""
    seen = {}
    for m in recs:
        seen.setdefault(int(m.group(1)), []).append(int(m.group(2)))
    return seen


def parse_records(data, head_re, body_for):
    """Splits data into records: each starts with head_re and continues with
    exactly body_for(match) bytes.  Returns (records, error)."""
    recs = []
    pos = 0
    while pos < len(data):
        m = head_re.match(data, pos)
        if not m:
            return recs, 'no record starts at byte %d: %r' % (pos, data[pos:pos + 80])
        body = body_for(m)
        end = m.end() + len(body)
        if data[m.end():end] != body:
            return recs, 'record %r broken at byte %d: want %r, got %r' % (
                m.group(0), m.end(), body[:80], data[m.end():m.end() + 80])
        recs.append(m)
        pos = end
    return recs, None


def group_threads(ctx, rep):
    """Threads writing concurrently (write(), and stdio): every record whole,
    masked, once, in each thread's order."""
    behave = ctx.bin('behave')
    nt, nrec = 4, 400

    def one(mode, text):
        name = '%s[%s]' % (mode, text.kind)
        res = run(ctx, [behave, mode, str(nt), str(nrec)], True, env=text.env(), timeout=120)
        if res.timed_out or res.rc != 0:
            rep.fail(name, 'exit %s%s, stderr %r' % (res.rc, ' (timed out)' if res.timed_out else '', res.err[-300:]))
            return
        body = masked_text(ctx, text)
        recs, err = parse_records(res.out, re.compile(rb'T(\d+):(\d+):'), lambda m: body)
        if err:
            rep.fail(name, err)
            return
        seen = sequences(recs)
        ok = sorted(seen) == list(range(nt)) and all(v == list(range(nrec)) for v in seen.values())
        rep.check(name, ok and res.err == b'', 'records missing, doubled or out of order: %s'
                  % {k: (len(v), v[:5]) for k, v in seen.items()})

    parallel(ctx, one, [(m, t) for m in ('threads-write', 'threads-stdio') for t in texts_for()])


def group_signal(ctx, rep):
    """A signal handler that writes (every millisecond) while the program
    writes records cut in the middle of the secret: no deadlock, no byte
    lost or doubled; the handler's lines whole; a record is masked unless a
    handler line landed inside its secret (then the secret was never whole,
    and what is left of it is printed as is or, where a part of it is still
    a secret for a rule such as an unsigned JWT, masked: no other byte
    changes)."""
    behave = ctx.bin('behave')
    sig_re = re.compile(rb'<SIG (\d+)>\n')

    def one(mode, text):
        name = '%s[%s]' % (mode, text.kind)
        res = run(ctx, [behave, mode, '3000'], True, env=text.env(), timeout=120)
        r, err = reports(res.err)
        if res.timed_out or res.rc != 0:
            rep.fail(name, 'exit %s%s, stderr %r' % (res.rc, ' (deadlock?)' if res.timed_out else '', res.err[-300:]))
            return
        nsig = int(r[0].split('=')[1]) if r and r[0].startswith('signals=') else -1
        # Take the handler's lines out, remembering where they were.
        sigs = [(m.start(), int(m.group(1))) for m in sig_re.finditer(res.out)]
        if [k for _, k in sigs] != list(range(1, nsig + 1)):
            rep.fail(name, 'handler lines missing, doubled or out of order: %d of %d' % (len(sigs), nsig))
            return
        rest = sig_re.sub(b'', res.out)
        raw = text.text.encode()
        masked = masked_text(ctx, text)
        s0 = raw.index(text.secret.encode()) if text.secret else 0
        s1 = s0 + len(text.secret) if text.secret else 0

        def cut_record(body):
            """Each byte as printed, or a mask star inside the secret."""
            return len(body) == len(raw) and all(b == r or (b == 0x2a and s0 <= j < s1)
                                                  for j, (b, r) in enumerate(zip(body, raw)))

        pos, i, cut = 0, 0, 0
        starts = []
        while pos < len(rest):
            head = b'M:%d:' % i
            if not rest.startswith(head, pos):
                rep.fail(name, 'record %d missing at byte %d: %r' % (i, pos, rest[pos:pos + 60]))
                return
            body = rest[pos + len(head):pos + len(head) + len(raw)]
            starts.append((pos, len(head) + len(raw)))
            if body != masked:
                if not cut_record(body):
                    rep.fail(name, 'record %d garbled: %r' % (i, body[:100]))
                    return
                cut += 1
            pos += len(head) + len(raw)
            i += 1
        # An unmasked record must have had a handler line inside its secret.
        removed = 0
        sig_at = []
        for off, _ in sigs:
            sig_at.append(off - removed)
            removed += len(b'<SIG %d>\n' % _)
        for k, (p0, ln) in enumerate(starts):
            body = rest[p0 + ln - len(raw):p0 + ln]
            if text.secret and body != masked:
                lo, hi = p0 + ln - len(raw) + s0, p0 + ln - len(raw) + s1
                if not any(lo < a < hi for a in sig_at):
                    rep.fail(name, 'record %d not fully masked with no handler line inside the secret' % k)
                    return
        rep.check(name, i >= 3000, 'only %d records' % i)

    # Not the PEM block: its body may hold anything ([\s\S]{64,16384}?), so
    # a handler line that lands inside one is rightly masked with it.
    parallel(ctx, one, [(m, t) for m in ('signal', 'signal-stdio') for t in texts_for(['aws', 'github', 'jwt', 'twin'])])


def group_fork_threads(ctx, rep):
    """fork() while other threads write (write() and stdio): no deadlock in
    parent or children; every child's record whole and masked, once."""
    behave = ctx.bin('behave')

    def one(text):
        name = 'fork-threads[%s]' % text.kind
        nchild = 40
        res = run(ctx, [behave, 'fork-threads', str(nchild), '2000'], True, env=text.env(), timeout=120)
        if res.timed_out or res.rc != 0:
            rep.fail(name, 'exit %s%s, stderr %r' % (res.rc, ' (deadlock?)' if res.timed_out else '', res.err[-300:]))
            return
        body = masked_text(ctx, text)
        missing = [c for c in range(nchild) if res.out.count(b'C%d:0:' % c + body) != 1]
        if text.secret and text.secret.encode() in res.out:
            rep.fail(name, 'the secret is in the output')
        rep.check(name, not missing, 'child records missing or broken: %s' % missing[:10])

    # 300 extra rules, each compiled on the first hit of its keyword: many
    # JIT compiles in every thread of every process.
    nstress = 300
    stress = os.path.join(ctx.tmp, 'stress-rules.yaml')
    with open(stress, 'w') as f:
        f.write('family: stress\nrules:\n')
        for i in range(nstress):
            f.write("  - id: stress-%03d\n    description: stress rule %d\n    regex: 'zq%03dk_[a-z]{6}[0-9]{6}'\n"
                    "    keywords: [zq%03dk_]\n" % (i, i, i, i))
    stress_line = ' '.join('zq%03dk_abcdef123456' % i for i in range(nstress)) + '\n'

    def compile_race(text, round_):
        name = 'fork-during-rule-compile[%s]#%d' % (text.kind, round_)
        nchild = 12
        env = dict(text.env(), REDACT_PATTERNS='+' + stress, STRESS_LINE=stress_line)
        res = run(ctx, [behave, 'fork-compile', str(nchild)], True, env=env, timeout=60)
        leaked = set(re.findall(rb'zq(\d{3})k_abcdef123456', res.out))
        if len(leaked) == nstress:
            rep.fail(name, 'premise: the extra rules were not loaded (REDACT_PATTERNS=+%s)' % stress)
            return
        if res.timed_out or res.rc != 0:
            rep.fail(name, 'exit %s%s' % (res.rc, ' (a child hung: deadlock?)' if res.timed_out else ''))
            return
        if leaked or (text.secret and text.secret.encode() in res.out):
            rep.fail(name, 'secrets printed unmasked (rules %s; the text\'s secret: %s)'
                     % (sorted(leaked)[:5], bool(text.secret and text.secret.encode() in res.out)))
            return
        body = masked_text(ctx, text)
        missing = [c for c in range(nchild) if res.out.count(b'C%d:0:' % c + body) != 1]
        rep.check(name, not missing, 'child records missing or broken: %s' % missing[:10])

    parallel(ctx, one, [(t,) for t in texts_for()])
    # Each process compiles its rules once: many short processes.
    parallel(ctx, compile_race, [(t, i) for t in texts_for(['aws', 'github', 'jwt', 'pem']) for i in range(15)])


def group_atomic(ctx, rep):
    """Small writes to a pipe stay atomic (PIPE_BUF) with the library: four
    processes write records of up to 4096 bytes, each in one write()."""
    behave = ctx.bin('behave')

    def one(text):
        name = 'pipe-buf-atomic[%s]' % text.kind
        nproc, nrec = 4, 600
        res = run(ctx, [behave, 'atomic', str(nproc), str(nrec)], True, env=text.env(), timeout=120)
        if res.timed_out or res.rc != 0:
            rep.fail(name, 'exit %s, stderr %r' % (res.rc, res.err[-300:]))
            return
        tail = ctx.oracle(b' ' + text.text.encode())

        def body(m):
            c, i = int(m.group(1)), int(m.group(2))
            padn = (i * 131 + c * 17) % 3800
            return bytes([ord('a') + c]) * padn + tail + b':%d>\n' % c

        recs, err = parse_records(res.out, re.compile(rb'<(\d+):(\d+):'), body)
        if err:
            rep.fail(name, err)
            return
        seen = sequences(recs)
        rep.check(name, all(seen.get(c) == list(range(nrec)) for c in range(nproc)),
                  'records missing or out of order: %s' % {k: len(v) for k, v in seen.items()})

    parallel(ctx, one, [(t,) for t in texts_for()])


def group_holdback(ctx, rep):
    """Held bytes appear within a bounded time while the program neither
    writes nor reads (assert: within 2 s; REDACT_HOLDBACK_MS is 100)."""
    behave = ctx.bin('behave')
    cases = [('write', 'out'), ('stderr', 'err'), ('fflush', 'out'), ('linebuf', 'out'), ('cxx-like', 'out')]

    def one(how, chan, text):
        name = 'hold-release-%s[%s]' % (how, text.kind)
        live = Live(ctx, [behave, 'hold-sleep', how], True, env=text.env())
        try:
            if not live.wait_for('err', b'#waiting', 30):
                rep.fail(name, 'the program did not start')
                return
            want = masked_text(ctx, text) + b'tail ghp'
            if live.wait_for(chan, want, 2.0):
                rep.ok(name)
            else:
                rep.fail(name, 'held bytes not out after 2 s: %r' % bytes(live.buf[chan][-120:]))
        finally:
            live.kill()
            live.finish(timeout=10)

    parallel(ctx, one, [(h, c, t) for h, c in cases for t in texts_for(['github', 'twin'])])


# ---------------------------------------------------------------------------
# Terminals (what an SSH session sees) and prompts

def onlcr(b):
    return b.replace(b'\n', b'\r\n')


def unonlcr(b):
    return b.replace(b'\r\n', b'\n')


class PtyRun:
    """A program on a new pseudo terminal (its controlling terminal, as
    under sshd): stdin, stdout and stderr are the slave side."""

    def __init__(self, ctx, argv, lib, env=None):
        self.env = ctx.env(lib, env)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execve(argv[0], argv, self.env)
            finally:
                os._exit(127)
        self.buf = bytearray()
        self.eof = False

    def pump(self, timeout):
        if self.eof:
            return False
        r, _, _ = select.select([self.fd], [], [], timeout)
        if r:
            try:
                d = os.read(self.fd, 65536)
            except OSError:
                d = b''
            if d:
                self.buf += d
            else:
                self.eof = True
        return not self.eof

    def wait_for(self, pattern, timeout):
        end = time.monotonic() + timeout
        while pattern not in self.buf:
            if time.monotonic() > end or not self.pump(0.05):
                return pattern in self.buf
        return True

    def finish(self, timeout=60):
        res = Result()
        end = time.monotonic() + timeout
        while not self.eof and time.monotonic() < end:
            self.pump(0.05)
            if time.monotonic() > end:
                break
        if not self.eof:
            res.timed_out = True
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        res.rc = os.waitstatus_to_exitcode(status)
        res.out = bytes(self.buf)
        return res


def group_terminal(ctx, rep):
    """cases/terminal.cases on a pseudo terminal and over pipes.  Prompt
    cases: the prompt must be visible before the program waits for input
    (within 2 s), with the default hold-back and with REDACT_HOLDBACK_MS at
    60000 (then only the release before the read can show it).  Every
    transcript must be the one without the library as the rules redact it
    (applied to what the program wrote, before the terminal's \n -> \r\n)."""
    cases = parse_cases(os.path.join(HERE, 'cases', 'terminal.cases'))

    def one(case, text, holdback):
        name = '%s[%s]%s' % (case['name'], text.kind, '' if holdback is None else ' holdback=%s' % holdback)
        try:
            argv = [ctx.subst(a) for a in shlex.split(case['run'])]
            argv[0] = need(argv[0])
        except Missing as e:
            rep.fail(name, str(e))
            return
        env = dict(text.env(), SCRIPTS=ctx.scripts)
        libenv = dict(env)
        if holdback is not None:
            libenv['REDACT_HOLDBACK_MS'] = holdback
        prompt = case.get('prompt', '').encode()
        answer = case.get('input', 'y\\n').encode().decode('unicode_escape').encode()
        channel = case.get('channel', 'pty')
        results = []
        for lib in (False, True):
            e = libenv if lib else env
            if channel == 'pty':
                r = PtyRun(ctx, argv, lib, e)
            else:
                r = Live(ctx, argv, lib, e)
            seen = True
            if prompt:
                if channel == 'pty':
                    seen = r.wait_for(prompt, 2.0 if lib else 30)
                else:
                    seen = r.wait_for('out', prompt, 2.0 if lib else 30)
                if channel == 'pty':
                    os.write(r.fd, answer)
                else:
                    r.send(answer, close=True)
            res = r.finish()
            if not seen:
                rep.fail(name, 'the prompt %r was not visible before the program waited for input '
                         '(2 s; with%s the library); transcript so far %r'
                         % (prompt, '' if lib else 'out', res.out[:200]))
                return
            results.append(res)
        ref, got = results
        if channel == 'pty':
            for res in results:
                res.out = unonlcr(res.out)
        if compare_runs(ctx, rep, name, text, ref, got, channels=('stdout', 'stderr'),
                        prints=case.get('prints') != 'no'):
            pass

    items = []
    for c in cases:
        kinds = c.get('texts', 'all')
        kinds = TEXT_KINDS if kinds == 'all' else kinds.split()
        hbs = [None, '60000'] if c.get('prompt') else [None]
        for k in kinds:
            for hb in hbs:
                items.append((c, Text(k), hb))
    parallel(ctx, one, items)


# ---------------------------------------------------------------------------
# Sockets

def group_sockets(ctx, rep):
    """REDACT_SOCKETS selects sockets.  A unix datagram log sink selected with
    unix:PATH gets every message masked, one datagram per message as sent;
    a TCP connection not selected carries the token byte-exact, and the
    same connection selected with connect:127.0.0.1:PORT is masked."""
    script = os.path.join(ctx.scripts, 'sockets.py')
    py = need('/usr/bin/python3')

    def collect_dgrams(sock, stop):
        msgs = []
        sock.settimeout(0.1)
        while not stop.is_set():
            try:
                msgs.append(sock.recv(65536))
            except socket.timeout:
                pass
        while True:
            try:
                sock.settimeout(0.2)
                msgs.append(sock.recv(65536))
            except socket.timeout:
                break
        return msgs

    def unix_one(text):
        name = 'unix-dgram-selected[%s]' % text.kind
        out = []
        for lib in (False, True):
            d = tempfile.mkdtemp(dir=ctx.tmp)
            path = os.path.join(d, 'log.sock')
            srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            srv.bind(path)
            stop = threading.Event()
            box = []
            th = threading.Thread(target=lambda: box.append(collect_dgrams(srv, stop)))
            th.start()
            res = run(ctx, [py, script, 'unix-dgram', path], lib,
                      env=dict(text.env(), REDACT_SOCKETS='unix:' + path))
            stop.set()
            th.join()
            srv.close()
            out.append((res, box[0]))
        (ref, rmsgs), (got, gmsgs) = out
        if not compare_runs(ctx, rep, name + ' stdout', text, ref, got, channels=('stdout', 'stderr')):
            return
        if len(rmsgs) != len(gmsgs) or len(rmsgs) < 4:
            rep.fail(name, 'datagrams: %d with the library, %d without' % (len(gmsgs), len(rmsgs)))
            return
        for i, (r, g) in enumerate(zip(rmsgs, gmsgs)):
            want = ctx.oracle(r)
            if text.secret and text.secret.encode() in g:
                rep.fail(name, 'datagram %d carries the secret: %r' % (i, g[:200]))
            elif g != want:
                rep.fail(name, describe_diff('datagram %d' % i, want, g))
            else:
                rep.ok(name + ' dgram %d' % i)

    def tcp_one(text, selected):
        name = 'tcp-%s[%s]' % ('selected' if selected else 'not-selected', text.kind)
        out = []
        for lib in (False, True):
            srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            srv.bind(('127.0.0.1', 0))
            srv.listen(1)
            port = srv.getsockname()[1]
            box = []

            def serve():
                c, _ = srv.accept()
                data = b''
                while True:
                    d = c.recv(65536)
                    if not d:
                        break
                    data += d
                c.close()
                box.append(data)

            th = threading.Thread(target=serve)
            th.start()
            sockets = 'connect:127.0.0.1:%d' % port if selected else 'unix:/nonexistent/log.sock'
            res = run(ctx, [py, script, 'tcp', str(port)], lib, env=dict(text.env(), REDACT_SOCKETS=sockets))
            th.join(timeout=60)
            srv.close()
            res.peer = box[0] if box else b''
            out.append(res)
        ref, got = out
        if selected:
            compare_runs(ctx, rep, name, text, ref, got)
        else:
            if not compare_runs(ctx, rep, name + ' stdout', text, ref, got, channels=('stdout', 'stderr')):
                return
            want = (text.a + text.b + text.text).encode()
            rep.check(name, got.peer == want and ref.peer == want,
                      describe_diff('TCP peer (must be byte-exact)', want, got.peer))

    items = [(unix_one, (t,)) for t in texts_for()]
    items += [(tcp_one, (t, sel)) for t in texts_for() for sel in (False, True)]
    parallel(ctx, lambda f, a: f(*a), items)


def group_quiet(ctx, rep):
    """The library never prints into the program's stdout/stderr, whatever
    its settings (invalid values, unreadable rule paths, a broken audit
    log, an unreadable config file): the twin's output stays identical, and
    a secret is still masked."""
    variants = {
        'bad-mode': {'REDACT_MODE': 'bogus'},
        'bad-holdback': {'REDACT_HOLDBACK_MS': '0', 'REDACT_HOLDBACK_MAX': 'x'},
        'missing-patterns': {'REDACT_PATTERNS': '/nonexistent/rules.yaml'},
        'broken-audit-log': {'REDACT_AUDIT_LOG': '/nonexistent/dir/audit.log'},
        'unreadable-config': {'REDACT_CONFIG': '/nonexistent/libredact.conf'},
        'garbage-config': {'REDACT_CONFIG': os.path.join(HERE, 'cases', 'README')},
        'bad-sockets': {'REDACT_SOCKETS': 'bogus:,connect:'},
        'bad-scope': {'REDACT_SCOPE': 'everything'},
    }
    progs = [['/usr/bin/python3', os.path.join(ctx.scripts, 'py_print.py'), 'interleave'],
             [ctx.bin('stdio_paths-O2'), 'interleave'],
             ['/bin/bash', '-c', 'echo -n "$TEXT_A"; echo -n "$TEXT_B"; echo "$TEXT" >&2; ls /nonexistent']]

    def one(vname, argv, text):
        name = '%s:%s[%s]' % (vname, os.path.basename(argv[0]), text.kind)
        ref = run(ctx, argv, False, env=text.env())
        got = run(ctx, argv, True, env=dict(text.env(), **variants[vname]))
        compare_runs(ctx, rep, name, text, ref, got, channels=('stdout', 'stderr'))

    parallel(ctx, one, [(v, p, t) for v in variants for p in progs for t in texts_for(['aws', 'twin'])])


def group_coverage(ctx, rep):
    """Every hooked function is called by at least one of the snippet builds
    (their undefined dynamic symbols, nm -D): at -O0 some calls are folded
    (__fprintf_chk with "%s" becomes fputs) and at -O2 others appear
    (__overflow from inline putc_unlocked)."""
    nm = need('nm')
    used = set()
    per = {}
    for v in ('O0', 'O2', 'cxx'):
        out = subprocess.run([nm, '-D', '--undefined-only', ctx.bin('snippets-' + v)], capture_output=True,
                             text=True).stdout
        syms = {l.split()[-1].split('@')[0] for l in out.splitlines() if l.strip()}
        per[v] = syms
        used |= syms
    for h in hooks_def_names():
        rep.check(h, h in used, 'no snippet build calls %s' % h)


# ---------------------------------------------------------------------------
# Return values and errno

def group_retvals(ctx, rep):
    """Return values and errno of the output calls (progs/retvals.c) are the
    same with the library as without: with the default masks, with masks
    that change lengths (REDACT_MASK=label), and on a selected socket."""
    prog = ctx.bin('retvals')

    def one(text, label):
        name = 'retvals%s[%s]' % ('-label' if label else '', text.kind)
        env = text.env()
        libenv = dict(env, REDACT_SOCKETS='all')
        if label:
            libenv['REDACT_MASK'] = 'label'
        ref = run(ctx, [prog], False, env=env, sock=True)
        got = run(ctx, [prog], True, env=libenv, sock=True)
        rr, ref.err = reports(ref.err)
        rg, got.err = reports(got.err)
        if rr != rg:
            diff = [(a, b) for a, b in zip(rr, rg) if a != b] or [(len(rr), len(rg))]
            rep.fail(name, 'calls returned differently (without, with the library): %s' % diff[:6])
            return
        if len(rr) != 33:
            rep.fail(name, 'premise: only %d calls reported' % len(rr))
            return
        if label:
            s = text.secret.encode() if text.secret else None
            for c in ('stdout', 'stderr', 'peer'):
                if s and s in got.channels()[c]:
                    rep.fail(name, 'the secret is in %s' % c)
                    return
            rep.ok(name)
        else:
            compare_runs(ctx, rep, name, text, ref, got)

    parallel(ctx, one, [(t, l) for t in texts_for() for l in (False, True)])


# ---------------------------------------------------------------------------
# Groups and main

GROUPS = {
    'snippets-O0': lambda ctx, rep: group_snippets(ctx, rep, 'O0'),
    'snippets-O2': lambda ctx, rep: group_snippets(ctx, rep, 'O2'),
    'snippets-cxx': lambda ctx, rep: group_snippets(ctx, rep, 'cxx'),
    'python': lambda ctx, rep: group_cases(ctx, rep, 'python.cases'),
    'shell': lambda ctx, rep: group_cases(ctx, rep, 'shell.cases'),
    'c': lambda ctx, rep: group_cases(ctx, rep, 'c.cases'),
    'cxx': lambda ctx, rep: group_cases(ctx, rep, 'cxx.cases'),
    'cuda': lambda ctx, rep: group_cases(ctx, rep, 'cuda.cases'),
    'datapass': lambda ctx, rep: group_cases(ctx, rep, 'datapass.cases'),
    'process': lambda ctx, rep: group_cases(ctx, rep, 'process.cases'),
    'nonblock': group_nonblock,
    'eintr': group_eintr,
    'threads': group_threads,
    'signal': group_signal,
    'fork-threads': group_fork_threads,
    'pipe-buf': group_atomic,
    'holdback': group_holdback,
    'terminal': group_terminal,
    'sockets': group_sockets,
    'quiet': group_quiet,
    'coverage': group_coverage,
    'retvals': group_retvals,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--lib', help='the libredact.so to preload')
    ap.add_argument('--bindir', help='where the test programs were built')
    ap.add_argument('--cli', help='the redact CLI (the oracle)')
    ap.add_argument('--asan', action='store_true', help='preload the ASan runtime first (REDACT_SANITIZE build)')
    ap.add_argument('--jobs', type=int, default=0)
    ap.add_argument('--list', action='store_true')
    ap.add_argument('groups', nargs='*')
    args = ap.parse_args()
    if args.list:
        print('\n'.join(GROUPS))
        return 0
    if not args.lib or not args.bindir or not args.cli or not args.groups:
        ap.error('--lib, --bindir, --cli and a group are needed')
    failed = 0
    ctx = None
    try:
        ctx = Ctx(args)
        for g in args.groups:
            if g not in GROUPS:
                ap.error('unknown group %s' % g)
            rep = Report(g)
            t0 = time.monotonic()
            try:
                GROUPS[g](ctx, rep)
            except Missing as e:
                rep.fail('setup', str(e))
            print('%s: %d checks passed, %d failed (%.1f s)' % (g, rep.passed, len(rep.failures),
                                                               time.monotonic() - t0), flush=True)
            failed += len(rep.failures)
    except Missing as e:
        print('FAIL: %s' % e)
        return 1
    finally:
        if ctx:
            shutil.rmtree(ctx.tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
