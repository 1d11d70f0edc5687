#!/usr/bin/python3
"""keyword_hits.py - how often each rule's keywords occur in clean text.

The engine evaluates a rule's regex only where one of its keywords occurs
(case-insensitive), so a keyword that is common in ordinary output costs
throughput on every occurrence.  This counts, for every rule of a rule
directory, the case-insensitive occurrences of each of its keywords in a
clean sample (e.g. a synthetic ML training log: tools/corpus/gen_mllog.py) and
prints the rules with the most hits and the most frequent keywords.

Usage:
  tools/keyword_hits.py [--rules patterns] [--top 40] [--max-provider N] FILE...

Totals: "keyword hits" counts every occurrence of every distinct keyword once;
"rule evaluations" counts an occurrence once per rule having that keyword (what
the engine runs).  A rule is "anchored" when it declares prefix_max: 0 (the
loader may prove more rules anchored; anchored evaluations are cheap).
--max-provider N exits 1 when a rule outside the generic/tokens/databases/
private-keys families has more than N hits per 20 MB of input.
Output goes to stdout only.
"""
import argparse
import collections
import glob
import os
import sys

import yaml

GENERIC_FAMILIES = {"generic", "tokens", "databases", "private-keys"}


def load_rules(rules_dir):
    rules = []
    for path in sorted(glob.glob(os.path.join(rules_dir, "*.yaml"))):
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f) or {}
        if doc.get("default", "on") in ("off", False):
            continue
        for r in doc.get("rules") or []:
            rules.append({
                "id": r["id"],
                "family": doc.get("family", os.path.basename(path)[:-5]),
                "keywords": sorted({k.lower() for k in r.get("keywords") or []}),
                "anchored": r.get("prefix_max") == 0,
            })
    return rules


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rules", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "patterns"))
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--max-provider", type=float, default=None)
    ap.add_argument("files", nargs="+")
    a = ap.parse_args()

    text = b"".join(open(p, "rb").read() for p in a.files).lower()
    scale = 20e6 / max(len(text), 1)
    rules = load_rules(a.rules)
    kw_hits = {}
    for r in rules:
        for k in r["keywords"]:
            if k not in kw_hits:
                kw_hits[k] = text.count(k.encode("utf-8"))
    for r in rules:
        r["hits"] = sum(kw_hits[k] for k in r["keywords"])
        r["worst"] = sorted(((kw_hits[k], k) for k in r["keywords"] if kw_hits[k]), reverse=True)[:4]

    total_kw = sum(kw_hits.values())
    total_eval = sum(r["hits"] for r in rules)
    total_eval_unanch = sum(r["hits"] for r in rules if not r["anchored"])
    print(f"input: {len(text) / 1e6:.1f} MB; {len(rules)} enabled rules, {len(kw_hits)} distinct keywords")
    print(f"keyword hits {total_kw}; rule evaluations {total_eval} "
          f"(not declared anchored: {total_eval_unanch})")
    print()
    print(f"{'rule':40s} {'family':15s} {'anch':4s} {'hits':>8s}  worst keywords")
    for r in sorted(rules, key=lambda r: -r["hits"])[:a.top]:
        if not r["hits"]:
            break
        worst = ", ".join(f"{k!r}:{n}" for n, k in r["worst"])
        print(f"{r['id'][:40]:40s} {r['family'][:15]:15s} {'yes' if r['anchored'] else '-':4s} {r['hits']:8d}  {worst}")
    print()
    print("most frequent keywords:")
    for k, n in sorted(kw_hits.items(), key=lambda kv: -kv[1])[:a.top]:
        if not n:
            break
        users = [r["id"] for r in rules if k in r["keywords"]]
        print(f"  {k!r:24s} {n:8d}  {', '.join(users[:4])}{' ...' if len(users) > 4 else ''}")
    fam = collections.Counter()
    for r in rules:
        fam[r["family"]] += r["hits"]
    print()
    print("rule evaluations per family: " + ", ".join(f"{f} {n}" for f, n in fam.most_common()))
    if a.max_provider is not None:
        bad = [r for r in rules if r["family"] not in GENERIC_FAMILIES and r["hits"] * scale > a.max_provider]
        if bad:
            print(f"\nprovider rules over {a.max_provider:g} hits per 20 MB: " +
                  ", ".join(f"{r['id']} ({r['hits'] * scale:.0f})" for r in bad))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
