#!/usr/bin/env python3
"""Where a model trained on the built-in synthetic data goes wrong (a dev tool).

Joins a run's predictions.csv (path, label, score = P(not fractured)) with the
data set's synth.csv (what `radius synth` drew in each image) and prints, for
each kind of image, how many there are and how many the model gets right:
fractured images by the fracture's kind and signs (sensitivity), intact images
by their hard negatives (specificity). This is how the generator's knobs are
calibrated (docs/synthetic-data.md): a sign the model never learns shows up as
a row near 0 (fractured) or a hard negative as a row well below the others.

  python3 scripts/synth_breakdown.py DATA_DIR RUN_DIR [--threshold 0.5]
"""
import argparse
import csv
import os
import sys

FRACTURED_ROWS = [("all fractured", lambda r: True),
                  ("transverse", lambda r: r["fracture"] == "transverse"),
                  ("oblique", lambda r: r["fracture"] == "oblique"),
                  ("comminuted", lambda r: r["fracture"] == "comminuted"),
                  ("subtle hairline", lambda r: r["subtle"] == "1"),
                  ("not subtle, displaced", lambda r: r["subtle"] == "0" and r["displaced"] == "1"),
                  ("not subtle, not displaced", lambda r: r["subtle"] == "0" and r["displaced"] == "0"),
                  ("with swelling", lambda r: r["swelling"] == "1"),
                  ("no swelling", lambda r: r["swelling"] == "0"),
                  ("in a cast", lambda r: r["cast"] == "1"),
                  ("no cast", lambda r: r["cast"] == "0"),
                  ("no cast, no swelling", lambda r: r["cast"] == "0" and r["swelling"] == "0")]
INTACT_ROWS = [("all intact", lambda r: True),
               ("joint in view", lambda r: r["joint"] == "1"),
               ("open growth plate", lambda r: r["growth_plate"] == "1"),
               ("nutrient canal", lambda r: r["nutrient_canal"] == "1"),
               ("crossing limb", lambda r: r["crossing_bones"] == "1"),
               ("in a cast", lambda r: r["cast"] == "1"),
               ("none of these", lambda r: all(r[k] == "0" for k in
                                               ("joint", "nutrient_canal", "crossing_bones", "cast")))]


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def table(title, rows, groups, correct):
    print(f"{title:<28} {'images':>7} {'right':>7} {'rate':>6}")
    for name, keep in groups:
        sel = [r for r in rows if keep(r)]
        if not sel:
            continue
        k = sum(correct(r) for r in sel)
        print(f"  {name:<26} {len(sel):>7} {k:>7} {k / len(sel):>6.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir")
    ap.add_argument("run_dir")
    ap.add_argument("--threshold", type=float, default=0.5, help="predicted not fractured iff score > threshold")
    args = ap.parse_args()
    truth = {r["path"]: r for r in read_rows(os.path.join(args.data_dir, "synth.csv"))}
    preds = read_rows(os.path.join(args.run_dir, "predictions.csv"))
    missing = [p["path"] for p in preds if p["path"] not in truth]
    if missing:
        sys.exit(f"synth_breakdown: {len(missing)} predicted files are not in {args.data_dir}/synth.csv "
                 f"(first: {missing[0]}): was the run trained on another data set?")
    rows = []
    for p in preds:
        r = dict(truth[p["path"]])
        r["predicted_fractured"] = float(p["score"]) <= args.threshold
        rows.append(r)
    fractured = [r for r in rows if r["class"] == "fractured"]
    intact = [r for r in rows if r["class"] != "fractured"]
    table("fractured images", fractured, FRACTURED_ROWS, lambda r: r["predicted_fractured"])
    table("intact images", intact, INTACT_ROWS, lambda r: not r["predicted_fractured"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
