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

    def masked(self, data):
        """What the library must make of data: the secret's bytes starred."""
        if not self.secret:
            return data
        s = self.secret.encode()
        return data.replace(s, b'*' * len(s))

    def name(self):
        return self.kind


TEXT_KINDS = ['aws', 'github', 'jwt', 'pem', 'twin']

# Debian packages of the tools the matrix runs (for the message when one is
# missing: the matrix installs nothing).
PACKAGES = {
    'python3': 'python3-minimal', 'bash': 'bash', 'sh': 'dash', 'dash': 'dash', 'perl': 'perl-base',
    'mawk': 'mawk', 'awk': 'mawk', 'strace': 'strace', 'sha256sum': 'coreutils', 'cat': 'coreutils',
    'echo': 'coreutils', 'ls': 'coreutils', 'head': 'coreutils', 'tr': 'coreutils', 'grep': 'grep',
    'sed': 'sed', 'true': 'coreutils', 'nvcc': 'nvidia-cuda-toolkit (or NVIDIA\'s cuda-nvcc)',
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


def compare_runs(rep, name, text, ref, got, channels=('stdout', 'stderr', 'peer'), check_rc=True):
    """The core assertion: got (with the library) is ref (without it) with
    the secret masked, on every channel; same exit status; the secret is
    nowhere in got."""
    ok = True
    if got.timed_out or ref.timed_out:
        rep.fail(name, 'timed out (%s)' % ('with the library' if got.timed_out else 'without the library'))
        return False
    if text.secret:
        s = text.secret.encode()
        if not any(s in ref.channels()[c] for c in channels):
            rep.fail(name, 'premise: the program did not print the secret without the library '
                     '(stdout %r, stderr %r)' % (ref.out[:200], ref.err[:200]))
            return False
        for c in channels:
            if s in got.channels()[c]:
                rep.fail(name, 'the secret is in %s unmasked: %r' % (c, got.channels()[c][:300]))
                ok = False
    for c in channels:
        want = text.masked(ref.channels()[c])
        have = got.channels()[c]
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
            if not compare_runs(rep, cname, text, ref, got):
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
            m = re.match(r'^\s*([a-z-]+)\s*:\s?(.*)$', line)
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
    for lib in (False, True):
        d = tempfile.mkdtemp(dir=ctx.tmp)
        dirs.append(d)
        results.append(run(ctx, argv, lib, env=libenv if lib else env, cwd=d, **opts))
    ref, got = results
    if not check_premise(ctx, rep, name, case, argv, text, env, dict(opts, cwd=tempfile.mkdtemp(dir=ctx.tmp))):
        return
    channels = ('stdout', 'stderr')
    if not compare_runs(rep, name, text, ref, got, channels=channels):
        return
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
# Groups and main

GROUPS = {
    'snippets-O0': lambda ctx, rep: group_snippets(ctx, rep, 'O0'),
    'snippets-O2': lambda ctx, rep: group_snippets(ctx, rep, 'O2'),
    'snippets-cxx': lambda ctx, rep: group_snippets(ctx, rep, 'cxx'),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--lib', help='the libredact.so to preload')
    ap.add_argument('--bindir', help='where the test programs were built')
    ap.add_argument('--asan', action='store_true', help='preload the ASan runtime first (REDACT_SANITIZE build)')
    ap.add_argument('--jobs', type=int, default=0)
    ap.add_argument('--list', action='store_true')
    ap.add_argument('groups', nargs='*')
    args = ap.parse_args()
    if args.list:
        print('\n'.join(GROUPS))
        return 0
    if not args.lib or not args.bindir or not args.groups:
        ap.error('--lib, --bindir and a group are needed')
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
