#!/usr/bin/python3
"""How long a cell with 50 MB of output takes, with and without libredact.

A driver process (preloaded or not, as the whole container would be)
starts an ipykernel (which inherits LD_PRELOAD), executes a cell that
prints N MB of training-log-like lines, and measures from execute_request
until the cell is complete (status idle, all output received).  Variants:
  clean   no secret: the library scans and sends the message unchanged
  secret  one AWS key at the end: the whole content is redacted, re-encoded
          and re-signed (HMAC-SHA256 over 50 MB)
Rounds alternate without/with the library; each round starts a fresh
kernel, warms up once and measures RUNS executions per variant.  The table
shows every time and the medians side by side.  No threshold is applied:
this program measures, the README states the target (at most 1.5x).

    bench/jupyter_50mb.py [--lib build/libredact.so] [--mb 50] [--runs 3] [--rounds 2]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CELL = r'''
import sys
line = "step {:>7} | loss=0.{:04d} | tokens/s=51234 | lr=3.0e-04 | grad_norm=1.{:03d} | epoch 3/10\n"
block = "".join(line.format(i, i % 9999, i % 997) for i in range(1000))
n = SIZE // len(block) + 1
text = block * n + TAIL
sys.stdout.write(text)
sys.stdout.flush()
'''


def child(args):
    from jupyter_client.manager import start_new_kernel
    km, kc = start_new_kernel(kernel_name="python3")
    results = {}
    try:
        for variant, tail in (("clean", "done\n"), ("secret", "key AKIAQYLPMN5HFIQR7XPA\n")):
            code = CELL.replace("SIZE", str(args.mb * 1024 * 1024)).replace("TAIL", repr(tail))
            times = []
            for i in range(args.runs + 1):
                t0 = time.perf_counter()
                msg_id = kc.execute(code)
                got, idle = 0, False
                while not idle:
                    m = kc.get_iopub_msg(timeout=300)
                    if m["parent_header"].get("msg_id") != msg_id:
                        continue
                    if m["msg_type"] == "stream":
                        got += len(m["content"]["text"])
                    elif m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                        idle = True
                    elif m["msg_type"] == "error":
                        raise RuntimeError(m["content"]["evalue"])
                kc.get_shell_msg(timeout=300)
                dt = time.perf_counter() - t0
                if got < args.mb * 1024 * 1024:
                    raise RuntimeError("only %d bytes of output arrived" % got)
                if i:  # the first run warms up
                    times.append(dt)
            results[variant] = times
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    with open(args.out, "w") as f:
        json.dump(results, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=os.path.join(os.path.dirname(__file__), "..", "build", "libredact.so"))
    ap.add_argument("--mb", type=int, default=50)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.child:
        return child(args)
    lib = os.path.abspath(args.lib)
    if not os.path.exists(lib):
        sys.exit("no %s: build first" % lib)
    times = {(v, m): [] for v in ("clean", "secret") for m in ("without", "with")}
    tmp = tempfile.mkdtemp(prefix="rdbench-")
    for r in range(args.rounds):
        for mode in ("without", "with"):
            env = dict(os.environ)
            for k in ("LD_PRELOAD", "LIBREDACT_SESSION", "REDACT_MODE", "REDACT_MASK", "REDACT_AUDIT_LOG"):
                env.pop(k, None)
            env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
            env["JUPYTER_RUNTIME_DIR"] = os.path.join(tmp, "runtime")
            if mode == "with":
                env["LD_PRELOAD"] = lib
            out = os.path.join(tmp, "%d-%s.json" % (r, mode))
            subprocess.run(["/usr/bin/python3", os.path.abspath(__file__), "--child", "--out", out,
                            "--mb", str(args.mb), "--runs", str(args.runs)], env=env, check=True,
                           stdout=subprocess.DEVNULL)
            with open(out) as f:
                for v, ts in json.load(f).items():
                    times[(v, mode)] += ts
    print("%d MB output cell, seconds from execute_request to idle (%d rounds x %d runs)" %
          (args.mb, args.rounds, args.runs))
    print("%-8s %-34s %-34s %8s %8s %6s" % ("variant", "without libredact", "with libredact",
                                            "median-", "median+", "ratio"))
    for v in ("clean", "secret"):
        a, b = times[(v, "without")], times[(v, "with")]
        ma, mb = statistics.median(a), statistics.median(b)
        print("%-8s %-34s %-34s %8.2f %8.2f %6.2f" % (v, " ".join("%.2f" % x for x in a),
                                                     " ".join("%.2f" % x for x in b), ma, mb, mb / ma))


if __name__ == "__main__":
    main()
