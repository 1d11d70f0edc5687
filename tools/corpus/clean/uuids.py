#!/usr/bin/python3
"""uuids.py TARGET_BYTES - identifier-heavy lines: UUIDs, run ids, container ids.

Part of build_clean_corpus.sh (which also adds kernel-made UUIDs from
/proc/sys/kernel/random/uuid and real blkid/lsblk output).  Prints Python's
uuid1/uuid3/uuid4/uuid5 in their usual renderings and seeded lines in the shapes
tools print them: blkid/fstab, docker ps, kubectl pod UIDs, W&B/MLflow/Ray run
ids, request ids.  None of these is a secret.
"""
import random
import sys
import uuid

r = random.Random(11)
HEX = "0123456789abcdef"


def u4():
    return uuid.UUID(int=r.getrandbits(128), version=4)


def main():
    target, out, n = int(sys.argv[1]), sys.stdout, 0
    names = ["meta-llama/Llama-2-7b-hf", "gpt2", "bert-base-uncased", "mistralai/Mistral-7B-v0.1"]
    while out.tell() < target:
        n += 1
        a, b = u4(), u4()
        k = n % 12
        if k == 0:
            out.write(">>> uuid.uuid4()\nUUID('%s')\n>>> uuid.uuid4().hex\n'%s'\n>>> str(uuid.uuid1())\n'%s'\n" % (a, b.hex, uuid.uuid1()))
        elif k == 1:
            out.write("%s %s %s %s\n" % (uuid.uuid3(uuid.NAMESPACE_DNS, "node-%d.cluster.local" % n), uuid.uuid5(uuid.NAMESPACE_URL, "https://huggingface.co/" + r.choice(names)), a.urn, b.int))
        elif k == 2:
            out.write('/dev/nvme%dn1p%d: UUID="%s" BLOCK_SIZE="4096" TYPE="ext4" PARTLABEL="data" PARTUUID="%s"\n' % (r.randrange(4), r.randrange(1, 4), a, b))
            out.write('/dev/md%d: UUID="%s:%s:%s:%s" TYPE="linux_raid_member"\n' % (r.randrange(3), *(("%08x" % r.getrandbits(32)) for _ in range(4))))
        elif k == 3:
            out.write("UUID=%s  /data  xfs  defaults,noatime,nofail  0 2\nUUID=%s  /boot/efi  vfat  umask=0077  0 1\n" % (a, str(b)[:4].upper() + "-" + str(b)[4:8].upper()))
        elif k == 4:
            cid = "".join(r.choices(HEX, k=64))
            out.write("%s   nvcr.io/nvidia/pytorch:24.0%d-py3   \"/opt/nvidia/nvidia_entrypoint.sh python train.py\"   %d hours ago   Up %d hours   6006/tcp, 8888/tcp   trainer_%d\n" % (cid[:12], r.randrange(1, 6), r.randrange(1, 48), r.randrange(1, 48), n))
            out.write("container %s: sha256:%s\n" % (cid, "".join(r.choices(HEX, k=64))))
        elif k == 5:
            out.write("pod/train-job-%d-worker-%d uid=%s node=gpu-node-%d resourceVersion=%d\n" % (n % 97, r.randrange(8), a, r.randrange(40), r.randrange(10 ** 6, 10 ** 8)))
        elif k == 6:
            rid = "".join(r.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=8))
            out.write("wandb: Syncing run %s-%d\nwandb: Run data is saved locally in /workspace/wandb/run-20240%d%02d_%02d%02d%02d-%s\nwandb: Run `wandb offline` to turn off syncing.\n" % (
                r.choice(("glad", "stellar", "fluent", "misty")), n, r.randrange(1, 10), r.randrange(1, 29), r.randrange(24), r.randrange(60), r.randrange(60), rid))
        elif k == 7:
            out.write("MLflow run_id=%s experiment_id=%d artifact_uri=s3://ml-artifacts/%d/%s/artifacts\n" % (a.hex, n % 50, n % 50, a.hex))
        elif k == 8:
            out.write("Ray job raysubmit_%s submitted; trial_id=%s_%05d; actor_id=%s\n" % ("".join(r.choices("ABCDEFGHIJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz123456789", k=16)), "".join(r.choices(HEX, k=5)), n % 100000, "".join(r.choices(HEX, k=32))))
        elif k == 9:
            out.write("x-request-id: %s\ntraceparent: 00-%s-%s-01\nX-Amzn-Trace-Id: Root=1-%s-%s\n" % (a, "".join(r.choices(HEX, k=32)), "".join(r.choices(HEX, k=16)), "".join(r.choices(HEX, k=8)), "".join(r.choices(HEX, k=24))))
        elif k == 10:
            out.write("machine-id %s boot_id %s invocation_id %s\n" % (a.hex, b, "".join(r.choices(HEX, k=32))))
        else:
            out.write("Job %s created at 2024-0%d-%02dT%02d:%02d:%02dZ by controller-uid=%s\n" % (a, r.randrange(1, 10), r.randrange(1, 29), r.randrange(24), r.randrange(60), r.randrange(60), b))


if __name__ == "__main__":
    main()
