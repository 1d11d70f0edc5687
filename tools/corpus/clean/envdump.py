#!/usr/bin/python3
"""envdump.py TARGET_BYTES - environment dumps of ML containers, without secrets.

Part of build_clean_corpus.sh.  Builds seeded, realistic ML-container
environments (CUDA, NCCL, Hugging Face, torch.distributed, W&B/MLflow settings,
paths) and prints them the ways people dump an environment: the real `env`,
`printenv`, `bash -c 'export -p'` and `python3 -c 'print(os.environ)'` run under
`env -i` with only these variables (never this machine's own environment), plus
docker-inspect and Kubernetes pod-spec style listings.  Variable names include
hard negatives (HF_TOKEN_PATH, AWS_PROFILE, SSH_AUTH_SOCK, ...) whose values
are not secrets.
"""
import json
import random
import subprocess
import sys

r = random.Random(7)


def profile():
    cuda = r.choice(("11.8", "12.1", "12.2", "12.4"))
    py = r.choice(("3.10", "3.11"))
    user = r.choice(("root", "ubuntu", "jovyan", "ray", "mluser"))
    home = "/root" if user == "root" else "/home/" + user
    rank, world = r.randrange(8), r.choice((1, 2, 8, 16, 64))
    host = r.choice(("train", "gpu", "job", "worker")) + "-%s-%d" % ("".join(r.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=5)), r.randrange(16))
    e = {
        "PATH": "/usr/local/nvidia/bin:/usr/local/cuda/bin:/opt/conda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOSTNAME": host, "HOME": home, "USER": user, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm",
        "SHELL": "/bin/bash", "PWD": "/workspace", "SHLVL": "1",
        "CUDA_HOME": "/usr/local/cuda", "CUDA_VERSION": cuda + ".%d" % r.randrange(3),
        "NV_CUDA_LIB_VERSION": cuda + ".1-1", "NVIDIA_VISIBLE_DEVICES": "all",
        "NVIDIA_DRIVER_CAPABILITIES": "compute,utility", "NVIDIA_REQUIRE_CUDA": "cuda>=%s brand=tesla,driver>=470,driver<471" % cuda,
        "CUDA_VISIBLE_DEVICES": ",".join(str(i) for i in range(r.choice((1, 2, 4, 8)))),
        "LD_LIBRARY_PATH": "/usr/local/nvidia/lib:/usr/local/nvidia/lib64:/usr/local/cuda/lib64:/opt/conda/lib/python%s/site-packages/torch/lib" % py,
        "LIBRARY_PATH": "/usr/local/cuda/lib64/stubs",
        "NCCL_VERSION": "2.%d.%d-1" % (r.randrange(17, 22), r.randrange(1, 6)), "NCCL_DEBUG": r.choice(("INFO", "WARN", "VERSION")),
        "NCCL_SOCKET_IFNAME": r.choice(("eth0", "ens5", "^lo,docker0")), "NCCL_IB_DISABLE": str(r.randrange(2)),
        "NCCL_P2P_LEVEL": "NVL", "NCCL_ASYNC_ERROR_HANDLING": "1", "TORCH_NCCL_BLOCKING_WAIT": "0",
        "OMP_NUM_THREADS": str(r.choice((1, 4, 8, 16))), "MKL_NUM_THREADS": "8", "TOKENIZERS_PARALLELISM": r.choice(("false", "true")),
        "PYTHONPATH": "/workspace/src:/workspace", "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1",
        "PIP_NO_CACHE_DIR": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "CONDA_DEFAULT_ENV": "base", "CONDA_PREFIX": "/opt/conda",
        "HF_HOME": "/data/hf", "TRANSFORMERS_CACHE": "/data/hf/hub", "HF_DATASETS_CACHE": "/data/hf/datasets",
        "HF_HUB_ENABLE_HF_TRANSFER": "1", "HF_HUB_DISABLE_TELEMETRY": "1", "HF_TOKEN_PATH": home + "/.cache/huggingface/token",
        "HF_HUB_OFFLINE": str(r.randrange(2)), "TORCH_HOME": "/data/torch", "TORCHINDUCTOR_CACHE_DIR": "/tmp/torchinductor_" + user,
        "WANDB_PROJECT": r.choice(("llm-sft", "vit-pretrain", "rlhf-ppo", "asr-finetune")), "WANDB_ENTITY": "acme-ml",
        "WANDB_MODE": r.choice(("online", "offline")), "WANDB_DIR": "/workspace/wandb", "WANDB_RUN_GROUP": "sweep-%d" % r.randrange(100),
        "MLFLOW_TRACKING_URI": "http://mlflow.ml.svc.cluster.local:5000", "MLFLOW_EXPERIMENT_NAME": "llama-lora",
        "MASTER_ADDR": "10.%d.%d.%d" % (r.randrange(256), r.randrange(256), r.randrange(1, 255)), "MASTER_PORT": str(r.choice((29500, 23456, 12355))),
        "WORLD_SIZE": str(world), "RANK": str(rank), "LOCAL_RANK": str(rank % 8), "LOCAL_WORLD_SIZE": str(min(world, 8)),
        "GROUP_RANK": str(rank // 8), "TORCHELASTIC_RUN_ID": "none", "TORCHELASTIC_RESTART_COUNT": "0",
        "AWS_DEFAULT_REGION": r.choice(("us-east-1", "us-west-2", "eu-west-1")), "AWS_PROFILE": "default",
        "AWS_SHARED_CREDENTIALS_FILE": "/etc/aws/credentials", "AWS_REGION": "us-east-1",
        "SSH_AUTH_SOCK": "/tmp/ssh-%s/agent.%d" % ("".join(r.choices("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", k=10)), r.randrange(100, 99999)),
        "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443", "KUBERNETES_PORT": "tcp://10.96.0.1:443",
        "VAULT_ADDR": "https://vault.internal:8200", "GIT_ASKPASS": "/bin/true", "GNUPGHOME": home + "/.gnupg",
        "PASSWORD_STORE_DIR": home + "/.password-store", "SECRETS_DIR": "/var/run/secrets/ml", "API_BASE_URL": "http://127.0.0.1:8000/v1",
        "JUPYTER_PORT": "8888", "RAY_ADDRESS": "auto", "SLURM_JOB_ID": str(r.randrange(10 ** 6, 10 ** 7)),
        "SLURM_PROCID": str(rank), "SLURM_NNODES": str(max(1, world // 8)), "ACCELERATE_MIXED_PRECISION": r.choice(("bf16", "fp16", "no")),
        "PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:True,max_split_size_mb:%d" % r.choice((128, 256, 512)),
    }
    keys = sorted(e)
    r.shuffle(keys)  # env order differs between containers; keep a seeded, varied subset
    return {k: e[k] for k in keys[: r.randrange(40, len(keys) + 1)]}


def run(cmd, env):
    sys.stdout.flush()
    subprocess.run(["env", "-i", *("%s=%s" % kv for kv in env.items()), *cmd], stdout=sys.stdout, stderr=subprocess.STDOUT, check=True)
    sys.stdout.flush()


def main():
    target, n = int(sys.argv[1]), 0
    out = sys.stdout
    while out.tell() < target:
        e, n = profile(), n + 1
        k = n % 8
        if k < 4:
            out.write("$ env\n" if k else "+ printenv | sort\n")
            run(["env"] if k else ["sh", "-c", "printenv | sort"], e)
        elif k == 4:
            out.write("$ export -p\n")
            run(["bash", "-c", "export -p"], e)
        elif k == 5 and n % 24 == 5:
            out.write(">>> print(os.environ)\n")
            run(["python3", "-c", "import os; print(os.environ)"], e)
        elif k == 6:
            out.write(json.dumps([{"Id": "%064x" % r.getrandbits(256), "Config": {"Hostname": e.get("HOSTNAME", "gpu-0"),
                      "Env": ["%s=%s" % kv for kv in e.items()], "Image": "nvcr.io/nvidia/pytorch:24.0%d-py3" % r.randrange(1, 6)}}], indent=4) + "\n")
        else:
            out.write("    env:\n" + "".join("    - name: %s\n      value: %s\n" % (k, json.dumps(v)) for k, v in e.items()))
        out.flush()


if __name__ == "__main__":
    main()
