#!/usr/bin/python3
"""Message-level tests of the Jupyter support, without a real kernel.

A "kernel" here is a Python process started with `-f CONNECTION_FILE` (as
ipykernel is) and libredact preloaded.  It sends Jupyter messages built by
jupyter_client's Session through pyzmq (zmq_msg_send, libzmq loaded
RTLD_LOCAL) or through ctypes calls that reach the interposed zmq_send,
zmq_send_const, zmq_sendmsg and zmq_msg_send, receives them on an inproc
PULL socket and stores the raw frames in a file (not on stdout, which is a
redaction sink).  This driver, which is not preloaded, checks the frames:
signatures verify with the connection key, output content is masked, every
other message is byte for byte what was sent.

    test_zmq.py LIBREDACT_SO
"""
import base64
import ctypes
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import unittest

LIB = None
PY = "/usr/bin/python3"

AWS = "AKIAQYLPMN5HFIQR7XPA"
GHP = "ghp_" + "Xk3m9QpR2sT5vW8yZa1Bc4De6Fg7Hj0KlM2n"
JWT = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0."
       "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c")
# A generic assignment whose value contains a backslash, quoted: on the wire
# it is  password = \"Kp3\\vR9tLm2Wd7Qx\"  (JSON escapes).
PW_VALUE = "Kp3\\vR9tLm2Wd7Qx"
PW_LINE = 'password = "%s"' % PW_VALUE

SECRETS = [AWS, GHP, JWT, PW_VALUE]

DELIM = b"<IDS|MSG>"


# ---------------------------------------------------------------- kernel side

