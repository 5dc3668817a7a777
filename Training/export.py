#!/usr/bin/python3
"""Writes a training checkpoint's network as the safetensors file Swift's HZFusionNet loads.

    /usr/bin/python3 Training/export.py .cache/training/run/checkpoint.pt \
        Sources/HZFusionNet/Resources/fusion-unet.safetensors

Tensors: the state_dict keys (`convs.<name>.weight` OIHW, `convs.<name>.bias`), float32,
little-endian, in the model's layer order. `__metadata__` (strings, as the format requires):
architecture, steps, seed, sets, date, and the last validation's median PSNR/SSIM per method.

The format is written by hand (the `safetensors` package is not in Debian): an 8-byte
little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, padded with
spaces to a multiple of 8, then the raw tensor bytes back to back.
"""
import argparse
import datetime
import json
import os
import struct

import torch

from hzsr_fusion.classical import BAND_SPLIT_SIGMA
from hzsr_fusion.model import ARCHITECTURE, FusionUNet


def metadata(checkpoint):
    entries = {
        "architecture": ARCHITECTURE,
        # The classical fusion the residual is added to (Swift's NetworkFusion reads it).
        "base_sigma": str(BAND_SPLIT_SIGMA),
        "steps": str(checkpoint["step"]),
        **{name: str(value) for name, value in checkpoint["settings"].items() if name not in ("sets", "steps")},
        "sets": ",".join(checkpoint["settings"]["sets"]),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if checkpoint["validation"]:
        last = checkpoint["validation"][-1]
        entries.update({f"validation_{key}": f"{value:.4f}" for key, value in last.items() if key != "step"})
    return entries


def safetensors_bytes(tensors, meta):
    """tensors: {name: float32 tensor}, in the order to store them."""
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        blob = tensor.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensor.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    header["__metadata__"] = meta
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def export(checkpoint_path, output_path):
    checkpoint = torch.load(checkpoint_path, map_location="cpu")
    if checkpoint["architecture"] != ARCHITECTURE:
        raise SystemExit(f"{checkpoint_path} is {checkpoint['architecture']}, this code is {ARCHITECTURE}")
    model = FusionUNet()
    model.load_state_dict(checkpoint["model"])  # checks every name and shape against the contract
    data = safetensors_bytes(model.state_dict(), metadata(checkpoint))
    os.makedirs(os.path.dirname(os.path.abspath(output_path)), exist_ok=True)
    with open(output_path + ".tmp", "wb") as f:
        f.write(data)
    os.replace(output_path + ".tmp", output_path)
    print(f"{output_path}: {len(data)} bytes, step {checkpoint['step']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("output")
    args = parser.parse_args()
    export(args.checkpoint, args.output)


if __name__ == "__main__":
    main()
