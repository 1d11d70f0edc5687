#!/usr/bin/python3
"""syslogs.py gpu|journal TARGET_BYTES - GPU status and system-journal style output.

Part of build_clean_corpus.sh.  This machine has no GPU and no journald, so
these shapes are rebuilt, seeded, from what the real tools print:
  gpu:     nvidia-smi tables, `nvidia-smi topo -m`, --query-gpu CSV, NCCL INFO
           lines, torch.cuda.memory_summary() style tables;
  journal: journalctl -o short-iso lines from systemd, kernel (NVRM), sshd (key
           fingerprints), cron, dockerd/containerd (64-hex ids), kubelet, plus
           uvicorn/nginx access logs.
No credentials: fingerprints, container ids and request paths are not secrets.
"""
import random
import sys
import time

r = random.Random(9)
HEX = "0123456789abcdef"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def hexs(n):
    return "".join(r.choices(HEX, k=n))


def nvidia_smi():
    ngpu = r.choice((1, 2, 4, 8))
    model = r.choice((("NVIDIA A100-SXM4-80GB", 81920, 400), ("NVIDIA H100 80GB HBM3", 81559, 700), ("Tesla V100-SXM2-32GB", 32768, 300), ("NVIDIA A10G", 23028, 300)))
    s = ["%s\n" % r.choice(("Mon May 13 10:%02d:%02d 2024" % (r.randrange(60), r.randrange(60)), "Tue Jun  4 22:%02d:%02d 2024" % (r.randrange(60), r.randrange(60)))),
         "+---------------------------------------------------------------------------------------+\n",
         "| NVIDIA-SMI 535.%d.%02d             Driver Version: 535.%d.%02d   CUDA Version: 12.2     |\n" % ((a := r.randrange(54, 184)), (b := r.randrange(1, 12)), a, b),
         "|-----------------------------------------+----------------------+----------------------+\n",
         "| GPU  Name                 Persistence-M | Bus-Id        Disp.A | Volatile Uncorr. ECC |\n",
         "| Fan  Temp   Perf          Pwr:Usage/Cap |         Memory-Usage | GPU-Util  Compute M. |\n",
         "|=========================================+======================+======================|\n"]
    for g in range(ngpu):
        used = r.randrange(0, model[1])
        s.append("| %3d  %-26s     On  | 00000000:%02X:00.0 Off |                    0 |\n" % (g, model[0][:26], 0x10 + g * 0x10))
        s.append("| N/A   %2dC    P0            %3dW / %3dW |  %5dMiB / %5dMiB |    %3d%%      Default |\n" % (r.randrange(28, 80), r.randrange(50, model[2]), model[2], used, model[1], r.randrange(101)))
        s.append("|                                         |                      |             Disabled |\n")
        s.append("+-----------------------------------------+----------------------+----------------------+\n")
    s.append("\n+---------------------------------------------------------------------------------------+\n| Processes:                                                                            |\n")
    s.append("|  GPU   GI   CI        PID   Type   Process name                            GPU Memory |\n|        ID   ID                                                             Usage      |\n")
    s.append("|=======================================================================================|\n")
    for g in range(ngpu):
        s.append("|  %4d   N/A  N/A   %7d      C   /opt/conda/bin/python3                    %6dMiB |\n" % (g, r.randrange(1000, 4000000), r.randrange(300, 80000)))
    s.append("+---------------------------------------------------------------------------------------+\n")
    return "".join(s)


