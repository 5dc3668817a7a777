#!/usr/bin/python3
"""Adds the activation ranges that 8-bit inference needs to a fusion weights file, in place.

    /usr/bin/python3 Training/calibrate.py Sources/HZFusionNet/Resources/fusion-unet.safetensors \
        .cache/sets/train

The ranges (`hzsr_fusion/quantization.py`) are measured on the whole frames of the given capture
sets (training photos only: calibrating on the evaluation set would tune on it) and stored as the
`activation_ranges` metadata entry, JSON. The weights are unchanged. Swift runs the coarse levels
in 8 bits only when a file has them.
"""
import argparse
import json
import os

import torch
import torch.nn.functional as F

from hzsr_fusion.data import full_frame, load_set, split_set
from hzsr_fusion.model import MULTIPLE, FusionUNet
from hzsr_fusion.quantization import activation_ranges
from hzsr_fusion.safetensors_io import load_file, load_metadata, save_file


def padded(frame):
    height, width = frame.shape[-2:]
    return F.pad(frame, (0, (-width) % MULTIPLE, 0, (-height) % MULTIPLE), mode="replicate")


def calibrate(weights_path, sets):
    for folder in sets:
        if split_set(folder) != "train":
            raise SystemExit(f"{folder} was simulated from the {split_set(folder)} split: calibrate on training photos only")
    model = FusionUNet()
    model.load_state_dict({name: torch.from_numpy(array.copy()) for name, array in load_file(weights_path).items()})
    model.eval()
    frames = (padded(full_frame(capture)[0]) for folder in sets for capture in load_set(folder))
    ranges = activation_ranges(model, frames)
    metadata = {**load_metadata(weights_path), "activation_ranges": json.dumps(ranges, sort_keys=True)}
    save_file(dict(model.state_dict()), weights_path + ".tmp", metadata)
    os.replace(weights_path + ".tmp", weights_path)
    print(f"{weights_path}: activation ranges of {len(ranges)} tensors from {', '.join(sets)}")
    return ranges


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights")
    parser.add_argument("sets", nargs="+")
    args = parser.parse_args()
    calibrate(args.weights, args.sets)


if __name__ == "__main__":
    main()
