"""Activation ranges for running the network's coarse levels (1/8 resolution and below) with
8-bit activations and weights, as Swift's HZFusionNet does on CPUs with VNNI.

An 8-bit activation holds 256 steps from 0 to its range (every quantized activation follows a
ReLU or an average of ReLUs, so none is negative). The range of each one is the largest, over
the calibration frames, of the frame's 99.9th percentile: a few rare outliers are clipped rather
than every value losing resolution to them (on the training photos' held-out captures the
largest values cost 0.1 dB on average; the 99.9th percentile costs under 0.01 dB).
"""
import torch
import torch.nn.functional as F

from .model import BLOCK, ENCODER

QUANTILE = 0.999
# Every 97th value: a percentile of millions of values needs only a sample of them.
SAMPLE_STRIDE = 97


def _quantile(tensor):
    return torch.quantile(tensor.flatten()[::SAMPLE_STRIDE].float(), QUANTILE).clamp(min=0).item()


@torch.no_grad()
def activation_ranges(model, frames):
    """{name: range} for every convolution's output (after its ReLU) and for `pool1`, the
    pooled output of the first level (the input of the first 8-bit convolution). `frames`: whole
    frames (1, 3, H, W) with H and W multiples of 64."""
    ranges = {}

    def record(name, value):
        ranges[name] = max(ranges.get(name, 0.0), value)

    def hook(name):
        def after(module, inputs, output):
            record(name, _quantile(F.relu(output)))
            if name == ENCODER[0][-1][0]:
                record("pool1", _quantile(F.avg_pool2d(F.relu(output), 2)))
        return after

    handles = [model.convs[name].register_forward_hook(hook(name)) for name in model.convs]
    try:
        for frame in frames:
            model(frame)
    finally:
        for handle in handles:
            handle.remove()
    return ranges