def gpu():
    k = r.randrange(5)
    if k == 0:
        return nvidia_smi()
    if k == 1:
        n = r.choice((4, 8))
        head = "\t" + "\t".join("GPU%d" % i for i in range(n)) + "\tNIC0\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID\n"
        rows = "".join("GPU%d\t" % i + "\t".join("X" if i == j else r.choice(("NV12", "NV18", "PXB", "SYS")) for j in range(n)) + "\tPXB\t%d-%d\t%d\t\tN/A\n" % (0 if i < n // 2 else 48, 47 if i < n // 2 else 95, i >= n // 2) for i in range(n))
        return head + rows + "\nLegend:\n\n  X    = Self\n  SYS  = Connection traversing PCIe as well as the SMP interconnect between NUMA nodes (e.g., QPI/UPI)\n  NV#  = Connection traversing a bonded set of # NVLinks\n"
    if k == 2:
        return "index, name, uuid, memory.used [MiB], utilization.gpu [%]\n" + "".join(
            "%d, NVIDIA A100-SXM4-80GB, GPU-%s-%s-%s-%s-%s, %d MiB, %d %%\n" % (i, hexs(8), hexs(4), hexs(4), hexs(4), hexs(12), r.randrange(81920), r.randrange(101)) for i in range(8))
    if k == 3:
        host, pid = "gpu-node-%d" % r.randrange(32), r.randrange(1000, 99999)
        p = "%s:%d:%d [%d] NCCL INFO " % (host, pid, pid + r.randrange(50), r.randrange(8))
        return "".join((p + "Bootstrap : Using eth0:10.%d.%d.%d<0>\n" % (r.randrange(256), r.randrange(256), r.randrange(1, 255)),
                        p + "NET/Plugin : dlerror=libnccl-net.so: cannot open shared object file: No such file or directory No plugin found (libnccl-net.so), using internal implementation\n",
                        p + "cudaDriverVersion 12020\n", "NCCL version 2.18.%d+cuda12.1\n" % r.randrange(1, 7),
                        p + "Channel %02d/32 :    0   1   2   3   4   5   6   7\n" % r.randrange(32),
                        p + "Trees [0] %d/-1/-1->%d->%d [1] %d/-1/-1->%d->%d\n" % tuple(r.randrange(8) for _ in range(6)),
                        p + "P2P Chunksize set to 524288\n", p + "Connected all rings\n", p + "Connected all trees\n",
                        p + "comm 0x%s rank %d nranks 8 cudaDev %d nvmlDev %d busId %d0 commId 0x%s - Init COMPLETE\n" % (hexs(12), r.randrange(8), r.randrange(8), r.randrange(8), r.randrange(10, 99), hexs(16))))
    rows = ["|===========================================================================|\n",
            "|                  PyTorch CUDA memory summary, device ID %d                 |\n" % r.randrange(8),
            "|---------------------------------------------------------------------------|\n",
            "|            CUDA OOMs: %d            |        cudaMalloc retries: %d         |\n" % (r.randrange(3), r.randrange(9)),
            "|===========================================================================|\n",
            "|        Metric         | Cur Usage  | Peak Usage | Tot Alloc  | Tot Freed  |\n",
            "|---------------------------------------------------------------------------|\n"]
    for m in ("Allocated memory", "Active memory", "Requested memory", "GPU reserved memory", "Non-releasable memory"):
        rows.append("| %-21s | %7d MiB | %7d MiB | %7d GiB | %7d GiB |\n" % (m, r.randrange(80000), r.randrange(80000), r.randrange(9000), r.randrange(9000)))
    return "".join(rows) + "|===========================================================================|\n"


CLOCK = [1715594400.0]  # journal time only moves forward


def journal():
    CLOCK[0] += r.expovariate(1 / 20)
    ts = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(CLOCK[0]))
    host = "gpu-node-%d" % r.randrange(32)
    ip = "10.%d.%d.%d" % (r.randrange(256), r.randrange(256), r.randrange(1, 255))
    pid = r.randrange(300, 4000000)
    return r.choice((
        "%s %s systemd[1]: Started docker-%s.scope - libcontainer container %s.\n" % (ts, host, (c := hexs(64)), c),
        "%s %s kernel: NVRM: loading NVIDIA UNIX x86_64 Kernel Module  535.%d.%02d  Tue Sep 12 19:39:48 UTC 2023\n" % (ts, host, r.randrange(54, 184), r.randrange(1, 12)),
        "%s %s kernel: NVRM: Xid (PCI:0000:%02x:00): 79, pid='<unknown>', name=<unknown>, GPU has fallen off the bus.\n" % (ts, host, r.randrange(16, 200)),
        "%s %s sshd[%d]: Accepted publickey for ubuntu from %s port %d ssh2: ED25519 SHA256:%s\n" % (ts, host, pid, ip, r.randrange(1024, 65535), "".join(r.choices(B64, k=43))),
        "%s %s sshd[%d]: Connection closed by authenticating user root %s port %d [preauth]\n" % (ts, host, pid, ip, r.randrange(1024, 65535)),
        "%s %s sshd[%d]: pam_unix(sshd:session): session opened for user ubuntu(uid=1000) by (uid=0)\n" % (ts, host, pid),
        "%s %s CRON[%d]: (root) CMD (/usr/local/bin/cleanup-checkpoints --older-than 7d)\n" % (ts, host, pid),
        "%s %s dockerd[%d]: time=\"%s\" level=info msg=\"ignoring event\" container=%s module=libcontainerd namespace=moby topic=/tasks/delete type=\"*events.TaskDelete\"\n" % (ts, host, pid, ts, hexs(64)),
        "%s %s containerd[%d]: time=\"%s\" level=info msg=\"shim disconnected\" id=%s namespace=k8s.io\n" % (ts, host, pid, ts, hexs(64)),
        "%s %s kubelet[%d]: I0513 10:%02d:%02d.%06d %d kuberuntime_manager.go:1026] \"Creating container in pod\" containerName=\"trainer\" pod=\"ml/train-%s-worker-%d\" podUID=\"%s-%s-%s-%s-%s\"\n" % (
            ts, host, pid, r.randrange(60), r.randrange(60), r.randrange(10 ** 6), pid, hexs(5), r.randrange(8), hexs(8), hexs(4), hexs(4), hexs(4), hexs(12)),
        "%s %s systemd[1]: nvidia-persistenced.service: Deactivated successfully.\n" % (ts, host),
        "%s %s systemd-logind[%d]: New session %d of user ubuntu.\n" % (ts, host, pid, r.randrange(1, 9999)),
        "%s %s sudo[%d]:   ubuntu : TTY=pts/%d ; PWD=/home/ubuntu ; USER=root ; COMMAND=/usr/bin/nvidia-smi -pm 1\n" % (ts, host, pid, r.randrange(9)),
        "%s %s uvicorn[%d]: INFO:     %s:%d - \"POST /v1/chat/completions HTTP/1.1\" 200 OK\n" % (ts, host, pid, ip, r.randrange(1024, 65535)),
        '%s - - [13/May/2024:10:%02d:%02d +0000] "GET /api/v1/runs/%s/metrics?key=train%%2Floss&page=%d HTTP/1.1" %d %d "-" "python-requests/2.31.0"\n' % (
            ip, r.randrange(60), r.randrange(60), hexs(32), r.randrange(1, 50), r.choice((200, 200, 304, 404)), r.randrange(100, 90000)),
        '%s - - [13/May/2024:10:%02d:%02d +0000] "GET /static/js/main.%s.js HTTP/2.0" 200 %d "https://mlflow.internal/" "Mozilla/5.0 (X11; Linux x86_64)"\n' % (ip, r.randrange(60), r.randrange(60), hexs(8), r.randrange(1000, 900000)),
    ))


def main():
    mode, target, out = sys.argv[1], int(sys.argv[2]), sys.stdout
    fn = gpu if mode == "gpu" else journal
    while out.tell() < target:
        out.write(fn())


if __name__ == "__main__":
    main()
