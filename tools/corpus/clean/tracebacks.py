#!/usr/bin/python3
"""tracebacks.py WORKDIR TARGET_BYTES - real Python tracebacks, warnings and logging.

Part of build_clean_corpus.sh.  Writes a tiny pure-Python "mltrain" project into
WORKDIR, then (A) runs its scenarios as real subprocesses so the interpreter
prints genuine uncaught tracebacks (with -X frozen_modules=off, -W, -X dev
variants), and (B) re-runs them in-process with seeded parameters, reporting
through logging.exception / traceback.print_exc, until TARGET_BYTES are printed.
Nothing here contains a secret; words like token/key/auth/password appear the way
ML libraries print them.
"""
import os
import subprocess
import sys
import textwrap

PKG = {
    "mltrain/__init__.py": "",
    "mltrain/tensor.py": '''
        class Tensor:
            """A toy 2-D tensor, enough to fail like torch does."""
            def __init__(self, rows, cols, device="cpu"):
                self.shape, self.device = (rows, cols), device
                self.data = [[0.0] * min(cols, 4) for _ in range(min(rows, 4))]  # shape-only toy

            def matmul(self, other):
                if self.device != other.device:
                    raise RuntimeError("Expected all tensors to be on the same device, but found at least "
                                       f"two devices, {self.device} and {other.device}!")
                if self.shape[1] != other.shape[0]:
                    raise RuntimeError("mat1 and mat2 shapes cannot be multiplied "
                                       f"({self.shape[0]}x{self.shape[1]} and {other.shape[0]}x{other.shape[1]})")
                return Tensor(self.shape[0], other.shape[1], self.device)

            def view(self, *shape):
                n = self.shape[0] * self.shape[1]
                if shape[0] * shape[1] != n:
                    raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {n}")
                return Tensor(*shape, device=self.device)
    ''',
    "mltrain/model.py": '''
        from .tensor import Tensor

        class Linear:
            def __init__(self, in_features, out_features, device="cpu"):
                self.weight = Tensor(in_features, out_features, device)

            def forward(self, x):
                return x.matmul(self.weight)

            __call__ = forward

        class MLP:
            def __init__(self, dims, device="cpu"):
                self.layers = [Linear(a, b, device) for a, b in zip(dims, dims[1:])]

            def forward(self, x):
                for layer in self.layers:
                    x = layer(x)
                return x
    ''',
    "mltrain/tokenizer.py": '''
        import warnings

        class Tokenizer:
            special_tokens = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"}

            def __init__(self, name, use_auth_token=None, pad_token=None):
                if use_auth_token is not None:
                    warnings.warn("The `use_auth_token` argument is deprecated and will be removed in v5 of "
                                  "Transformers. Please use `token` instead.",
                                  FutureWarning if use_auth_token else DeprecationWarning, stacklevel=2)
                self.name, self.pad_token = name, pad_token

            def token_id(self, token):
                return self.vocab()[token]

            def vocab(self):
                return {"<s>": 1, "</s>": 2, "<unk>": 0, "hello": 15043, "world": 3186}

            def pad(self, batch, max_length):
                if self.pad_token is None:
                    raise ValueError("Asking to pad but the tokenizer does not have a padding token. Please "
                                     "select a token to use as `pad_token` `(tokenizer.pad_token = "
                                     "tokenizer.eos_token e.g.)` or add a new pad token via "
                                     "`tokenizer.add_special_tokens({'pad_token': '[PAD]'})`.")
                return [row + [0] * (max_length - len(row)) for row in batch]
    ''',
    "mltrain/data.py": '''
        class Dataset:
            def __init__(self, n, columns=("input_ids", "attention_mask")):
                self.rows = [{c: list(range(i % 7 + 3)) for c in columns} for i in range(n)]

            def __getitem__(self, i):
                row = self.rows[i]
                return {"input_ids": row["input_ids"], "labels": row["labels"]}

            def __len__(self):
                return len(self.rows)

        def collate(batch, seq_len):
            for i, ex in enumerate(batch):
                if len(ex) != seq_len:
                    raise ValueError(f"expected sequence of length {seq_len} at dim 1 (got {len(ex)})")
            return batch

        def load_config(cfg, key):
            lr = float(cfg["optimizer"]["lr"])
            return cfg[key], lr
    ''',
    "mltrain/trainer.py": '''
        import json
        import logging
        from . import data, model, tensor, tokenizer

        log = logging.getLogger("mltrain.trainer")

        def shape_mismatch(p):
            m = model.MLP([p["d"], p["h"], 10])
            return m.forward(tensor.Tensor(p["b"], p["d"] + p["k"]))

        def device_mismatch(p):
            m = model.MLP([p["d"], 10], device="cuda:%d" % (p["k"] % 8))
            return m.forward(tensor.Tensor(p["b"], p["d"]))

        def bad_view(p):
            return tensor.Tensor(p["b"], p["d"]).view(p["b"] + 1, p["d"])

        def missing_labels(p):
            ds = data.Dataset(p["b"])
            return [ds[i] for i in range(len(ds))]

        def index_error(p):
            ds = data.Dataset(p["b"], columns=("input_ids", "labels"))
            return ds[p["b"] + p["k"]]

        def ragged_batch(p):
            return data.collate([[1] * p["d"], [1] * (p["d"] - p["k"] - 1)], p["d"])

        def no_pad_token(p):
            tok = tokenizer.Tokenizer("meta-llama/Llama-2-7b-hf", use_auth_token=bool(p["k"] % 2))
            return tok.pad([[1, 2, 3], [4]], max_length=p["d"])

        def unknown_special_token(p):
            return tokenizer.Tokenizer("gpt2").token_id("<|pad_%d|>" % p["k"])

        def bad_config(p):
            cfg = {"optimizer": {"lr": "3e-4x" if p["k"] % 2 else "3e-4"}, "model": "gpt2"}
            return data.load_config(cfg, "scheduler")

        def bad_json(p):
            return json.loads('{"run_id": "%x", "step": %d, "loss": nan,}' % (p["k"] * 7919, p["b"]))

        SCENARIOS = {f.__name__: f for f in (shape_mismatch, device_mismatch, bad_view, missing_labels,
                                             index_error, ragged_batch, no_pad_token, unknown_special_token,
                                             bad_config, bad_json)}
    ''',
    "train.py": '''
        """Entry point: python3 train.py SCENARIO SEED"""
        import logging
        import random
        import sys

        from mltrain import trainer

        def stdlib(name):
            """Errors whose frames come from the real standard library / Debian packages."""
            if name == "import_torch":
                import torch  # noqa: F401
            if name == "subprocess":
                import subprocess
                subprocess.run(["ls", "/nonexistent/checkpoints"], check=True, capture_output=True)
            if name == "urlopen":
                import urllib.request
                urllib.request.urlopen("http://127.0.0.1:9/api/2.0/mlflow/runs/create", timeout=2)
            if name == "recursion":
                def walk(node):
                    return walk(node)
                walk({})
            if name == "mp_pool":
                import multiprocessing
                with multiprocessing.get_context("fork").Pool(2) as p:
                    p.map(trainer.SCENARIOS["missing_labels"], [{"b": 4, "d": 8, "h": 16, "k": 1}])
            if name == "zipfile":
                import zipfile
                with open("/tmp/_corpus_bad.zip", "wb") as f:
                    f.write(b"PK\\x03\\x04 not really a zip")
                zipfile.ZipFile("/tmp/_corpus_bad.zip")
            if name == "sqlite":
                import sqlite3
                sqlite3.connect(":memory:").execute("SELECT loss FROM metrics WHERE run_id = ?", ("a1b2",))
            if name == "exception_group":
                raise ExceptionGroup("2 workers failed", [KeyError("labels"), TimeoutError("rank 3 timed out after 1800s")])
            if name == "numpy_broadcast":
                import numpy as np
                np.ones((32, 768)) @ np.ones((512, 10))
            if name == "numpy_load":
                import numpy as np
                np.load("/data/features/train_embeddings.npy")
            if name == "matplotlib":
                import matplotlib
                matplotlib.use("Agg")
                import matplotlib.pyplot as plt
                plt.plot([1, 2, 3], [0.9, 0.5])
            if name == "unicode":
                b"\\xff\\xfeloss".decode("utf-8")
            if name == "asyncio":
                import asyncio
                async def main():
                    await asyncio.wait_for(asyncio.sleep(1), 0.01)
                asyncio.run(main())
            if name == "chained":
                try:
                    {}["tokenizer_config"]
                except KeyError as e:
                    raise RuntimeError("Failed to load tokenizer for 'bert-base-uncased'") from e

        STDLIB = ["import_torch", "subprocess", "urlopen", "recursion", "mp_pool", "zipfile", "sqlite",
                  "exception_group", "numpy_broadcast", "numpy_load", "matplotlib", "unicode", "asyncio", "chained"]

        if __name__ == "__main__":
            logging.basicConfig(format="%(asctime)s - %(levelname)s - %(name)s - %(message)s", level=logging.INFO)
            name, seed = sys.argv[1], int(sys.argv[2])
            r = random.Random(seed)
            p = {"b": r.choice((8, 16, 32, 64)), "d": r.choice((128, 512, 768, 1024)), "h": r.choice((256, 3072, 4096)), "k": r.randrange(1, 64)}
            logging.getLogger("mltrain").info("Running scenario %s with params %s", name, p)
            if name in STDLIB:
                stdlib(name)
            else:
                trainer.SCENARIOS[name](p)
    ''',
}