def kernel_main(conn_path, plan_path, out_path):
    """Runs in the preloaded process."""
    import zmq
    from jupyter_client.session import Session

    with open(plan_path) as f:
        plan = json.load(f)
    session = Session(key=plan["session_key"].encode(), signature_scheme=plan["session_scheme"],
                      username="u", session="s")
    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    pull.bind("inproc://out")
    push = ctx.socket(zmq.PUSH)
    push.connect("inproc://out")
    libc = ctypes.CDLL(None)  # global scope: reaches the interposed functions
    libzmq = ctypes.CDLL("libzmq.so.5")  # the real message helpers
    for f in ("zmq_send", "zmq_send_const"):
        getattr(libc, f).argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int]
    libc.zmq_sendmsg.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    libc.zmq_msg_send.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
    libzmq.zmq_msg_init_size.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libzmq.zmq_msg_data.argtypes = [ctypes.c_void_p]
    libzmq.zmq_msg_data.restype = ctypes.c_void_p
    libzmq.zmq_msg_size.argtypes = [ctypes.c_void_p]
    libzmq.zmq_msg_size.restype = ctypes.c_size_t
    libzmq.zmq_msg_close.argtypes = [ctypes.c_void_p]
    keep = []  # zmq_send_const buffers must outlive the send

    def send_frames(frames, via):
        handle = ctypes.c_void_p(push.underlying)
        results = []
        for i, fr in enumerate(frames):
            flags = zmq.SNDMORE if i < len(frames) - 1 else 0
            if via == "zmq_send":
                r = libc.zmq_send(handle, fr, len(fr), flags)
            elif via == "zmq_send_const":
                b = ctypes.create_string_buffer(fr, len(fr))
                keep.append(b)
                r = libc.zmq_send_const(handle, ctypes.cast(b, ctypes.c_char_p), len(fr), flags)
            else:
                msg = ctypes.create_string_buffer(64)
                libzmq.zmq_msg_init_size(msg, len(fr))
                ctypes.memmove(libzmq.zmq_msg_data(msg), fr, len(fr))
                fn = libc.zmq_sendmsg if via == "zmq_sendmsg" else libc.zmq_msg_send
                r = fn(handle, msg, flags) if via == "zmq_sendmsg" else fn(msg, handle, flags)
                # a sent message is left empty, as libzmq leaves it
                results.append(("left", libzmq.zmq_msg_size(msg), 0))
                libzmq.zmq_msg_close(msg)
            results.append(("ret", r, len(fr)))
        return results

    out = []
    for step in plan["steps"]:
        rec = {}
        content = step.get("content", {})
        ident = [x.encode() for x in step.get("ident", ["topic"])]
        buffers = [base64.b64decode(b) for b in step.get("buffers", [])]
        via = step.get("via", "pyzmq")
        if step.get("eagain"):
            # No peer: the first frame is refused, as without the library.
            lonely = ctx.socket(zmq.PUSH)
            lonely.bind("inproc://nobody")
            msg = session.msg(step["type"], content=content)
            try:
                lonely.send_multipart(session.serialize(msg, ident), flags=zmq.NOBLOCK)
                rec["eagain"] = False
            except zmq.Again:
                rec["eagain"] = True
            lonely.close(0)
        if step.get("abandon"):
            # A message abandoned half-sent, then the socket closed: a new
            # socket (maybe at the same address) starts clean.
            # libzmq's reaper frees a closed socket soon after: the next
            # socket often gets the same address.
            import time
            for i in range(10):
                half = ctx.socket(zmq.PUSH)
                half.connect("inproc://out")
                msg = session.msg(step["type"], content=content)
                h = ctypes.c_void_p(half.underlying)
                for fr in session.serialize(msg, ident)[:4]:
                    libc.zmq_send(h, fr, len(fr), zmq.SNDMORE)
                half.close(linger=0)
                time.sleep(0.02)
                fresh = ctx.socket(zmq.PUSH)
                fresh.connect("inproc://out")
                rec.setdefault("reused", []).append(fresh.underlying == h.value)
                session.send(fresh, step["type"], content=content, ident=ident)
                fresh.close(linger=0)
                time.sleep(0.02)
                if i < 9:
                    frames = pull.recv_multipart()
                    try:
                        idents, parts = session.feed_identities(frames)
                        rec.setdefault("earlier", []).append(
                            [[x.decode() for x in idents], session.deserialize(parts)["content"]["text"]])
                    except Exception as e:  # a bad signature or a broken message
                        rec.setdefault("earlier", []).append([[], repr(e)])
        elif via == "pyzmq":
            session.send(push, step["type"], content=content, ident=ident, buffers=buffers or None)
        else:
            msg = session.msg(step["type"], content=content)
            frames = session.serialize(msg, ident) + buffers
            rec["calls"] = send_frames(frames, via)
        frames = pull.recv_multipart()
        rec["frames"] = [base64.b64encode(f).decode() for f in frames]
        out.append(rec)
    with open(out_path, "w") as f:
        json.dump(out, f)


# ---------------------------------------------------------------- driver side

def sign(key, scheme, parts):
    if not key:
        return b""
    h = hmac.new(key.encode(), digestmod=getattr(hashlib, scheme.split("-", 1)[1]))
    for p in parts:
        h.update(p)
    return h.hexdigest().encode()


