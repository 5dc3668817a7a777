#!/usr/bin/python3
"""Writes a training checkpoint's network as the safetensors file Swift's HZFusionNet loads.

    /usr/bin/python3 Training/export.py .cache/training/run/checkpoint.pt \
        Sources/HZFusionNet/Resources/fusion-unet.safetensors

Tensors: the state_dict keys (`convs.<name>.weight` OIHW, `convs.<name>.bias`), float32,
written by `hzsr_fusion/safetensors_io.py`. `__metadata__` (strings, as the format requires):
architecture, the classical base's σ, steps, seed, sets, date, and the last validation's median
PSNR/SSIM per method.
"""
import argparse
import datetime
import os

import torch

from hzsr_fusion.classical import BAND_SPLIT_SIGMA
from hzsr_fusion.model import ARCHITECTURE, FusionUNet
from hzsr_fusion.safetensors_io import save_file


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


def export(checkpoint_path, output_path):
    checkpoint = torch.load(checkpoint_path, map_location="cpu")
    if checkpoint["architecture"] != ARCHITECTURE:
        raise SystemExit(f"{checkpoint_path} is {checkpoint['architecture']}, this code is {ARCHITECTURE}")
    model = FusionUNet()
    model.load_state_dict(checkpoint["model"])  # checks every name and shape against the contract
    os.makedirs(os.path.dirname(os.path.abspath(output_path)), exist_ok=True)
    save_file(model.state_dict(), output_path + ".tmp", metadata(checkpoint))
    os.replace(output_path + ".tmp", output_path)  # the shipped file is never half written
    print(f"{output_path}: {os.path.getsize(output_path)} bytes, step {checkpoint['step']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("output")
    args = parser.parse_args()
    export(args.checkpoint, args.output)


if __name__ == "__main__":
    main()
