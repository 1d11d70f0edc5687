"""Socket output: argv[1] is 'unix-dgram PATH' (a datagram log sink: logging's
SysLogHandler, an unconnected sendto, a connected send) or 'tcp PORT' (a
connection to 127.0.0.1).  Also prints the text on stdout (a sink)."""
import logging
import logging.handlers
import os
import socket
import sys

text, a, b = os.environ['TEXT'], os.environ['TEXT_A'], os.environ['TEXT_B']
mode = sys.argv[1]
if mode == 'unix-dgram':
    path = sys.argv[2]
    h = logging.handlers.SysLogHandler(address=path)
    log = logging.getLogger('app')
    log.addHandler(h)
    log.setLevel(logging.INFO)
    log.info('loaded %s', text.rstrip('\n'))
    h.close()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.sendto(text.encode(), path)
    s.connect(path)
    s.send(('connected ' + text).encode())
    s.sendmsg([a.encode(), b.encode()])
    s.close()
elif mode == 'tcp':
    s = socket.create_connection(('127.0.0.1', int(sys.argv[2])))
    s.sendall(a.encode())
    s.sendall(b.encode())
    s.sendall(text.encode())
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    s.close()
else:
    sys.exit('unknown mode')
sys.stdout.write('sent ' + text)
