#!/usr/bin/python3
"""gen_mllog.py - seeded synthetic ML-training log generator (benchmark input).

Why: libredact must mask secrets in what ML jobs print without slowing them down
or masking look-alikes (SHAs, UUIDs, base64 images, "tokenizer" chatter).  This
tool writes a realistic, reproducible stream of such output with rare FAKE
secrets planted in it, plus a manifest of where each secret is, so benchmarks
can measure throughput, recall and false masks on the same bytes every time.

What: a weighted mix of line generators (loss lines, tqdm bars with \r updates,
JSON metrics, tracebacks, pip output, HF/tokenizer messages, git/NCCL/CUDA lines,
digests, UUIDs, base64 PNG data URIs, ...).  Every ~--plant-every bytes (random
gap) one line carrying a freshly generated, format-valid fake secret is emitted.

Determinism: only random.Random(seed) is used (no clock, no os.urandom, no dict
or set iteration order dependence), so a seed gives identical bytes everywhere.

Usage: gen_mllog.py --seed N --size BYTES --out PATH [--plant-every BYTES]
                    [--manifest PATH]
Manifest: one JSON object per secret: {"offset", "length", "kind", "secret"};
offset/length are in bytes of the output file and cover the secret value only
(for a PEM key: the whole BEGIN..END block).  Output is exactly --size bytes.
"""
import argparse
import base64
import json
import string
import time

import random

UP, LO, DIG = string.ascii_uppercase, string.ascii_lowercase, string.digits
ALNUM = UP + LO + DIG
B32 = UP + "234567"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"

MODELS = [
    "meta-llama/Llama-2-7b-hf", "meta-llama/Llama-2-13b-chat-hf", "meta-llama/Meta-Llama-3-8B-Instruct",
    "mistralai/Mistral-7B-v0.1", "mistralai/Mixtral-8x7B-Instruct-v0.1", "google/gemma-2b",
    "google/flan-t5-large", "google-bert/bert-base-uncased", "FacebookAI/roberta-large",
    "EleutherAI/pythia-1.4b", "EleutherAI/gpt-neox-20b", "tiiuae/falcon-7b", "Qwen/Qwen2-7B-Instruct",
    "microsoft/phi-2", "openai-community/gpt2", "distilbert/distilbert-base-uncased",
    "sentence-transformers/all-MiniLM-L6-v2", "stabilityai/stable-diffusion-xl-base-1.0",
    "openai/whisper-large-v3", "bigscience/bloom-560m", "HuggingFaceH4/zephyr-7b-beta",
]
DATASETS = ["tatsu-lab/alpaca", "Open-Orca/OpenOrca", "wikitext", "openwebtext", "c4", "squad",
            "HuggingFaceH4/ultrachat_200k", "databricks/databricks-dolly-15k", "glue", "imdb"]
PKGS = [("torch", "2.2.1"), ("transformers", "4.38.2"), ("datasets", "2.18.0"), ("accelerate", "0.27.2"),
        ("tokenizers", "0.15.2"), ("safetensors", "0.4.2"), ("huggingface-hub", "0.21.4"),
        ("numpy", "1.26.4"), ("pandas", "2.2.1"), ("wandb", "0.16.4"), ("mlflow", "2.11.1"),
        ("flash-attn", "2.5.6"), ("bitsandbytes", "0.43.0"), ("peft", "0.9.0"), ("deepspeed", "0.14.0"),
        ("sentencepiece", "0.2.0"), ("triton", "2.2.0"), ("pyarrow", "15.0.1"), ("tqdm", "4.66.2"),
        ("nvidia-cudnn-cu12", "8.9.2.26"), ("nvidia-nccl-cu12", "2.19.3"), ("regex", "2023.12.25")]
