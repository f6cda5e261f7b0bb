#!/usr/bin/env python3
"""Collects the summary.json of `edgenas-sim evaluate` runs (one per seed) into the short
record the demo prints: docs/results/evaluation.json.

Usage: evaluation_summary.py OUT.json COMMIT RUN_DIR... [--only KEY,KEY]
(each RUN_DIR has summary.json). With --only, only those methods are replaced in an existing
OUT.json (their rows do not depend on the others', e.g. the cold-start rule after a change to
it); every method records the commit it was measured at."""
import json
import sys

NAMES = {
    "warm-start": "warm start (trained in simulation)",
    "predictor": "predictor on 2 000 traces of that seed",
    "default": "widest default space",
    "random": "random hyperparameters",
    "cold-start": "cold-start rule",
}


def main():
    args = sys.argv[1:]
    only = None
    if "--only" in args:
        i = args.index("--only")
        only = args[i + 1].split(",")
        del args[i:i + 2]
    out, commit, runs = args[0], args[1], args[2:]
    summaries = [json.load(open(r + "/summary.json")) for r in runs]
    methods = []
    for key, name in NAMES.items():
        if only is not None and key not in only:
            continue
        if not all(key in s["methods"] for s in summaries):
            continue
        ms = [s["methods"][key] for s in summaries]
        methods.append({
            "key": key,
            "name": name,
            "commit": commit,
            "normalised_reward": [round(m["normalised_reward"], 3) for m in ms],
            "met_T": [round(m["met_T"], 4) for m in ms],
            "per_profile": [{p: round(v["normalised_reward"], 3) for p, v in m["per_profile"].items()}
                            for m in ms],
        })
    record = {
        "what": "%d held-out contexts per seed, every grid point searched, scored on fresh seeds; "
                "%s never in training" % (summaries[0]["heldout_contexts"], summaries[0]["heldout_profile"]),
        "seeds": [s["seed"] for s in summaries],
        "commit": commit,
        "command": "edgenas-sim evaluate --out DIR --seed N "
                   "--warm-start build/release/warm-start/model.edgenasp",
        "methods": methods,
    }
    if only is not None:
        old = json.load(open(out))
        if old["seeds"] != record["seeds"]:
            sys.exit("evaluation_summary: %s has seeds %s, the runs %s" % (out, old["seeds"], record["seeds"]))
        fresh = {m["key"]: m for m in methods}
        for m in old["methods"]:
            m.setdefault("commit", old["commit"])
        record["methods"] = [fresh.pop(m["key"], m) for m in old["methods"]] + list(fresh.values())
        record["commit"] = "per method"
    with open(out, "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
