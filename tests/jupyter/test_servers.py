#!/usr/bin/python3
"""Notebook servers with libredact preloaded, driven over websockets.

The notebook 6.4 server and jupyter_server are each started with
LD_PRELOAD=libredact.so on 127.0.0.1 (so the server and its kernels are
preloaded, as in a container that sets LD_PRELOAD for everything).  A small
websocket client executes the test cells the way a browser does -- the
legacy JSON protocol on both servers, and jupyter_server's binary
v1.kernel.websocket.jupyter.org protocol -- and checks that every cell
completes (execute_reply and status idle arrive), that every expected
output arrives, masked, and that the server log holds neither a secret
nor "Invalid Signature".

    test_servers.py LIBREDACT_SO
"""
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cells import CELLS, leaks, message_types  # noqa: E402

LIB = None
TOKEN = "rdtest-" + uuid.uuid4().hex
V1 = "v1.kernel.websocket.jupyter.org"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, kind):
        self.kind = kind
        self.dir = tempfile.mkdtemp(prefix="rdj-%s-" % kind)
        self.port = free_port()
        self.log_path = os.path.join(self.dir, "server.log")
        env = dict(os.environ)
        for k in ("LIBREDACT_SESSION", "REDACT_MODE", "REDACT_MASK"):
            env.pop(k, None)
        env.update(LD_PRELOAD=LIB, REDACT_AUDIT_LOG=os.path.join(self.dir, "audit.log"),
                   JUPYTER_RUNTIME_DIR=os.path.join(self.dir, "runtime"),
                   JUPYTER_CONFIG_DIR=os.path.join(self.dir, "config"),
                   JUPYTER_DATA_DIR=os.path.join(self.dir, "data"),
                   PYDEVD_DISABLE_FILE_VALIDATION="1", HOME=self.dir)
        if kind == "notebook":
            args = ["-m", "notebook", "--NotebookApp.token=" + TOKEN, "--notebook-dir=" + self.dir]
        else:
            args = ["-m", "jupyter_server", "--ServerApp.token=" + TOKEN, "--ServerApp.root_dir=" + self.dir]
        args += ["--no-browser", "--allow-root", "--ip=127.0.0.1", "--port=%d" % self.port,
                 "--port-retries=0"]
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(["/usr/bin/python3"] + args, env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.dir)
        deadline = time.time() + 60
        while True:
            try:
                self.api("GET", "/api")
                break
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    self.stop()
                    raise AssertionError("%s did not start:\n%s" % (kind, self.read_log()))
                time.sleep(0.2)

    def api(self, method, path, body=None):
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path), method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": "token " + TOKEN,
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            data = r.read()
        return json.loads(data) if data else None

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def audit(self):
        p = os.path.join(self.dir, "audit.log")
        if not os.path.exists(p):
            return []
        with open(p) as f:
            return [json.loads(line) for line in f if line.strip()]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def make_msg(msg_type, content, session):
    return {"header": {"msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "test",
                       "session": session, "date": "", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "content": content, "buffers": []}


async def run_cells(server, kernel_id, protocol):
    """Executes every cell; returns, per cell, the list of (msg_type, content)
    of the iopub messages and whether the cell completed."""
    from tornado import websocket
    session = uuid.uuid4().hex
    url = "ws://127.0.0.1:%d/api/kernels/%s/channels?session_id=%s&token=%s" % (
        server.port, kernel_id, session, TOKEN)
    conn = await websocket.websocket_connect(url, subprotocols=[protocol] if protocol else None)
    if protocol:
        assert conn.selected_subprotocol == protocol, conn.selected_subprotocol

    def encode(channel, msg):
        if not protocol:
            return json.dumps(dict(msg, channel=channel)), False
        parts = [json.dumps(msg[k]).encode() for k in ("header", "parent_header", "metadata", "content")]
        ch = channel.encode()
        offsets = [8 * (1 + 1 + len(parts) + 1)]
        offsets.append(offsets[-1] + len(ch))
        for p in parts:
            offsets.append(offsets[-1] + len(p))
        head = len(offsets).to_bytes(8, "little") + b"".join(o.to_bytes(8, "little") for o in offsets)
        return head + ch + b"".join(parts), True

    def decode(data):
        if isinstance(data, str):
            return json.loads(data)
        if not protocol:
            raise AssertionError("binary message on the legacy protocol")
        n = int.from_bytes(data[:8], "little")
        offs = [int.from_bytes(data[8 * (i + 1):8 * (i + 2)], "little") for i in range(n)] + [len(data)]
        channel = data[offs[0]:offs[1]].decode()
        parts = [data[offs[i]:offs[i + 1]] for i in range(1, n)]
        m = {k: json.loads(p) for k, p in zip(("header", "parent_header", "metadata", "content"), parts[:4])}
        m["channel"] = channel
        return m

    results = []
    for _, code, _ in CELLS:
        req = make_msg("execute_request", {"code": code, "silent": False, "store_history": True,
                                          "user_expressions": {}, "allow_stdin": False,
                                          "stop_on_error": False}, session)
        data, binary = encode("shell", req)
        await conn.write_message(data, binary=binary)
        outputs, reply, idle, echoed = [], None, False, None
        deadline = time.time() + 60
        while not (reply and idle):
            left = deadline - time.time()
            if left <= 0:
                break
            try:
                raw = await asyncio.wait_for(conn.read_message(), left)
            except asyncio.TimeoutError:
                break
            if raw is None:
                raise AssertionError("websocket closed")
            m = decode(raw)
            if m["parent_header"].get("msg_id") != req["header"]["msg_id"]:
                continue
            t = m["header"]["msg_type"]
            if m["channel"] == "shell" and t == "execute_reply":
                reply = m["content"]
            elif t == "status":
                idle = idle or m["content"]["execution_state"] == "idle"
            elif t == "execute_input":
                echoed = m["content"]["code"]
            elif m["channel"] == "iopub":
                outputs.append((t, m["content"]))
        results.append({"outputs": outputs, "reply": reply, "complete": bool(reply and idle), "echoed": echoed})
    conn.close()
    return results


class ServerCase:
    kind = None
    protocols = [None]

    @classmethod
    def setUpClass(cls):
        cls.server = Server(cls.kind)
        cls.results = {}
        try:
            for proto in cls.protocols:
                kernel = cls.server.api("POST", "/api/kernels", {"name": "python3"})
                cls.results[proto] = asyncio.run(run_cells(cls.server, kernel["id"], proto))
                cls.server.api("DELETE", "/api/kernels/" + kernel["id"])
        finally:
            time.sleep(0.5)
            cls.server.stop()
        cls.log = cls.server.read_log()
        cls.audit_lines = cls.server.audit()

    def test_cells_complete_outputs_masked(self):
        for proto, res in self.results.items():
            for (name, code, types), r in zip(CELLS, res):
                where = "%s %s %s" % (self.kind, proto or "legacy", name)
                self.assertTrue(r["complete"], where)
                self.assertEqual([t for t, _ in r["outputs"]], message_types(name, types), (where, r["outputs"]))
                self.assertEqual(leaks(json.dumps(r["outputs"], ensure_ascii=False)), [], where)
                if types:
                    self.assertIn("*" * 16, json.dumps(r["outputs"]), where)
                # the code the user typed comes back untouched
                self.assertEqual(r["echoed"], code, where)
                want = "error" if name == "exception" else "ok"
                self.assertEqual(r["reply"]["status"], want, where)
                self.assertEqual(leaks(json.dumps(r["reply"], ensure_ascii=False)), [], where)

    def test_server_log(self):
        self.assertNotIn("Invalid Signature", self.log)
        self.assertEqual(leaks(self.log), [], self.log[-3000:])
        # the kernel's fd output reached the log, masked
        self.assertIn("shell *****", self.log)

    def test_audit(self):
        bad = [a for a in self.audit_lines if a["event"] == "jupyter" and a.get("action") != "ok"]
        self.assertEqual(bad, [])
        self.assertTrue([a for a in self.audit_lines if a["event"] == "detection" and a["channel"] == "jupyter"])


class Notebook64(ServerCase, unittest.TestCase):
    kind = "notebook"
    protocols = [None]


class JupyterServer(ServerCase, unittest.TestCase):
    kind = "jupyter_server"
    protocols = [None, V1]


if __name__ == "__main__":
    LIB = sys.argv.pop(1)  # the LD_PRELOAD value (libasan first in sanitizer builds)
    LIB = LIB if ":" in LIB else os.path.abspath(LIB)
    unittest.main(verbosity=2)