def run_kernel(steps, conn=None, argv_f=True, env=None, session_key="k-123", session_scheme="hmac-sha256",
               audit=True):
    """Runs the kernel side; returns (list of decoded messages, audit lines)."""
    d = tempfile.mkdtemp(prefix="rdjt-")
    conn = dict(conn or {"key": session_key, "signature_scheme": session_scheme})
    conn_path = os.path.join(d, "kernel-test.json")
    with open(conn_path, "w") as f:
        json.dump(dict(conn, shell_port=1, iopub_port=2, transport="tcp", ip="127.0.0.1"), f)
    os.chmod(conn_path, 0o600)
    plan_path = os.path.join(d, "plan.json")
    with open(plan_path, "w") as f:
        json.dump({"steps": steps, "session_key": session_key, "session_scheme": session_scheme}, f)
    out_path = os.path.join(d, "out.json")
    audit_path = os.path.join(d, "audit.log")
    e = dict(os.environ)
    e.pop("REDACT_MODE", None)
    e["LD_PRELOAD"] = LIB
    e["REDACT_AUDIT_LOG"] = audit_path
    e.update(env or {})
    args = [PY, os.path.abspath(__file__), "--kernel", plan_path, out_path]
    if argv_f:
        args += ["-f", conn_path]
    p = subprocess.run(args, env=e, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    if p.returncode:
        raise AssertionError("kernel side failed: %s %s" % (p.stdout.decode(), p.stderr.decode()))
    with open(out_path) as f:
        recs = json.load(f)
    audit_lines = []
    if os.path.exists(audit_path):
        with open(audit_path) as f:
            audit_lines = [json.loads(l) for l in f if l.strip()]
    msgs = []
    for rec in recs:
        frames = [base64.b64decode(x) for x in rec["frames"]]
        i = frames.index(DELIM)
        sig, header, parent, metadata, content = frames[i + 1:i + 6]
        msgs.append({
            "idents": frames[:i], "sig": sig, "raw": frames, "header": json.loads(header),
            "content_raw": content, "content": json.loads(content), "buffers": frames[i + 6:],
            "sig_ok": sig == sign(session_key, session_scheme, [header, parent, metadata, content]),
            "calls": rec.get("calls"), "eagain": rec.get("eagain"), "reused": rec.get("reused"),
            "earlier": rec.get("earlier"),
        })
    return msgs, audit_lines


def no_secret(testcase, obj):
    text = json.dumps(obj, ensure_ascii=False)
    raw = text.encode()
    for s in SECRETS:
        testcase.assertNotIn(s, text)
        testcase.assertNotIn(json.dumps(s)[1:-1], text)
    testcase.assertNotIn(b"Kp3\\\\vR9", raw)


class Masking(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.steps = [
            {"type": "stream", "content": {"name": "stdout", "text": "key %s ok\n" % AWS}},
            {"type": "execute_input", "content": {"code": "print('%s')" % AWS, "execution_count": 1}},
            {"type": "status", "content": {"execution_state": "busy"}},
            {"type": "execute_result", "content": {
                "execution_count": 1, "metadata": {},
                "data": {"text/plain": "'%s'" % GHP, "text/html": "<b>%s</b>" % GHP,
                         "application/json": {JWT: [1, {"k": "v %s" % AWS}]}}}},
            {"type": "display_data", "content": {
                "data": {"text/plain": "tok %s" % JWT}, "metadata": {}, "transient": {"display_id": "d1"}}},
            {"type": "update_display_data", "content": {
                "data": {"text/html": "<i>%s</i>" % AWS}, "metadata": {}, "transient": {"display_id": "d1"}}},
            {"type": "error", "content": {"ename": "ValueError", "evalue": AWS,
                                          "traceback": ["\x1b[0;31mValueError\x1b[0m: %s" % AWS]}},
            {"type": "execute_reply", "ident": ["shell-id"], "content": {
                "status": "error", "execution_count": 3, "ename": "E", "evalue": GHP, "traceback": [GHP]}},
            {"type": "execute_reply", "ident": ["shell-id"], "content": {
                "status": "ok", "execution_count": 4, "user_expressions": {"x": AWS}}},
            # escapes: quote and backslash, \uXXXX and \n right before a key, non-ASCII around
            {"type": "stream", "content": {"name": "stdout", "text": PW_LINE + "\n"}},
            {"type": "stream", "content": {"name": "stderr", "text": "\x01%s\n\"%s\"\u00e9\U0001F600%s" % (AWS, GHP, JWT)}},
            # a comm message carrying a secret: not output, unchanged
            {"type": "comm_msg", "content": {"comm_id": "c", "data": {"value": AWS}},
             "buffers": [base64.b64encode(AWS.encode()).decode()]},
            # output with binary buffers: buffers unchanged
            {"type": "display_data", "content": {"data": {"text/plain": AWS}, "metadata": {}},
             "buffers": [base64.b64encode(b"\x00" + AWS.encode()).decode()]},
            # a 3 MB output (sent zero-copy by pyzmq) with the key at the end
            {"type": "stream", "content": {"name": "stdout", "text": ("x" * 99 + "\n") * 30000 + AWS + "\n"}},
            # every libzmq entry point
            {"type": "stream", "via": "zmq_send", "content": {"name": "stdout", "text": "a %s\n" % AWS}},
            {"type": "stream", "via": "zmq_send_const", "content": {"name": "stdout", "text": "b %s\n" % AWS}},
            {"type": "stream", "via": "zmq_sendmsg", "content": {"name": "stdout", "text": "c %s\n" % AWS}},
            {"type": "stream", "via": "zmq_msg_send", "content": {"name": "stdout", "text": "d %s\n" % AWS}},
            {"type": "status", "via": "zmq_send", "content": {"execution_state": "idle"}},
            # EAGAIN on the first frame under ZMQ_DONTWAIT, then a normal message
            {"type": "stream", "eagain": True, "content": {"name": "stdout", "text": "e %s\n" % AWS}},
            # base64 of binary data is not text: left alone; SVG is text
            {"type": "display_data", "content": {"metadata": {}, "data": {
                "image/png": "iVBOR/%s/w==" % AWS, "image/svg+xml": "<svg><text>%s</text></svg>" % AWS,
                "text/plain": "<Figure>"}}},
        ]
        cls.msgs, cls.audit = run_kernel(cls.steps)

    def test_all_signatures_verify(self):
        for m in self.msgs:
            self.assertTrue(m["sig_ok"], m["header"]["msg_type"])

    def test_output_masked(self):
        for step, m in zip(self.steps[:20], self.msgs):
            if step["type"] in ("stream", "execute_result", "display_data", "update_display_data", "error") or \
                    step["content"].get("status") == "error":
                no_secret(self, m["content"])

    def test_stream_text(self):
        self.assertEqual(self.msgs[0]["content"], {"name": "stdout", "text": "key %s ok\n" % ("*" * len(AWS))})

    def test_structure_kept(self):
        c = self.msgs[3]["content"]
        self.assertEqual(set(c["data"]), {"text/plain", "text/html", "application/json"})
        self.assertEqual(c["data"]["text/html"], "<b>%s</b>" % ("*" * len(GHP)))
        aj = c["data"]["application/json"]
        self.assertEqual(list(aj.values()), [[1, {"k": "v " + "*" * len(AWS)}]])
        self.assertEqual(self.msgs[4]["content"]["transient"], {"display_id": "d1"})
        self.assertEqual(self.msgs[5]["content"]["transient"], {"display_id": "d1"})
        self.assertEqual(self.msgs[6]["content"]["ename"], "ValueError")
        self.assertTrue(self.msgs[6]["content"]["traceback"][0].startswith("\x1b[0;31mValueError\x1b[0m: ***"))

    def test_non_output_unchanged(self):
        for i in (1, 8, 11):
            m = self.msgs[i]
            self.assertIn(AWS, m["content_raw"].decode(), m["header"]["msg_type"])
        self.assertEqual(self.msgs[2]["content"], {"execution_state": "busy"})
        self.assertEqual(self.msgs[18]["content"], {"execution_state": "idle"})
        self.assertEqual(self.msgs[11]["buffers"], [AWS.encode()])

    def test_escapes(self):
        # the quotes are masked with the value (generic-password-assignment)
        self.assertEqual(self.msgs[9]["content"]["text"], 'password = %s\n' % ("*" * (len(PW_VALUE) + 2)))
        t = self.msgs[10]["content"]["text"]
        self.assertEqual(t, "\x01%s\n\"%s\"\u00e9\U0001F600%s" % ("*" * len(AWS), "*" * len(GHP), "*" * len(JWT)))
        # re-encoded the way jupyter_client encodes (ensure_ascii=False)
        self.assertEqual(self.msgs[10]["content_raw"],
                         json.dumps(self.msgs[10]["content"], ensure_ascii=False).encode())

    def test_buffers_unchanged(self):
        self.assertEqual(self.msgs[12]["buffers"], [b"\x00" + AWS.encode()])
        self.assertEqual(self.msgs[12]["content"]["data"]["text/plain"], "*" * len(AWS))

    def test_large(self):
        t = self.msgs[13]["content"]["text"]
        self.assertEqual(len(t), 100 * 30000 + len(AWS) + 1)
        self.assertTrue(t.endswith("*" * len(AWS) + "\n"))

    def test_entry_points(self):
        for i, letter in zip((14, 15, 16, 17), "abcd"):
            m = self.msgs[i]
            self.assertEqual(m["content"]["text"], "%s %s\n" % (letter, "*" * len(AWS)), m)
            rets = [(r, n) for k, r, n in m["calls"] if k == "ret"]
            # each call returned the size of the frame the caller passed
            self.assertEqual(len(rets), 7)
            self.assertEqual([r for r, n in rets], [n for r, n in rets])
        for i in (16, 17):
            self.assertEqual([r for k, r, n in self.msgs[i]["calls"] if k == "left"], [0] * 7)

    def test_eagain(self):
        self.assertTrue(self.msgs[19]["eagain"])
        self.assertEqual(self.msgs[19]["content"]["text"], "e %s\n" % ("*" * len(AWS)))

    def test_binary_mime(self):
        d = self.msgs[20]["content"]["data"]
        self.assertEqual(d["image/png"], "iVBOR/%s/w==" % AWS)
        self.assertEqual(d["image/svg+xml"], "<svg><text>%s</text></svg>" % ("*" * len(AWS)))
        self.assertTrue(self.msgs[20]["sig_ok"])

    def test_audit(self):
        self.assertEqual([(a["action"], a["channel"]) for a in self.audit if a["event"] == "jupyter"],
                         [("ok", "jupyter")])
        det = [a for a in self.audit if a["event"] == "detection"]
        self.assertTrue(det)
        self.assertTrue(all(a["channel"] == "jupyter" and a["action"] == "masked" for a in det))
        for a in self.audit:
            for s in SECRETS:
                self.assertNotIn(s, json.dumps(a))


class Escaping(unittest.TestCase):
    def test_random_strings_round_trip(self):
        """Random text around the key: decoded, masked and encoded again
        exactly as jupyter_client encodes (json.dumps, ensure_ascii=False)."""
        import random
        rnd = random.Random(1234)
        alphabet = ['"', "\\", "\n", "\t", "\r", "\b", "\f", "\x00", "\x01", "\x1f", "\x7f", "/", " ", "a",
                    "Z", "0", "\u00e9", "\u2028", "\uffff", "\U0001F600", "\u00ff", "{", "}", "[", "]", ":", ","]
        texts = []
        for i in range(60):
            pre = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 12)))
            post = "".join(rnd.choice(alphabet) for _ in range(rnd.randrange(0, 12)))
            texts.append(pre + (" " if pre[-1:].isalnum() else "") + AWS + " " + post)
        content = {"data": {"text/plain": texts[0], "application/json": {"k%d" % i: t for i, t in enumerate(texts)}},
                   "metadata": {}}
        msgs, _ = run_kernel([{"type": "display_data", "content": content}])
        expected = json.loads(json.dumps(content).replace(AWS, "*" * len(AWS)))
        self.assertEqual(msgs[0]["content"], expected)
        self.assertEqual(msgs[0]["content_raw"], json.dumps(expected, ensure_ascii=False).encode())
        self.assertTrue(msgs[0]["sig_ok"])


