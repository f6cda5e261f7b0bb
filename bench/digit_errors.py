#!/usr/bin/env python3
"""Where saved digit readers go wrong on a meter test set from edgenas-meter-gen.

Usage: digit_errors.py SEARCH_BINARY TEST_DIGITS_DIR MODEL [MODEL...] [--json OUT]

Classifies every crop of TEST_DIGITS_DIR (labels.csv, rolling.csv) with each model
(`edgenas-search predict --json`) and prints, per model, the digits it reads wrong: by position
on the meter, and for a rolling drum by how far the drum has turned from the half turn where the
label flips. With two models, the digits each gets wrong alone (a paired count). Also prints how
many test digits sit at each distance from the half turn: at 28x28 one pixel of the crop is
about 1/28 of a cell (0.036 of a turn), so a drum within about that of the half turn is close
to a coin toss for any reader of these crops, whatever its architecture.
"""
import collections
import csv
import json
import subprocess
import sys

BANDS = (0.025, 0.05, 0.1, 0.2, 0.4)  # |turned - 0.5| upper bounds


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def wrong_answers(search, digits_dir, labels, model):
    files = [f"{digits_dir}/{r['file']}" for r in labels]
    out = subprocess.run([search, "predict", "--model", model, "--json", *files],
                         capture_output=True, text=True, check=True).stdout
    answers = json.loads(out)
    return {r["file"]: a["class"] for r, a in zip(labels, answers) if a["class"] != int(r["label"])}


def band_of(turned):
    """The band of the drum's distance from the half turn: "0.025-0.05" holds distances
    above 0.025 and at most 0.05."""
    if turned is None:
        return "not rolling"
    d = abs(turned - 0.5)
    i = next(i for i, b in enumerate(BANDS) if d <= b)
    return f"{([0] + list(BANDS))[i]:g}-{BANDS[i]:g}"


def summary(wrong, turned, positions):
    return {"wrong": len(wrong),
            "by_position": dict(collections.Counter(positions[f] for f in wrong)),
            "by_band": dict(collections.Counter(band_of(turned.get(f)) for f in wrong))}


def main(argv):
    out_path = None
    if "--json" in argv:
        i = argv.index("--json")
        out_path = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    if len(argv) < 3:
        sys.exit(__doc__)
    search, digits_dir, models = argv[0], argv[1], argv[2:]
    labels = read_csv(f"{digits_dir}/labels.csv")
    turned = {r["file"]: float(r["turned"]) for r in read_csv(f"{digits_dir}/rolling.csv")}
    positions = {r["file"]: r["file"].rsplit("_", 1)[-1].split(".")[0] for r in labels}
    by_band = dict(collections.Counter(band_of(t) for t in turned.values()))
    test = {"digits": len(labels), "rolling": len(turned), "rolling_by_band": by_band}
    print(f"test set: {test['digits']} digits, {test['rolling']} on rolling drums; by distance "
          f"from the half turn {dict(sorted(by_band.items()))}")
    wrong = {m: wrong_answers(search, digits_dir, labels, m) for m in models}
    report = {"test": test, "models": {}}
    for m, w in wrong.items():
        s = summary(w, turned, positions)
        report["models"][m] = s
        places = dict(sorted(s["by_position"].items()))
        bands = dict(sorted(s["by_band"].items()))
        print(f"{m}: {s['wrong']} wrong; by position {places}; by distance of a rolling drum "
              f"from the half turn {bands}")
    if len(models) == 2:
        a, b = (set(wrong[m]) for m in models)
        report["paired"] = {"both": len(a & b), "only_first": len(a - b), "only_second": len(b - a)}
        print(f"wrong in both {len(a & b)}, only {models[0]} {len(a - b)}, "
              f"only {models[1]} {len(b - a)}")
    if out_path:
        with open(out_path, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
