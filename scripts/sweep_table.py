"""The seed sweep's table (scripts/seed_sweep.sh): one row per run folder seed-N.

takeoff   the step at which the run left the class prior (health.json; net/health.h)
best val  the best validation accuracy over the epochs (history.csv)
test      accuracy and MCC on the test split (metrics.json), at the restored best epoch
hairline  the subtle hairline fractures the model found (metrics.json's breakdown of
          the synthetic data)
Then the mean and standard deviation over the runs that finished. Standard library only.
"""
import csv
import json
import os
import statistics
import sys


def row(run):
    with open(os.path.join(run, "metrics.json")) as f:
        metrics = json.load(f)
    with open(os.path.join(run, "health.json")) as f:
        health = json.load(f)
    # {step, epoch, batch}; null: never left the prior; absent: not recorded (health checks off)
    takeoff = health["takeoff"]["step"] if health.get("takeoff") else ("never" if "takeoff" in health else "?")
    with open(os.path.join(run, "history.csv")) as f:
        history = list(csv.DictReader(f))
    hairline = next((b for b in metrics.get("breakdown", []) if b["kind"] == "subtle hairline"), None)
    seconds_file = os.path.join(run, "sweep-seconds")
    seconds = int(open(seconds_file).read()) if os.path.exists(seconds_file) else None
    return {
        "takeoff": takeoff,
        "best_val": max(float(h["val_accuracy"]) for h in history),
        "accuracy": metrics["metrics"]["accuracy"],
        "mcc": metrics["metrics"]["mcc"],
        "hairline": hairline["rate"] if hairline else None,
        "seconds": seconds,
    }


def cell(value, fmt):
    return "-" if value is None else fmt.format(value)


def main(out, seeds):
    print("| seed | takeoff step | best val acc | test acc | test MCC | hairlines found | time (s) |")
    print("|---|---|---|---|---|---|---|")
    rows = []
    for seed in seeds:
        run = os.path.join(out, "seed-" + seed)
        try:
            r = row(run)
        except (OSError, KeyError, ValueError) as e:
            print(f"| {seed} | failed: {e} | | | | | |")
            continue
        rows.append(r)
        print(f"| {seed} | {r['takeoff']} | {r['best_val']:.4f} | "
              f"{r['accuracy']:.4f} | {r['mcc']:.3f} | {cell(r['hairline'], '{:.1%}')} | {cell(r['seconds'], '{}')} |")
    if len(rows) > 1:
        def ms(key, fmt):
            v = [r[key] for r in rows if isinstance(r[key], (int, float))]
            return f"{fmt.format(statistics.mean(v))} ± {fmt.format(statistics.stdev(v))}" if len(v) > 1 else "-"
        never = sum(1 for r in rows if r["takeoff"] == "never")
        print(f"| mean ± sd | {ms('takeoff', '{:.0f}')}{f' ({never} never)' if never else ''} | {ms('best_val', '{:.4f}')} | "
              f"{ms('accuracy', '{:.4f}')} | {ms('mcc', '{:.3f}')} | {ms('hairline', '{:.3f}')} | {ms('seconds', '{:.0f}')} |")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: sweep_table.py OUT_DIR SEED...")
    main(sys.argv[1], sys.argv[2:])
