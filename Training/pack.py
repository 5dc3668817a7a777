#!/usr/bin/python3
"""Carries a training set to a machine that cannot run hzsr (a GPU server with PyTorch and no
Swift): packs what training reads into one small file, and unpacks it there into a set folder
that train.py reads as it reads the original.

    /usr/bin/python3 Training/pack.py pack .cache/sets/train train.pack --window 736
    python3 Training/pack.py unpack train.pack .cache/sets/train      # on the other machine

Per capture, Y_src, Ỹ_ref and the target are kept to 10 bits (steps of 1/1023, a rounding error
of 0.0003 rms, far below the sensor noise the simulator adds) and M_occ to 8; each plane is
stored as the residual of predicting each sample from three neighbours, LZMA-compressed: about
1.4 MB per megapixel, against 16 MB of float32 arrays. `--window N` keeps an N×N window of each
capture (placed at random, the same on every run), for links that cannot carry whole frames:
crops are drawn inside it, and the classical base, recomputed on the window, differs from the
whole frame's within 9 pixels of its edges.
"""
import argparse
import io
import json
import lzma
import os

import numpy as np

# (file, plane of the array or None, bits; None: integers, kept as they are)
PLANES = [("fusion_inputs.npy", 0, 10), ("fusion_inputs.npy", 1, 10), ("fusion_inputs.npy", 2, 8),
          ("target_y.npy", None, 10), ("tele_coverage.npy", None, None)]


def gradient_residual(samples):
    """Each sample less its prediction from its left (a), upper (b) and upper-left (c)
    neighbours, a + b − c (zeros outside the plane): a difference along rows, then along
    columns, so the inverse is two running sums."""
    return np.diff(np.diff(samples, axis=1, prepend=0), axis=0, prepend=0)


def from_gradient_residual(residual):
    return np.cumsum(np.cumsum(residual, axis=0), axis=1)


def quantised(values, bits):
    scale = (1 << bits) - 1
    return np.round(np.clip(values, 0, 1) * scale).astype(np.int32)


def window_of(shape, side, seed):
    height, width = shape
    if not side or side >= min(height, width):
        return slice(0, height), slice(0, width)
    rng = np.random.default_rng(seed)
    y, x = int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1))
    return slice(y, y + side), slice(x, x + side)


def pack(folder, output, side):
    with open(os.path.join(folder, "set.json")) as manifest:
        manifest = json.load(manifest)
    arrays = {"manifest": np.frombuffer(json.dumps(manifest).encode(), np.uint8)}
    for index, name in enumerate(manifest["captures"]):
        path = os.path.join(folder, name)
        loaded = {file: np.load(os.path.join(path, file), mmap_mode="r") for file, _, _ in PLANES}
        window = window_of(loaded["target_y.npy"].shape, side, index)
        for number, (file, channel, bits) in enumerate(PLANES):
            values = loaded[file][window] if channel is None else loaded[file][window + (channel,)]
            samples = values.astype(np.int32) if bits is None else quantised(values, bits)
            residual = gradient_residual(samples).astype(np.int16)
            arrays[f"{name}/{number}"] = np.frombuffer(lzma.compress(residual.tobytes()), np.uint8)
        arrays[f"{name}/shape"] = np.array(samples.shape)
    with open(output, "wb") as file:  # np.savez would add ".npz" to a name without it
        np.savez(file, **arrays)
    print(f"{output}: {len(manifest['captures'])} captures, {os.path.getsize(output) / 1e6:.1f} MB")


def unpack(archive, folder):
    packed = np.load(archive)
    manifest = json.loads(packed["manifest"].tobytes())
    for name in manifest["captures"]:
        shape = tuple(packed[f"{name}/shape"])
        planes = []
        for number, (_, _, bits) in enumerate(PLANES):
            residual = np.frombuffer(lzma.decompress(packed[f"{name}/{number}"].tobytes()), np.int16)
            samples = from_gradient_residual(residual.reshape(shape).astype(np.int32))
            planes.append(samples.astype(np.uint8) if bits is None else (samples / ((1 << bits) - 1)).astype(np.float32))
        path = os.path.join(folder, name)
        os.makedirs(path, exist_ok=True)
        np.save(os.path.join(path, "fusion_inputs.npy"), np.stack(planes[:3], axis=-1))
        np.save(os.path.join(path, "target_y.npy"), planes[3])
        np.save(os.path.join(path, "tele_coverage.npy"), planes[4])
    with open(os.path.join(folder, "set.json"), "w") as out:
        json.dump(manifest, out)
    print(f"{folder}: {len(manifest['captures'])} captures")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    packing = commands.add_parser("pack", help="a set folder into one file")
    packing.add_argument("set")
    packing.add_argument("output")
    packing.add_argument("--window", type=int, default=0, metavar="N", help="keep an N×N window of each capture")
    unpacking = commands.add_parser("unpack", help="one file into a set folder")
    unpacking.add_argument("archive")
    unpacking.add_argument("set")
    args = parser.parse_args()
    if args.command == "pack":
        pack(args.set, args.output, args.window)
    else:
        unpack(args.archive, args.set)


if __name__ == "__main__":
    main()
