"""Python output paths, one per argv[1]; the text to print is in $TEXT
($TEXT_A + $TEXT_B split it in the middle of the secret)."""
import logging
import os
import sys

text, a, b = os.environ['TEXT'], os.environ['TEXT_A'], os.environ['TEXT_B']
mode = sys.argv[1]
if mode == 'print':
    print(text, end='')
elif mode == 'print-split':
    print(a, end='')
    print(b, end='')
elif mode == 'print-args':
    # print(x, y) writes x, sep, y, end separately.
    print(a, b, sep='', end='')
elif mode == 'stderr':
    sys.stderr.write(text)
elif mode == 'stderr-split':
    sys.stderr.write(a)
    sys.stderr.flush()
    sys.stderr.write(b)
elif mode == 'logging':
    logging.basicConfig(level=logging.INFO, format='%(levelname)s:%(name)s:%(message)s')
    logging.getLogger('app').info('loaded %s', text.rstrip('\n'))
    logging.getLogger('app').warning(a + '%s', b.rstrip('\n'))
elif mode == 'os.write':
    os.write(1, text.encode())
elif mode == 'os.write-split':
    os.write(1, a.encode())
    os.write(1, b.encode())
elif mode == 'straddle':
    # Block-buffered text to a pipe: the TextIOWrapper hands the buffered
    # writer 8192-byte chunks; the first ends in the middle of the secret
    # (the driver checks that with strace: premise split).
    pad = 8192 - len(a) % 8192
    sys.stdout.write('p' * (pad - 1) + '\n')
    sys.stdout.write(a)
    sys.stdout.write(b)
    for i in range(50):
        sys.stdout.write('filler line %d\n' % i)
elif mode == 'straddle-bytes':
    # The same through sys.stdout.buffer: 8 KiB of small binary writes.
    out = sys.stdout.buffer
    pad = 8192 - len(a.encode())
    for i in range(pad // 64):
        out.write(b'q' * 63 + b'\n')
    out.write(b'r' * (pad % 64))
    out.write(a.encode())
    out.write(b.encode())
elif mode == 'interleave':
    for i in range(3):
        sys.stdout.write('out %d: ' % i + text)
        sys.stdout.flush()
        sys.stderr.write('err %d: ' % i + text)
        sys.stderr.flush()
else:
    sys.exit('unknown mode ' + mode)