class Streams(unittest.TestCase):
    def test_split_secret(self):
        """A key cut in two by an OutStream flush: the rest is masked."""
        steps = [{"type": "stream", "content": {"name": "stdout", "text": "id " + AWS[:10]}},
                 {"type": "stream", "content": {"name": "stderr", "text": "other\n"}},
                 {"type": "stream", "content": {"name": "stdout", "text": AWS[10:] + " end\n"}}]
        msgs, _ = run_kernel(steps)
        self.assertEqual(msgs[0]["content"]["text"], "id " + AWS[:10])
        self.assertEqual(msgs[2]["content"]["text"], "*" * 10 + " end\n")
        self.assertTrue(all(m["sig_ok"] for m in msgs))


class Close(unittest.TestCase):
    def test_abandoned_message(self):
        msgs, _ = run_kernel([{"type": "stream", "abandon": True,
                               "content": {"name": "stdout", "text": "z %s\n" % AWS}}])
        self.assertEqual(msgs[0]["content"]["text"], "z %s\n" % ("*" * len(AWS)))
        self.assertEqual(msgs[0]["idents"], [b"topic"])
        self.assertTrue(msgs[0]["sig_ok"])
        masked = "z %s\n" % ("*" * len(AWS))
        self.assertEqual(msgs[0]["earlier"], [[["topic"], masked]] * 9)
        print("(socket address reused %d of 10 times) " % sum(msgs[0]["reused"]), end="", file=sys.stderr)


