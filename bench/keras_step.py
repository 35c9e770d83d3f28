"""The Radius training-step benchmark's twin in Keras 2 on TensorFlow (a dev
tool: neither is a dependency of Radius). Builds the model of a Radius spec
file (the seed paper's model by default) as a tf_keras Sequential, channels
last, with Keras' own defaults (Glorot-uniform weights, zero biases), dropout
on, BCE from the logit and Adam (lr 1e-3, epsilon 1e-7, as bench/pytorch_step.py), then times
`train_on_batch` steps and `predict_on_batch` inference, and prints one JSON
object.

    build-keras-venv/bin/python bench/keras_step.py --threads 2 --batch 32

Run by scripts/compare_frameworks.py; any python with tensorflow and tf_keras
installed works (`--install-keras` there makes build-keras-venv/). The thread
count is fixed before TensorFlow starts: intra-op pool = --threads (the
threads that split one convolution), inter-op pool = 1 (a Sequential model
runs one layer after the other, so a second pool would only add threads).
"""
import json
import os
import resource
import sys

from step_common import parse_spec, size2, step_arguments, time_calls  # bench/, beside this file


def pin_to_cpu(threads):
    """Must run before TensorFlow is imported: it reads these once. No GPU: this is the CPU comparison,
    and PyPI's full `tensorflow` wheel would take one where it finds it."""
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep the start-up banner out of stderr


def build_model(keras, spec):
    """tf_keras Sequential of the spec, NHWC; the sigmoid head is left off (training uses the logit)."""
    (kind, keys), body = spec[0], spec[1:]
    assert kind == "input", "a spec starts with its input line"
    hwc = (int(keys["height"]), int(keys["width"]), int(keys["channels"]))
    L = keras.layers
    layers = [keras.Input(shape=hwc)]
    for i, (kind, keys) in enumerate(body):
        act = keys.get("activation", "linear")
        if act == "sigmoid" and i == len(body) - 1:
            act = "linear"  # the logit: BCE from_logits=True, as Radius and the PyTorch twin train
        bias = keys.get("bias", "true") == "true"
        if kind == "conv2d":
            layers.append(L.Conv2D(int(keys["filters"]), size2(keys["kernel"]), int(keys.get("stride", 1)),
                                   padding=keys.get("padding", "valid"), activation=act, use_bias=bias))
        elif kind in ("maxpool2d", "avgpool2d"):
            p = size2(keys["pool"])
            pool = L.MaxPooling2D if kind == "maxpool2d" else L.AveragePooling2D
            layers.append(pool(p, int(keys.get("stride", p[0]))))
        elif kind == "flatten":
            layers.append(L.Flatten())
        elif kind == "dropout":
            layers.append(L.Dropout(float(keys["rate"])))
        elif kind == "dense":
            layers.append(L.Dense(int(keys["units"]), activation=act, use_bias=bias))
        elif kind in ("relu", "sigmoid"):
            layers.append(L.Activation(kind))
        else:
            raise ValueError(f"keras_step.py does not know the layer '{kind}'")
    return keras.Sequential(layers), hwc


def onednn_enabled():
    """Whether convolutions run through oneDNN: on by default in TensorFlow's x86
    Linux wheels, off with TF_ENABLE_ONEDNN_OPTS=0 (the call reads both)."""
    try:
        from tensorflow.python.util import _pywrap_util_port
        return bool(_pywrap_util_port.IsMklEnabled())
    except ImportError:  # a private module: absent in some TensorFlow version
        return None


def main():
    args = step_arguments(__doc__)

    pin_to_cpu(args.threads)
    import numpy as np
    import tensorflow as tf
    import tf_keras as keras

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(1)
    model, (h, w, c) = build_model(keras, parse_spec(args.spec))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3, epsilon=1e-7),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True))
    rng = np.random.default_rng(1)
    x = rng.random((args.batch, h, w, c), dtype=np.float32)
    y = (rng.random((args.batch, 1)) < 0.5).astype(np.float32)

    step_s, step_cpu_s = time_calls(lambda: model.train_on_batch(x, y), args.warmup, args.steps)
    rss_train_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    infer_s, _ = time_calls(lambda: model.predict_on_batch(x), 1, args.steps)  # inference mode: no dropout
    print(json.dumps({
        "framework": "keras", "version": f"tf_keras {keras.__version__}, tensorflow {tf.__version__}",
        "tensorflow": tf.__version__, "tf_keras": keras.__version__, "python": sys.version.split()[0],
        "threads": args.threads, "batch": args.batch, "parameters": int(model.count_params()),
        "step_ms": 1e3 * step_s, "images_per_s": args.batch / step_s, "cpu_s_per_step": step_cpu_s,
        "inference_images_per_s": args.batch / infer_s,
        "peak_rss_train_mb": rss_train_mb,
        "onednn": onednn_enabled(),
        "intra_op_threads": tf.config.threading.get_intra_op_parallelism_threads(),
        "inter_op_threads": tf.config.threading.get_inter_op_parallelism_threads(),
    }))


if __name__ == "__main__":
    main()