TORCH = "/usr/lib/python3/dist-packages/torch"
HFT = "/usr/local/lib/python3.11/site-packages/transformers"
FRAMES = [
    (TORCH + "/nn/modules/module.py", 1511, "_wrapped_call_impl", "return self._call_impl(*args, **kwargs)"),
    (TORCH + "/nn/modules/module.py", 1520, "_call_impl", "return forward_call(*args, **kwargs)"),
    (TORCH + "/nn/modules/linear.py", 114, "forward", "return F.linear(input, self.weight, self.bias)"),
    (TORCH + "/nn/functional.py", 3059, "cross_entropy", "return torch._C._nn.cross_entropy_loss(input, target, weight, _Reduction.get_enum(reduction), ignore_index, label_smoothing)"),
    (TORCH + "/utils/data/dataloader.py", 631, "__next__", "data = self._next_data()"),
    (TORCH + "/utils/data/_utils/fetch.py", 54, "fetch", "return self.collate_fn(data)"),
    (HFT + "/trainer.py", 1624, "train", "return inner_training_loop("),
    (HFT + "/trainer.py", 2902, "training_step", "loss = self.compute_loss(model, inputs)"),
    (HFT + "/models/llama/modeling_llama.py", 1176, "forward", "outputs = self.model("),
    (HFT + "/tokenization_utils_base.py", 2838, "__call__", "encodings = self._call_one(text=text, text_pair=text_pair, **all_kwargs)"),
    (HFT + "/data/data_collator.py", 45, "__call__", "return self.torch_call(features)"),
    ("/workspace/train.py", 212, "main", "trainer.train(resume_from_checkpoint=args.resume)"),
    ("/workspace/train.py", 88, "compute_metrics", "preds = eval_pred.predictions[\"logits\"]"),
    ("/workspace/src/data.py", 41, "tokenize_fn", "out[\"labels\"] = batch[\"labels\"]"),
]
EXCS = [
    "KeyError: 'labels'", "KeyError: 'input_ids'",
    "RuntimeError: mat1 and mat2 shapes cannot be multiplied ({a}x{b} and {c}x{d})",
    "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate {g:.2f} GiB. GPU 0 has a total capacity of 79.15 GiB of which {f:.2f} MiB is free.",
    "ValueError: Asking to pad but the tokenizer does not have a padding token. Please select a token to use as `pad_token` `(tokenizer.pad_token = tokenizer.eos_token e.g.)`",
    "RuntimeError: Expected all tensors to be on the same device, but found at least two devices, cuda:{a} and cpu!",
    "FileNotFoundError: [Errno 2] No such file or directory: '/data/shards/train-{a:05d}-of-{b:05d}.arrow'",
    "OSError: You are trying to access a gated repo. Make sure to have access to it. 401 Client Error. (Request ID: Root=1-{h8}-{h24})",
    "IndexError: index {c} is out of bounds for dimension 0 with size {a}",
    "torch.distributed.DistBackendError: NCCL error in: ../torch/csrc/distributed/c10d/ProcessGroupNCCL.cpp:1691, unhandled system error, NCCL version 2.19.3",
]
TOKMSG = [
    "Special tokens have been added in the vocabulary, make sure the associated word embeddings are fine-tuned or trained.",
    "The `use_auth_token` argument is deprecated and will be removed in v5 of Transformers. Please use `token` instead.",
    "Token indices sequence length is longer than the specified maximum sequence length for this model ({b} > {a}). Running this sequence through the model will result in indexing errors",
    "Setting `pad_token_id` to `eos_token_id`:2 for open-end generation.",
    "You are using the default legacy behaviour of the <class 'transformers.models.llama.tokenization_llama.LlamaTokenizer'>.",
    "Token is valid (permission: read).", "Your token has been saved to /root/.cache/huggingface/token",
    "huggingface_hub: Token will not been saved to git credential helper.",
    "Using sep_token, but it is not set yet.", "Using cls_token, but it is not set yet.",
    "KeyError: 'labels' raised in collator; falling back to input_ids as labels",
    "mlflow.tracking: auth disabled, MLFLOW_TRACKING_PASSWORD not set; using anonymous access",
    "Reading secret 'ml/training-config' from the secret store (version {a})",
    "sshd[{a}]: Accepted publickey for ubuntu from 10.0.{a}.{b} port {c} ssh2: ED25519 SHA256:{b64_43}",
    "Loaded tokenizer with vocab_size={c} (bos_token='<s>', eos_token='</s>', unk_token='<unk>')",
    "`use_cache=True` is incompatible with gradient checkpointing. Setting `use_cache=False`.",
    "password authentication disabled for the dashboard; set --auth to enable",
    "api_key not provided; the OpenAI-compatible server at http://127.0.0.1:{c} accepts any key",
]
BARS = " ▏▎▍▌▋▊▉█"


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        self.t = 1704067200 + seed % 10_000_000  # a fixed epoch; the clock only moves forward
        self.step, self.epoch = 0, 0
        self.run = self.hexs(8, "0123456789abcdefghijklmnopqrstuvwxyz")
        self.host = "node-%d" % self.r.randrange(64)

    # ---- small helpers -------------------------------------------------
    def hexs(self, n, alphabet="0123456789abcdef"):
        return "".join(self.r.choices(alphabet, k=n))

    def hx(self, n):
        return "%0*x" % (n, self.r.getrandbits(4 * n))

    def uuid(self):
        h = self.hx(32)
        return "%s-%s-4%s-%s%s-%s" % (h[:8], h[8:12], h[13:16], "89ab"[int(h[16], 16) & 3], h[17:20], h[20:])

    def b64(self, n):
        return base64.b64encode(self.r.randbytes(n)).decode()

    def ts(self, sep=" ", ms=True):
        self.t += self.r.random() * 0.8
        s = time.strftime("%Y-%m-%d" + sep + "%H:%M:%S", time.gmtime(self.t))
        return s + (",%03d" % int(self.t % 1 * 1000) if ms else "")

    def ip(self):
        return "%d.%d.%d.%d" % (self.r.choice((10, 172, 192)), self.r.randrange(256), self.r.randrange(256), self.r.randrange(1, 255))

    def fill(self, tmpl):
        r = self.r
        return tmpl.format(a=r.randrange(1, 4096), b=r.randrange(1, 8192), c=r.randrange(1, 65536),
                           d=r.randrange(1, 1024), g=r.random() * 8, f=r.random() * 900,
                           h8=self.hx(8), h24=self.hx(24), b64_43=self.b64(32)[:43])

    # ---- background line generators (each returns text ending in \n) ---
    def loss(self):
        r = self.r
        self.step += r.randrange(1, 50)
        if r.random() < 0.01:
            self.epoch += 1
        loss, lr = 3.0 * 0.9997 ** self.step + r.random() * 0.1, 3e-4 * r.random()
        k = r.randrange(4)
        if k == 0:
            return "epoch %d step %d loss=%.4f lr=%.1e tokens/s=%d grad_norm=%.2f\n" % (
                self.epoch, self.step, loss, lr, r.randrange(20000, 90000), r.random() * 3)
        if k == 1:
            return "{'loss': %.4f, 'grad_norm': %.6f, 'learning_rate': %.15g, 'epoch': %.2f}\n" % (
                loss, r.random() * 4, lr, self.epoch + r.random())
        if k == 2:
            return "[%s] [Rank %d] iter %d/%d | loss %.5f | ppl %.3f | %d ms/it | mem %.1fGB\n" % (
                self.ts(), r.randrange(8), self.step, 100000, loss, 2.718 ** loss, r.randrange(80, 900), r.random() * 80)
        return "%s - INFO - __main__ - Step %d: train_loss=%.4f val_loss=%.4f acc=%.4f\n" % (
            self.ts(), self.step, loss, loss + r.random() * 0.2, r.random())

    def tqdm(self):
        r = self.r
        total, desc = r.choice((100, 500, 1000, 3125, 52002)), r.choice(("Epoch %d" % self.epoch, "Map (num_proc=8)", "Training", "Evaluating", "Loading checkpoint shards", "Downloading data"))
        uni, n, out = r.random() < 0.6, 0, []
        for _ in range(r.randrange(2, 16)):
            n = min(total, n + r.randrange(1, max(2, total // 8)))
            frac = n / total
            if uni:
                full, part = divmod(int(frac * 80), 8)
                bar = ("█" * full + (BARS[part] if full < 10 else "")).ljust(10)
            else:
                bar = ("#" * int(frac * 10)).ljust(10)
            out.append("%s: %3d%%|%s| %d/%d [%02d:%02d<%02d:%02d, %.2fit/s, loss=%.3f]" % (
                desc, frac * 100, bar, n, total, r.randrange(60), r.randrange(60), r.randrange(60), r.randrange(60), r.random() * 20, r.random() * 3))
        return "\r" + "\r".join(out) + "\n"

    def jsonlog(self):
        r = self.r
        d = {"ts": self.ts("T", False) + "Z", "level": r.choice(("INFO", "DEBUG", "WARNING")), "run_id": self.hx(32),
             "wandb_run": self.run, "trace_id": self.uuid(), "_step": self.step,
             "train/loss": round(r.random() * 3, 5), "train/lr": round(r.random() * 3e-4, 8),
             "system/gpu.%d.memoryAllocated" % r.randrange(8): round(r.random() * 100, 3)}
        if r.random() < 0.3:
            d["artifact"] = "wandb-artifact://%s/model-%s:v%d" % (self.run, self.hexs(8, LO + DIG), r.randrange(30))
        return json.dumps(d) + "\n"

    def traceback(self):
        r = self.r
        out = ["Traceback (most recent call last):\n"]
        for f, ln, fn, src in sorted(r.sample(FRAMES, r.randrange(3, 8)), key=lambda x: "/workspace" not in x[0]):
            out.append('  File "%s", line %d, in %s\n    %s\n' % (f, ln, fn, src))
        out.append(self.fill(r.choice(EXCS)) + "\n")
        return "".join(out)

    def pip(self):
        r = self.r
        out, names = [], r.sample(PKGS, r.randrange(2, 8))
        for n, v in names:
            out.append("Collecting %s==%s\n" % (n, v))
            w = "%s-%s-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl" % (n.replace("-", "_"), v)
            mb = r.random() * 800
            out.append("  Downloading %s (%.1f MB)\n" % (w, mb))
            out.append("     %s %.1f/%.1f MB %.1f MB/s eta 0:00:00\n" % ("━" * 40, mb, mb, r.random() * 90))
        if r.random() < 0.4:
            n, v = names[0]
            out.append("Building wheel for %s (setup.py) ... done\n" % n)
            out.append("  Created wheel for %s: filename=%s-%s-cp311-cp311-linux_x86_64.whl size=%d sha256=%s\n" % (
                n, n.replace("-", "_"), v, r.randrange(10 ** 5, 10 ** 9), self.hx(64)))
            out.append("  Stored in directory: /root/.cache/pip/wheels/%s/%s/%s/%s\n" % (self.hx(2), self.hx(2), self.hx(2), self.hx(58)))
        out.append("Successfully installed " + " ".join("%s-%s" % nv for nv in names) + "\n")
        return "".join(out)

    def hf(self):
        r = self.r
        m = r.choice(MODELS)
        snap = "/root/.cache/huggingface/hub/models--%s/snapshots/%s" % (m.replace("/", "--"), self.hx(40))
        k = r.randrange(5)
        if k == 0:
            return "loading weights file model.safetensors from cache at %s/model.safetensors.index.json\n" % snap
        if k == 1:
            return "loading configuration file config.json from cache at %s/config.json\n" % snap
        if k == 2:
            return "%s - WARNING - transformers.tokenization_utils_base - %s\n" % (self.ts(), self.fill(r.choice(TOKMSG)))
        if k == 3:
            return "Loading dataset %s from %s/.cache/huggingface/datasets/%s/default/0.0.0/%s\n" % (
                r.choice(DATASETS), "/root", r.choice(DATASETS).replace("/", "___"), self.hx(16))
        return "%s\n" % self.fill(r.choice(TOKMSG))

    def git(self):
        r = self.r
        s = self.hx(40)
        return r.choice((
            "commit %s\n" % s, "HEAD is now at %s Fix tokenizer padding for batch inference\n" % s[:7],
            "git_sha=%s dirty=%s version=v1.%d.%d-%d-g%s\n" % (s, r.choice(("False", "True")), r.randrange(9), r.randrange(20), r.randrange(99), s[:9]),
            "remote: Enumerating objects: %d, done.\nReceiving objects: 100%% (%d/%d), %.2f MiB | %.2f MiB/s, done.\n" % (
                r.randrange(9999), 88, 88, r.random() * 90, r.random() * 30),
        ))

    def digest(self):
        r = self.r
        return r.choice((
            "%s: Pull complete\nDigest: sha256:%s\n" % (self.hx(12), self.hx(64)),
            "%s  /data/shards/train-%05d.tar\n" % (self.hx(64), r.randrange(4096)),
            "checksum ok md5=%s file=pytorch_model-%05d-of-00002.bin\n" % (self.hx(32), r.randrange(1, 3)),
            "etag=\"%s\" x-amz-request-id=%s\n" % (self.hx(32), self.hexs(16, UP + DIG)),
            "sha1=%s blob=%s uuid=%s\n" % (self.hx(40), self.hx(40), self.uuid()),
        ))

    def blob(self):
        r = self.r
        n = r.randrange(1500, 6000)
        png = base64.b64encode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + r.randbytes(n)).decode()
        if r.random() < 0.5:
            return '      "image/png": "%s\\n",\n' % png
        return "<img src=\"data:image/png;base64,%s\" />\n" % png

    def cuda(self):
        r = self.r
        p = "%s:%d:%d [%d] NCCL INFO " % (self.host, r.randrange(1000, 99999), r.randrange(1000, 99999), r.randrange(8))
        return r.choice((
            p + "NET/Socket : Using [0]eth0:%s<0>\n" % self.ip(),
            p + "Channel %02d/%02d :    0   1   2   3   4   5   6   7\n" % (r.randrange(32), 32),
            p + "comm 0x%x rank %d nranks 8 cudaDev %d busId %x0 - Init COMPLETE\n" % (r.getrandbits(48), r.randrange(8), r.randrange(8), r.randrange(16, 255)),
            "Initializing distributed: MASTER_ADDR=%s MASTER_PORT=29500 WORLD_SIZE=8 RANK=%d LOCAL_RANK=%d\n" % (self.ip(), r.randrange(8), r.randrange(8)),
            "[W socket.cpp:436] [c10d] The server socket cannot be initialized on [::]:%d (errno: 97 - Address family not supported by protocol).\n" % r.randrange(20000, 65000),
            "CUDA_VISIBLE_DEVICES=0,1,2,3 torch %s cuda 12.1 cudnn 8902 device=NVIDIA A100-SXM4-80GB capability=(8, 0)\n" % PKGS[0][1],
            "| %3d%%   %2dC    P0   %3dW / 400W |  %5dMiB / 81920MiB |    %3d%%      Default |\n" % (r.randrange(100), r.randrange(30, 80), r.randrange(60, 400), r.randrange(81920), r.randrange(100)),
        ))

    def logline(self):
        r = self.r
        return r.choice((
            "%s - INFO - transformers.trainer - Saving model checkpoint to /checkpoints/%s/checkpoint-%d\n" % (self.ts(), self.run, self.step),
            "%s - INFO - accelerate.utils.modeling - We will use 90%% of the memory on device 0 for storing the model\n" % self.ts(),
            "INFO:     %s:%d - \"POST /v1/completions HTTP/1.1\" 200 OK\n" % (self.ip(), r.randrange(1024, 65535)),
            "%s  WARN  ray.util.client: Connecting to %s:10001 (job %s)\n" % (self.ts(), self.ip(), self.hx(8)),
            "wandb: Run data is saved locally in /workspace/wandb/run-%s-%s\n" % (time.strftime("%Y%m%d_%H%M%S", time.gmtime(self.t)), self.run),
            "wandb: View run at https://wandb.ai/acme-ml/llm-sft/runs/%s\n" % self.run,
            "Namespace(model_name_or_path='%s', learning_rate=%g, per_device_train_batch_size=%d, hub_token=None, push_to_hub=False, seed=%d, output_dir='/checkpoints/%s')\n" % (
                r.choice(MODELS), r.random() * 1e-4, r.choice((4, 8, 16)), r.randrange(10000), self.run),
            "export PATH=/usr/local/cuda/bin:/opt/conda/bin:$PATH LD_LIBRARY_PATH=/usr/local/cuda/lib64 HF_HOME=/data/hf OMP_NUM_THREADS=%d\n" % r.randrange(1, 32),
            "%s\n" % ("-" * r.randrange(20, 100)),
            "\n",
        ))

    GENS = [("loss", 30), ("tqdm", 3), ("jsonlog", 10), ("traceback", 2), ("pip", 1), ("hf", 10),
            ("git", 5), ("digest", 6), ("blob", 0.25), ("cuda", 10), ("logline", 16)]

    # ---- planted fake secrets: return (prefix, secret, suffix, kind) lists
    def pw(self, url=False):
        cs = ALNUM + ("-_.~" if url else "!@#%^*_-+.")
        return "".join(self.r.choices(cs, k=self.r.randrange(12, 21)))

    def pem(self):
        der = b"\x30\x82\x04\xa4\x02\x01\x00\x02\x82\x01\x01\x00" + self.r.randbytes(1180)
        b = base64.b64encode(der).decode()
        return "-----BEGIN RSA PRIVATE KEY-----\n%s\n-----END RSA PRIVATE KEY-----" % "\n".join(b[i:i + 64] for i in range(0, len(b), 64))

    def jwt(self):
        enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
        body = '{"sub":"%s","name":"svc-%s","iat":%d,"exp":%d}' % (self.uuid(), self.hexs(6, LO), int(self.t), int(self.t) + 3600)
        return "%s.%s.%s" % (enc(b'{"alg":"HS256","typ":"JWT"}'), enc(body.encode()), enc(self.r.randbytes(32)))

    def secret(self):
        r, c = self.r, self.r.choices
        ts = self.ts()
        k = r.randrange(12)
        if k == 0:
            kid, sk = "AKIA" + "".join(c(B32, k=16)), "".join(c(B64, k=40))
            return [("AWS_ACCESS_KEY_ID=", kid, "aws-access-key-id"), (" AWS_SECRET_ACCESS_KEY=", sk, "aws-secret-access-key"), (" AWS_DEFAULT_REGION=us-east-1\n", None, None)]
        if k == 1:
            return [("%s - DEBUG - git.cmd - Popen(['git', 'clone', 'https://" % ts, "ghp_" + "".join(c(ALNUM, k=36)), "github-pat"), ("@github.com/acme-ml/llm-sft.git'], cwd=/workspace)\n", None, None)]
        if k == 2:
            return [("GITHUB_TOKEN=", "github_pat_%s_%s" % ("".join(c(ALNUM, k=22)), "".join(c(ALNUM, k=59))), "github-fine-grained-pat"), ("\n", None, None)]
        if k == 3:
            tok = "xoxb-%d-%d-%s" % (r.randrange(10 ** 10, 10 ** 13), r.randrange(10 ** 10, 10 ** 13), "".join(c(ALNUM, k=24)))
            return [("%s - INFO - notify - SlackNotifier(channel='#ml-alerts', token='" % ts, tok, "slack-bot-token"), ("')\n", None, None)]
        if k == 4:
            return [("config: {'provider': 'openai', 'model': 'gpt-4o-mini', 'api_key': '", "sk-proj-" + "".join(c(ALNUM, k=r.randrange(48, 80))), "openai-api-key"), ("', 'timeout': 60}\n", None, None)]
        if k == 5:
            return [("ANTHROPIC_API_KEY=", "sk-ant-api03-" + "".join(c(URLSAFE, k=93)) + "AA", "anthropic-api-key"), ("\n", None, None)]
        if k == 6:
            return [("+ huggingface-cli login --token ", "hf_" + "".join(c(UP + LO, k=34)), "huggingface-token"), (" --add-to-git-credential\n", None, None)]
        if k == 7:
            return [("%s DEBUG urllib3.connectionpool: headers={'Authorization': 'Bearer " % ts, self.jwt(), "jwt"), ("', 'User-Agent': 'python-requests/2.31.0'}\n", None, None)]
        if k == 8:
            return [("%s - INFO - gcs - loaded service account key from $SA_KEY:\n" % ts, self.pem(), "private-key-pem"), ("\n", None, None)]
        if k == 9:
            return [("db_config: host=%s port=5432 user=mlflow password=" % self.ip(), self.pw(), "password"), (" sslmode=require\n", None, None)]
        if k == 10:
            return [("  DB_PASSWORD: \"", self.pw(), "password"), ("\"\n", None, None)]
        return [("%s - INFO - mlflow.store.db.utils - Creating engine for postgresql://mlflow:" % ts, self.pw(url=True), "postgres-url-password"),
                ("@%s:5432/mlflow\n" % self.ip(), None, None)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--size", type=int, required=True, help="exact output size in bytes")
    ap.add_argument("--out", required=True)
    ap.add_argument("--plant-every", type=int, default=50000, help="mean bytes between secrets; 0 = none")
    ap.add_argument("--manifest")
    a = ap.parse_args()

    g = Gen(a.seed)
    names = [getattr(g, n) for n, _ in Gen.GENS]
    weights = [w for _, w in Gen.GENS]
    choose = g.r.choices
    off, buf, manifest = 0, [], []
    next_plant = g.r.uniform(0.2, 1.8) * a.plant_every if a.plant_every else float("inf")
    with open(a.out, "wb") as out:
        while off < a.size:
            if off >= next_plant:
                parts, pos, found = g.secret(), off, []
                for pre, sec, kind in parts:
                    pos += len(pre.encode())
                    if sec is not None:
                        found.append({"offset": pos, "length": len(sec), "kind": kind, "secret": sec})
                        pos += len(sec)
                data = "".join(p + (s or "") for p, s, _ in parts).encode()
                next_plant = off + g.r.uniform(0.2, 1.8) * a.plant_every
            else:
                data, found = "".join(f() for f in choose(names, weights, k=16)).encode(), []
            if off + len(data) > a.size:  # last piece: cut to size on a UTF-8 boundary, end with \n
                data = data[:a.size - off].decode("utf-8", "ignore").encode()  # drops a split character
                data = (data + b" " * (a.size - off - len(data)))[:-1] + b"\n"
                found = [m for m in found if m["offset"] + m["length"] < a.size - 1]
            manifest += found
            buf.append(data)
            off += len(data)
            if len(buf) >= 256:
                out.write(b"".join(buf))
                buf = []
        out.write(b"".join(buf))
    if a.manifest:
        with open(a.manifest, "w") as mf:
            for m in manifest:
                mf.write(json.dumps(m) + "\n")


if __name__ == "__main__":
    main()
