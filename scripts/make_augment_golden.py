#!/usr/bin/env python3
"""Golden outputs for data/augment.cpp, made the way Keras makes them.

Replicates keras-preprocessing 1.1.x `apply_affine_transform` (the SciPy version,
no row/col swap; ImageDataGenerator with channels_last passes row_axis=0,
col_axis=1, channel_axis=2) followed by `apply_transform`'s flips. Rescale is
not applied: values stay on the 0..255 scale.

Writes tests/golden/augment/cases.json (shapes, parameters, the 2x3 pull matrix)
and one <name>.f32 per case: the Keras output, float32 little-endian, HWC.

Needs numpy + scipy (a dev tool only; here: /usr/bin/python3).
Run from anywhere: python3 scripts/make_augment_golden.py
"""
import json
import pathlib

import numpy as np
import scipy.ndimage

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "golden" / "augment"


def test_image(h, w, c):
    """Deterministic uint8 HWC pattern: smooth quadratic terms + high-frequency wrap.
    tests/test_augment.cpp computes the same formula."""
    y, x, ch = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
    return ((3 * x * x + 5 * y * y + 7 * x * y + 13 * x + 17 * y + 31 * ch) % 256).astype(np.uint8)


def transform_matrix_offset_center(matrix, x, y):
    o_x = float(x) / 2 - 0.5
    o_y = float(y) / 2 - 0.5
    offset_matrix = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset_matrix = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return np.dot(np.dot(offset_matrix, matrix), reset_matrix)


def keras_matrix(theta, tx, ty, shear, zx, zy, h, w):
    """The centred 3x3 matrix, built exactly as apply_affine_transform does (None: no warp)."""
    m = None
    if theta != 0:
        t = np.deg2rad(theta)
        m = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    if tx != 0 or ty != 0:
        s = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
        m = s if m is None else np.dot(m, s)
    if shear != 0:
        sh = np.deg2rad(shear)
        s = np.array([[1, -np.sin(sh), 0], [0, np.cos(sh), 0], [0, 0, 1]])
        m = s if m is None else np.dot(m, s)
    if zx != 1 or zy != 1:
        z = np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
        m = z if m is None else np.dot(m, z)
    return None if m is None else transform_matrix_offset_center(m, h, w)


def keras_apply(x, p, row_axis=0, col_axis=1, channel_axis=2):
    """apply_affine_transform (order=1, fill_mode='nearest', cval=0) then the flips."""
    h, w = x.shape[row_axis], x.shape[col_axis]
    m = keras_matrix(p["theta"], p["tx"], p["ty"], p["shear"], p["zx"], p["zy"], h, w)
    if m is not None:
        x = np.rollaxis(x, channel_axis, 0)
        channels = [scipy.ndimage.affine_transform(xc, m[:2, :2], m[:2, 2], order=1, mode="nearest", cval=0.0)
                    for xc in x]
        x = np.stack(channels, axis=0)
        x = np.rollaxis(x, 0, channel_axis + 1)
    if p["flip_h"]:  # flip_axis(x, img_col_axis)
        x = np.asarray(x).swapaxes(col_axis, 0)[::-1, ...].swapaxes(0, col_axis)
    if p["flip_v"]:  # flip_axis(x, img_row_axis)
        x = np.asarray(x).swapaxes(row_axis, 0)[::-1, ...].swapaxes(0, row_axis)
    return x, m


def f32(v):
    """Parameters are float32 in Radius: round here too, then use them as doubles (as C++ does)."""
    return float(np.float32(v))


CASES = [
    # name, (h, w, c), theta, tx, ty, shear, zx, zy, flip_h, flip_v
    ("identity", (37, 53, 1), 0, 0, 0, 0, 1, 1, False, False),
    ("rotate", (37, 53, 1), 30, 0, 0, 0, 1, 1, False, False),
    ("shift_zoom", (37, 53, 3), 0, 5.5, -7.25, 0, 0.85, 1.15, False, False),
    ("shear", (40, 40, 1), 0, 0, 0, 20, 1, 1, False, False),
    ("combined", (37, 53, 3), -25, -3.3, 4.1, 0.15, 1.1, 0.9, False, False),
    ("combined_flip", (29, 31, 3), 37.5, 2.2, -6.6, -0.2, 1.3, 0.75, True, True),
    ("rotate90_hflip", (24, 17, 1), 90, 0, 0, 0, 1, 1, True, False),
]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    index = []
    for name, (h, w, c), theta, tx, ty, shear, zx, zy, fh, fv in CASES:
        p = dict(theta=f32(theta), tx=f32(tx), ty=f32(ty), shear=f32(shear), zx=f32(zx), zy=f32(zy),
                 flip_h=fh, flip_v=fv)
        # Keras feeds float32 pixels (img_to_array); SciPy then returns float32.
        x = test_image(h, w, c).astype(np.float32)
        y, m = keras_apply(x, p)
        y = np.ascontiguousarray(y, dtype="<f4")
        assert y.shape == (h, w, c)
        (OUT / f"{name}.f32").write_bytes(y.tobytes())
        matrix = np.eye(3) if m is None else m
        index.append(dict(name=name, h=h, w=w, c=c, params=p, matrix=matrix[:2, :].ravel().tolist(),
                          file=f"{name}.f32", layout="HWC float32 LE, 0..255 (no rescale)"))
    (OUT / "cases.json").write_text(json.dumps(dict(source="scripts/make_augment_golden.py", cases=index),
                                               indent=1) + "\n")
    print(f"wrote {len(index)} cases to {OUT}")


if __name__ == "__main__":
    main()