class Parts(unittest.TestCase):
    def test_secret_across_a_part_boundary(self):
        """Texts are fed to the engine in 1 MiB parts: a key across the
        boundary is still found, in a stream and in a whole text."""
        text = "y" * (2 ** 20 - 10) + " " + AWS + " tail\n"
        masked = text.replace(AWS, "*" * len(AWS))
        msgs, _ = run_kernel([
            {"type": "stream", "content": {"name": "stdout", "text": text}},
            {"type": "execute_result", "content": {"execution_count": 1, "metadata": {},
                                                   "data": {"text/plain": text}}}])
        self.assertEqual(msgs[0]["content"]["text"], masked)
        self.assertEqual(msgs[1]["content"]["data"]["text/plain"], masked)
        self.assertTrue(all(m["sig_ok"] for m in msgs))


class Modes(unittest.TestCase):
    def test_block(self):
        msgs, _ = run_kernel([{"type": "stream", "content": {"name": "stdout", "text": "k %s\n" % AWS}},
                              {"type": "stream", "content": {"name": "stdout", "text": "fine\n"}}],
                             env={"REDACT_MODE": "block"})
        self.assertTrue(msgs[0]["content"]["text"].startswith("[libredact: output withheld"))
        self.assertNotIn(AWS, msgs[0]["content"]["text"])
        self.assertEqual(msgs[1]["content"]["text"], "fine\n")
        self.assertTrue(all(m["sig_ok"] for m in msgs))

    def test_block_large(self):
        text = "y" * (3 << 20) + " " + AWS + " tail\n"
        msgs, _ = run_kernel([{"type": "stream", "content": {"name": "stdout", "text": text}},
                              {"type": "execute_result", "content": {"execution_count": 1, "metadata": {},
                                                                     "data": {"text/plain": text}}}],
                             env={"REDACT_MODE": "block"})
        for t in (msgs[0]["content"]["text"], msgs[1]["content"]["data"]["text/plain"]):
            self.assertEqual(t, "[libredact: output withheld: it contained a secret (aws-access-key-id)]\n")

    def test_log_only(self):
        msgs, audit = run_kernel([{"type": "stream", "content": {"name": "stdout", "text": "k %s\n" % AWS}}],
                                 env={"REDACT_MODE": "log_only"})
        self.assertEqual(msgs[0]["content"]["text"], "k %s\n" % AWS)
        self.assertTrue(msgs[0]["sig_ok"])
        det = [a for a in audit if a["event"] == "detection"]
        self.assertEqual([(a["channel"], a["action"], a["rule"]) for a in det],
                         [("jupyter", "logged", "aws-access-key-id")])

    def test_labels(self):
        msgs, _ = run_kernel([{"type": "stream", "content": {"name": "stdout", "text": "k %s\n" % AWS}}],
                             env={"REDACT_MASK": "label"})
        self.assertEqual(msgs[0]["content"]["text"], "k [REDACTED:aws-access-key-id]\n")
        self.assertTrue(msgs[0]["sig_ok"])


