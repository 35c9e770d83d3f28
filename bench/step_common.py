"""What the framework twins of Radius's training step share (bench/pytorch_step.py,
bench/keras_step.py): reading a Radius .spec file and timing a call. Plain
Python: importing it pulls in no framework."""
import argparse
import re
import statistics
import time


def step_arguments(doc):
    """The twins' command line: the spec, threads, batch, timed and warm-up steps."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("--spec", default="models/paper.spec")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--steps", type=int, default=6, help="timed training steps (median reported)")
    ap.add_argument("--warmup", type=int, default=2)
    return ap.parse_args()


def parse_spec(path):
    """(keyword, {key: value}) per layer line of a Radius .spec file (models/README.md)."""
    layers = []
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        layers.append((words[0], dict(w.split("=", 1) for w in words[1:])))
    return layers


def size2(text):
    """'3' -> (3, 3), '3x5' -> (3, 5): a spec's kernel or pool size."""
    m = re.fullmatch(r"(\d+)(?:x(\d+))?", text)
    return (int(m[1]), int(m[2] or m[1]))


def time_calls(fn, warmup, reps):
    """(median wall seconds, mean process CPU seconds) per call, after warm-up calls
    (which also take a framework's one-off costs, such as tracing a tf.function)."""
    for _ in range(warmup):
        fn()
    times = []
    cpu0 = time.process_time()
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), (time.process_time() - cpu0) / reps
