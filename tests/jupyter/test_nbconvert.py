#!/usr/bin/python3
"""`jupyter nbconvert --execute` with libredact preloaded.

The same notebook is executed twice: without the library (the baseline)
and with LD_PRELOAD=libredact.so for nbconvert and so for its kernel.  With
the library every output must equal the baseline's with each secret
replaced by stars -- same number of outputs, same types, same everything
else -- every cell source must be intact, and neither the notebook, the
terminal output (where the kernel echoes fd output, the "server log") nor
the audit log may contain a secret or "Invalid Signature".

    test_nbconvert.py LIBREDACT_SO
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cells import CELLS, SECRETS, leaks, stars  # noqa: E402

LIB = None


def execute(workdir, name, preload):
    import nbformat
    src = os.path.join(workdir, "in.ipynb")
    if not os.path.exists(src):
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(c[1]) for c in CELLS]
        nbformat.write(nb, src)
    env = dict(os.environ)
    for k in ("LD_PRELOAD", "LIBREDACT_SESSION", "REDACT_MODE", "REDACT_MASK"):
        env.pop(k, None)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env["JUPYTER_RUNTIME_DIR"] = os.path.join(workdir, "runtime")
    audit = os.path.join(workdir, name + ".audit")
    if preload:
        env["LD_PRELOAD"] = LIB
        env["REDACT_AUDIT_LOG"] = audit
    p = subprocess.run(["/usr/bin/python3", "-m", "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
                        "--ExecutePreprocessor.timeout=120", "--output", name + ".ipynb", src],
                       env=env, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    log = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    if p.returncode:
        raise AssertionError("nbconvert failed (%d):\n%s" % (p.returncode, log))
    with open(os.path.join(workdir, name + ".ipynb")) as f:
        nb = json.load(f)
    audit_lines = []
    if os.path.exists(audit):
        with open(audit) as f:
            audit_lines = [json.loads(line) for line in f if line.strip()]
    return nb, log, audit_lines


class NbconvertExecute(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="rdj-nbconvert-")
        cls.base, cls.base_log, _ = execute(cls.dir, "base", False)
        cls.red, cls.red_log, cls.audit = execute(cls.dir, "red", True)
        with open(os.path.join(cls.dir, "red.ipynb")) as f:
            cls.red_text = f.read()

    def test_baseline_shows_the_secrets(self):
        # the test itself: without the library every secret is in the outputs
        outs = json.dumps([c["outputs"] for c in self.base["cells"]], ensure_ascii=False)
        self.assertEqual(sorted(leaks(outs)), sorted(SECRETS))
        for (name, _, types), cell in zip(CELLS, self.base["cells"]):
            self.assertEqual([o["output_type"] for o in cell["outputs"]], types, name)

    def test_outputs_masked_and_otherwise_identical(self):
        for (name, _, _), b, r in zip(CELLS, self.base["cells"], self.red["cells"]):
            self.assertEqual(len(r["outputs"]), len(b["outputs"]), name)
            self.assertEqual(r["outputs"], stars(b["outputs"]), name)

    def test_no_secret_in_any_output(self):
        for (name, _, _), cell in zip(CELLS, self.red["cells"]):
            self.assertEqual(leaks(json.dumps(cell["outputs"], ensure_ascii=False)), [], name)

    def test_sources_intact(self):
        for (name, src, _), cell in zip(CELLS, self.red["cells"]):
            self.assertEqual("".join(cell["source"]), src, name)
        # the code still holds the secrets (the password as a Python literal)
        self.assertEqual(sorted(leaks(self.red_text)), sorted(SECRETS[:3]))

    def test_logs(self):
        self.assertNotIn("Invalid Signature", self.base_log)
        self.assertNotIn("Invalid Signature", self.red_log)
        # the kernel forwards fd output to its original stdout (the terminal)
        self.assertIn("shell ", self.red_log)
        self.assertEqual(leaks(self.red_log), [])

    def test_audit(self):
        ev = [a for a in self.audit if a["event"] == "jupyter" and a.get("action") != "ok"]
        self.assertEqual(ev, [])
        rules = {a["rule"] for a in self.audit if a["event"] == "detection" and a["channel"] == "jupyter"}
        self.assertEqual(rules, {"aws-access-key-id", "github-token", "jwt", "generic-password-assignment"})
        self.assertEqual(leaks(json.dumps(self.audit)), [])


if __name__ == "__main__":
    LIB = sys.argv.pop(1)  # the LD_PRELOAD value (libasan first in sanitizer builds)
    LIB = LIB if ":" in LIB else os.path.abspath(LIB)
    unittest.main(verbosity=2)