def main():
    work, target = sys.argv[1], int(sys.argv[2])
    src = os.path.join(work, "workspace")
    for rel, body in PKG.items():
        os.makedirs(os.path.dirname(os.path.join(src, rel)), exist_ok=True)
        with open(os.path.join(src, rel), "w") as f:
            f.write(textwrap.dedent(body).lstrip())
    sys.path.insert(0, src)
    import random
    import traceback
    import logging
    from mltrain import trainer
    import train

    out = sys.stdout
    # (A) genuine uncaught tracebacks from subprocesses.
    variants = [[], ["-X", "frozen_modules=off"], ["-W", "default"], ["-X", "dev"]]
    names = list(trainer.SCENARIOS) + train.STDLIB
    for i, name in enumerate(names):
        for v in variants[: 2 + i % 3]:
            cmd = ["python3", *v, "train.py", name, str(i)]
            out.write("$ " + " ".join(cmd) + "\n")
            out.flush()
            subprocess.run(cmd, cwd=src, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                           env={"PATH": "/usr/bin:/bin", "PYTHONWARNINGS": "always" if i % 4 == 0 else "default"})
            out.flush()

    # (B) bulk: same code in-process, seeded, through logging and traceback.print_exc.
    logging.basicConfig(stream=out, level=logging.INFO,
                        format="%(asctime)s - %(levelname)s - %(name)s - %(message)s")
    logging.captureWarnings(True)  # FutureWarning about use_auth_token goes to the log too
    log = logging.getLogger("mltrain.trainer")
    r = random.Random(1234)
    scen = list(trainer.SCENARIOS.items())
    step = 0
    while out.tell() < target:
        name, fn = r.choice(scen)
        p = {"b": r.choice((8, 16, 32, 64)), "d": r.choice((128, 512, 768, 1024)), "h": r.choice((256, 3072, 4096)), "k": r.randrange(1, 64)}
        step += r.randrange(1, 500)
        log.info("step %d: running %s (batch=%d, seq_len=%d)", step, name, p["b"], p["d"])
        try:
            fn(p)
        except Exception:
            if r.random() < 0.5:
                log.exception("Error in training step %d, skipping batch", step)
            else:
                traceback.print_exc(file=out)
        out.flush()


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("always")
    main()
