#!/usr/bin/python3
"""train.py CKPT_DIR TARGET_BYTES - a real (tiny) training run that logs like ML jobs do.

Part of build_clean_corpus.sh.  Trains a 2-layer MLP with numpy (python3-numpy)
on a seeded synthetic classification task, with Adam, warmup + cosine LR and
gradient clipping, and prints what training scripts print: tqdm bars with \\r
updates (python3-tqdm), per-step loss/lr/tokens-per-second/grad-norm lines in
several framework styles, JSON metric lines with run ids, eval summaries and
checkpoint saves (real .npz files, with their real sha256).  Stops after
TARGET_BYTES of output.  Contains no secrets.
"""
import hashlib
import json
import logging
import os
import random
import sys
import time
import uuid

import numpy as np
from tqdm import tqdm


def main():
    ckpt_dir, target = sys.argv[1], int(sys.argv[2])
    out = sys.stdout
    logging.basicConfig(stream=out, level=logging.INFO,
                        format="%(asctime)s - %(levelname)s - %(name)s - %(message)s")
    log = logging.getLogger("__main__")
    rng, r = np.random.default_rng(0), random.Random(0)
    x = rng.normal(size=(4096, 64)).astype(np.float32)
    y = (x[:, :8].sum(1) > 0).astype(np.int64) + 2 * (x[:, 8:16].sum(1) > 0)
    run = 0
    while out.tell() < target:
        run += 1
        run_id, wandb_id = uuid.UUID(int=r.getrandbits(128)).hex, "".join(r.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=8))
        hidden, lr_max, bs, epochs = r.choice((64, 128, 256)), r.choice((1e-3, 3e-3, 5e-4)), r.choice((32, 64, 128)), r.randrange(2, 5)
        style = r.randrange(3)
        log.info("Starting run %s (wandb id %s): hidden=%d lr=%.1e batch_size=%d epochs=%d", run_id, wandb_id, hidden, lr_max, bs, epochs)
        print(json.dumps({"event": "run_start", "run_id": run_id, "experiment_id": str(r.randrange(1, 40)),
                          "params": {"hidden": hidden, "lr": lr_max, "batch_size": bs, "seed": run, "optimizer": "adamw"},
                          "git_commit": "%040x" % r.getrandbits(160)}), file=out)
        w1 = rng.normal(scale=0.1, size=(64, hidden)).astype(np.float32)
        w2 = rng.normal(scale=0.1, size=(hidden, 4)).astype(np.float32)
        params = [w1, w2]
        m = [np.zeros_like(p) for p in params]
        v = [np.zeros_like(p) for p in params]
        steps_per_epoch = 3072 // bs
        total, step = steps_per_epoch * epochs, 0
        for epoch in range(epochs):
            bar = tqdm(range(steps_per_epoch), desc="Epoch %d" % epoch, file=out, mininterval=0, miniters=r.choice((1, 4, 16)),
                       ncols=110, ascii=(style == 1), dynamic_ncols=False)
            t0 = time.perf_counter()
            for i in bar:
                idx = rng.integers(0, 3072, size=bs)
                xb, yb = x[idx], y[idx]
                h = np.maximum(xb @ w1, 0)
                logits = h @ w2
                p = np.exp(logits - logits.max(1, keepdims=True))
                p /= p.sum(1, keepdims=True)
                loss = float(-np.log(p[np.arange(bs), yb] + 1e-9).mean())
                d = p.copy()
                d[np.arange(bs), yb] -= 1
                d /= bs
                grads = [xb.T @ ((d @ w2.T) * (h > 0)), h.T @ d]
                gn = float(np.sqrt(sum((g * g).sum() for g in grads)))
                if gn > 1.0:
                    grads = [g / gn for g in grads]
                step += 1
                warm = min(1.0, step / 50)
                lr = lr_max * warm * 0.5 * (1 + np.cos(np.pi * step / total))
                for j, g in enumerate(grads):
                    m[j] = 0.9 * m[j] + 0.1 * g
                    v[j] = 0.999 * v[j] + 0.001 * g * g
                    params[j] -= lr * (m[j] / (1 - 0.9 ** step)) / (np.sqrt(v[j] / (1 - 0.999 ** step)) + 1e-8)
                tps = bs * 512 / max(1e-6, time.perf_counter() - t0)
                t0 = time.perf_counter()
                bar.set_postfix(loss="%.4f" % loss, lr="%.2e" % lr, refresh=False)
                if step % 10 == 0:
                    if style == 0:
                        bar.write("epoch %d step %d loss=%.4f lr=%.1e tokens/s=%d grad_norm=%.2f" % (epoch, step, loss, lr, tps, gn), file=out)
                    elif style == 1:
                        bar.write("{'loss': %.4f, 'grad_norm': %.6f, 'learning_rate': %.15g, 'epoch': %.2f}" % (loss, gn, lr, epoch + i / steps_per_epoch), file=out)
                    else:
                        bar.write("[Rank 0] iter %6d/%d | loss %.5f | ppl %.3f | lr %.3e | %.1f ms/it | tokens/s %.0f" % (step, total, loss, np.exp(loss), lr, 1000 * bs * 512 / tps, tps), file=out)
                if step % 25 == 0:
                    bar.write(json.dumps({"_step": step, "_runtime": round(time.process_time(), 3), "run_id": run_id,
                                          "train/loss": round(loss, 6), "train/lr": float(lr), "train/grad_norm": round(gn, 4),
                                          "perf/tokens_per_sec": round(tps, 1)}), file=out)
            bar.close()
            acc = float(((np.maximum(x[3072:] @ w1, 0) @ w2).argmax(1) == y[3072:]).mean())
            log.info("***** eval metrics ***** epoch=%d eval_accuracy=%.4f eval_samples=%d", epoch, acc, 1024)
            path = os.path.join(ckpt_dir, "run-%s" % wandb_id, "checkpoint-%d" % step, "model.npz")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            np.savez(path, w1=w1, w2=w2)
            digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
            log.info("Saving model checkpoint to %s (%d bytes, sha256=%s)", path, os.path.getsize(path), digest)
        print(json.dumps({"event": "run_end", "run_id": run_id, "status": "FINISHED", "metrics": {"eval_accuracy": acc}}), file=out)
        out.flush()


if __name__ == "__main__":
    main()
