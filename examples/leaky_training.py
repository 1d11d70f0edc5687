#!/usr/bin/env python3
"""A training script that leaks credentials the way real ones do: a config
dump, a debug log of the HTTP client, an exception message, a connection
string.  Unchanged code; run it with and without LD_PRELOAD=libredact.so."""
import json
import logging
import os
import sys

logging.basicConfig(level=logging.DEBUG, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                    stream=sys.stderr)
log = logging.getLogger("trainer")

config = {
    "model": "meta-llama/Llama-2-7b-hf",
    "hf_token": os.environ.get("HF_TOKEN", ""),
    "wandb_project": "demo",
    "aws_access_key_id": "AKIAQYLPMN5HFIQR7XPA",
    "aws_secret_access_key": "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",
}
print("config:", json.dumps(config, indent=1))
log.debug("GET https://api.github.com/user headers={'Authorization': 'token "
          "ghp_R1f3kP0aXb9cZ8Lm2Qw7Er5Ty6Ui4Op3As1D'}")
for step in range(3):
    print(f"epoch 0 step {step} loss={1.0 / (step + 1):.4f} tokens/s=51234")
try:
    raise ConnectionError("could not connect to postgresql://trainer:S3cr3tPassw0rd!x@db:5432/runs")
except ConnectionError as e:
    log.error("checkpoint upload failed: %s", e)
os.write(1, b"done, run id 3f9c2a1e-6b7d-4e8f-9a0b-1c2d3e4f5a6b, commit 4f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39\n")