class Keys(unittest.TestCase):
    step = [{"type": "stream", "content": {"name": "stdout", "text": "k %s\n" % AWS}}]

    def unchanged_with(self, reason, **kw):
        msgs, audit = run_kernel(self.step, **kw)
        self.assertIn(AWS, msgs[0]["content"]["text"])
        self.assertTrue(msgs[0]["sig_ok"])
        ev = [a for a in audit if a["event"] == "jupyter"]
        self.assertEqual(len(ev), 1, audit)
        self.assertIn(reason, ev[0]["detail"])
        return ev

    def test_sha512_and_sha1(self):
        for scheme in ("hmac-sha512", "hmac-sha1"):
            msgs, _ = run_kernel(self.step, session_scheme=scheme)
            self.assertTrue(msgs[0]["sig_ok"], scheme)
            self.assertNotIn(AWS, msgs[0]["content"]["text"])

    def test_unsigned(self):
        msgs, _ = run_kernel(self.step, session_key="")
        self.assertEqual(msgs[0]["sig"], b"")
        self.assertNotIn(AWS, msgs[0]["content"]["text"])

    def test_wrong_key(self):
        self.unchanged_with("do not verify", conn={"key": "other", "signature_scheme": "hmac-sha256"})

    def test_unknown_scheme(self):
        self.unchanged_with("signature_scheme", conn={"key": "k-123", "signature_scheme": "hmac-nosuch"})

    def test_no_connection_file(self):
        self.unchanged_with("no connection file", argv_f=False)

    def test_static_libzmq(self):
        """A kernel whose messages never reach the libzmq hooks says so at exit."""
        d = tempfile.mkdtemp(prefix="rdjt-")
        conn = os.path.join(d, "kernel.json")
        with open(conn, "w") as f:
            json.dump({"key": "k", "signature_scheme": "hmac-sha256", "shell_port": 1}, f)
        audit = os.path.join(d, "audit.log")
        env = dict(os.environ, LD_PRELOAD=LIB, REDACT_AUDIT_LOG=audit)
        subprocess.run([PY, "-c", "pass", "-f", conn], env=env, check=True)
        with open(audit) as f:
            ev = [json.loads(line) for line in f]
        self.assertEqual(len(ev), 1)
        self.assertIn("statically", ev[0]["detail"])

    def test_other_programs_minus_f(self):
        """-f means other things to other programs: a FIFO is not opened
        (no hang at exit), a file that is not a connection file is ignored."""
        d = tempfile.mkdtemp(prefix="rdjt-")
        fifo, other, audit = os.path.join(d, "fifo"), os.path.join(d, "x.json"), os.path.join(d, "audit.log")
        os.mkfifo(fifo)
        with open(other, "w") as f:
            json.dump({"key": "not a kernel"}, f)
        env = dict(os.environ, LD_PRELOAD=LIB, REDACT_AUDIT_LOG=audit)
        for target in (fifo, other):
            subprocess.run([PY, "-c", "pass", "-f", target], env=env, check=True, timeout=30)
        self.assertFalse(os.path.exists(audit))

    def test_unreadable_connection_file(self):
        self.unchanged_with("cannot be read", conn={"nokey": 1})


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--kernel":
        kernel_main(sys.argv[5] if len(sys.argv) > 5 else None, sys.argv[2], sys.argv[3])
        sys.exit(0)
    LIB = sys.argv.pop(1)  # the LD_PRELOAD value (libasan first in sanitizer builds)
    LIB = LIB if ":" in LIB else os.path.abspath(LIB)
    unittest.main(verbosity=2)
