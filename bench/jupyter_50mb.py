#!/usr/bin/python3
"""How long a cell with 50 MB of output takes, with and without libredact.

One driver starts two ipykernels: one plain, one with LD_PRELOAD=libredact.so
in its environment (the kernel is where the library works on output; the
client only receives).  It then executes the same cell on both, alternating
A, B, A, B... so that load from elsewhere on the machine hits both alike,
and measures for each execution
  wall  seconds from execute_request until the cell is complete (status
        idle, all N MB of output received), and
  cpu   CPU seconds the kernel process spent on it (/proc/PID/stat), which
        other load on the machine disturbs much less.
Variants:
  clean   no secret: the library scans the text and sends it unchanged
  secret  one AWS key at the end: the whole content is redacted, encoded
          again and signed again (HMAC-SHA256 over 50 MB)
Each kernel runs every variant once to warm up first.  The table shows
every time and the medians side by side; no threshold is applied (the
target, at most 1.5x, is stated in docs/jupyter.md).

    bench/jupyter_50mb.py [--lib build/libredact.so] [--mb 50] [--runs 5]
"""
import argparse
import os
import statistics
import sys
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

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def start(lib):
    from jupyter_client.manager import KernelManager
    env = dict(os.environ)
    for k in ("LD_PRELOAD", "LIBREDACT_SESSION", "REDACT_MODE", "REDACT_MASK", "REDACT_AUDIT_LOG"):
        env.pop(k, None)
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    if lib:
        env["LD_PRELOAD"] = lib
    km = KernelManager(kernel_name="python3")
    km.start_kernel(env=env)
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    return km, kc, km.provisioner.process.pid


def run_cell(kc, pid, code, size):
    c0, t0 = cpu_seconds(pid), time.perf_counter()
    msg_id = kc.execute(code)
    got, idle = 0, False
    while not idle:
        m = kc.get_iopub_msg(timeout=600)
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "stream":
            got += len(m["content"]["text"])
        elif m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            idle = True
        elif m["msg_type"] == "error":
            raise RuntimeError(m["content"]["evalue"])
    kc.get_shell_msg(timeout=600)
    wall = time.perf_counter() - t0
    if got < size:
        raise RuntimeError("only %d bytes of output arrived" % got)
    return wall, cpu_seconds(pid) - c0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build",
                                                  "libredact.so"))
    ap.add_argument("--mb", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    lib = os.path.abspath(args.lib)
    if not os.path.exists(lib):
        sys.exit("no %s: build first" % lib)
    os.environ["JUPYTER_RUNTIME_DIR"] = os.environ.get("JUPYTER_RUNTIME_DIR", "/tmp/rdbench-runtime")
    size = args.mb * 1024 * 1024
    kernels = {"without": start(None), "with": start(lib)}
    variants = (("clean", "done\n"), ("secret", "key AKIAQYLPMN5HFIQR7XPA\n"))
    res = {}
    try:
        for variant, tail in variants:
            code = CELL.replace("SIZE", str(size)).replace("TAIL", repr(tail))
            for mode, (km, kc, pid) in kernels.items():
                run_cell(kc, pid, code, size)  # warm-up
            for i in range(args.runs):
                for mode, (km, kc, pid) in kernels.items():
                    res.setdefault((variant, mode), []).append(run_cell(kc, pid, code, size))
    finally:
        for km, kc, pid in kernels.values():
            kc.stop_channels()
            km.shutdown_kernel(now=True)
    print("%d MB output cell, %d runs each, alternating; libredact preloaded in the kernel" % (args.mb, args.runs))
    print("%-7s %-5s %-32s %-32s %7s %7s %6s" % ("variant", "", "without libredact", "with libredact",
                                                "median-", "median+", "ratio"))
    for variant, _ in variants:
        for k, label in ((0, "wall"), (1, "cpu")):
            a = [r[k] for r in res[(variant, "without")]]
            b = [r[k] for r in res[(variant, "with")]]
            ma, mb = statistics.median(a), statistics.median(b)
            print("%-7s %-5s %-32s %-32s %7.2f %7.2f %6.2f" % (
                variant, label, " ".join("%.2f" % x for x in a), " ".join("%.2f" % x for x in b), ma, mb, mb / ma))


if __name__ == "__main__":
    main()
