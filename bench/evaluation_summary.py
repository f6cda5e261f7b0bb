#!/usr/bin/env python3
"""Collects the summary.json of `edgenas-sim evaluate` runs (one per seed) into the short
record the demo prints: docs/results/evaluation.json.

Usage: evaluation_summary.py OUT.json COMMIT RUN_DIR... (each RUN_DIR has summary.json)"""
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
    out, commit, runs = sys.argv[1], sys.argv[2], sys.argv[3:]
    summaries = [json.load(open(r + "/summary.json")) for r in runs]
    methods = []
    for key, name in NAMES.items():
        if not all(key in s["methods"] for s in summaries):
            continue
        ms = [s["methods"][key] for s in summaries]
        methods.append({
            "key": key,
            "name": name,
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
    with open(out, "w") as f:
        json.dump(record, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
