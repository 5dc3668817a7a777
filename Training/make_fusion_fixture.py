"""Fixtures that pin Swift's oneDNN inference (Sources/HZFusionNet) to PyTorch's
`FusionUNet.fuse()`, written to Tests/HZFusionNetTests/Fixtures:

- fusion-fixture.safetensors: seeded random weights, scaled so that every layer's activations stay
  of order one and the residual is about 0.1 (an untrained network's zero head would test nothing),
  with the activation ranges 8-bit runs need, measured on the input (`hzsr_fusion/quantization.py`);
- fusion-input.npy: uint8 (H, W, 3), channels Y_src, Y_ref, M_occ, all synthetic (no photo);
- fusion-expected.npy: float32 (H, W), `fuse()` of the input divided by 255.

H × W is 250 × 310, not a multiple of 64, so the edge-replication padding is tested too.

Run with Debian's python3 (PyTorch 1.13): /usr/bin/python3 Training/make_fusion_fixture.py
"""
import argparse
from pathlib import Path

import json

import numpy as np
import torch
import torch.nn.functional as F

from hzsr_fusion.model import ARCHITECTURE, MULTIPLE, FusionUNet
from hzsr_fusion.quantization import activation_ranges
from hzsr_fusion.safetensors_io import load_file, save_file

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests/HZFusionNetTests/Fixtures"
HEIGHT, WIDTH = 250, 310
RESIDUAL_STD = 0.1


def fixture_model(x):
    """Seeded weights: PyTorch's default init scaled by √6 (its uniform bound gives a variance of
    1/(3·fan_in); ReLU layers keep activations of order one at 2/fan_in), and a random head scaled
    so that the residual on `x` has standard deviation RESIDUAL_STD."""
    torch.manual_seed(1)
    model = FusionUNet().eval()
    with torch.no_grad():
        for name, conv in model.convs.items():
            if name == "head":
                bound = 1 / conv.weight[0].numel() ** 0.5
                conv.weight.uniform_(-bound, bound)
                conv.bias.uniform_(-bound, bound)
            else:
                conv.weight.mul_(6 ** 0.5)
        scale = RESIDUAL_STD / (model.fuse(x) - x[:, :1]).std()
        model.convs["head"].weight.mul_(scale)
        model.convs["head"].bias.mul_(scale)
    return model


def fixture_input():
    """Y_src: smooth shading plus fine texture; Y_ref: the same shifted by (3, 2) px with noise, as a
    warp that is slightly off would leave it; M_occ: a soft blob. Quantised to 8 bits."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:HEIGHT + 2, 0:WIDTH + 3].astype(np.float32)
    texture = F.avg_pool2d(torch.from_numpy(rng.normal(size=(1, 1, HEIGHT + 4, WIDTH + 5))).float(), 3, stride=1)[0, 0].numpy()
    scene = 0.5 + 0.25 * np.sin(x / 23) * np.cos(y / 17) + 0.1 * (x - y) / WIDTH + 0.08 * texture
    source = scene[2:, 3:]
    reference = scene[:-2, :-3] + rng.normal(scale=0.02, size=source.shape)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    occlusion = 1.5 * np.exp(-((xx - 0.7 * WIDTH) ** 2 + (yy - 0.3 * HEIGHT) ** 2) / (2 * 25.0 ** 2))
    planes = np.stack([source, reference, occlusion], axis=-1)
    return np.clip(np.rint(planes * 255), 0, 255).astype(np.uint8)


def write_weights(model, path, purpose, ranges):
    tensors = model.state_dict()
    metadata = {"architecture": ARCHITECTURE, "purpose": purpose, "activation_ranges": json.dumps(ranges, sort_keys=True)}
    save_file(tensors, path, metadata)
    for name, array in load_file(path).items():
        assert np.array_equal(array, tensors[name].numpy()), name


def main():
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    torch.set_num_threads(1)  # deterministic sums

    pixels = fixture_input()
    x = torch.from_numpy(pixels).permute(2, 0, 1)[None].float() / 255
    model = fixture_model(x)
    with torch.no_grad():
        expected = model.fuse(x)[0, 0].numpy()
    padded = F.pad(x, (0, (-WIDTH) % MULTIPLE, 0, (-HEIGHT) % MULTIPLE), mode="replicate")
    ranges = activation_ranges(model, [padded])
    FIXTURES.mkdir(parents=True, exist_ok=True)
    write_weights(model, FIXTURES / "fusion-fixture.safetensors", "test fixture: seeded random weights", ranges)
    np.save(FIXTURES / "fusion-input.npy", pixels)
    np.save(FIXTURES / "fusion-expected.npy", expected.astype(np.float32))
    residual = expected - pixels[..., 0] / 255
    print(f"residual: std {residual.std():.3f}, max |.| {np.abs(residual).max():.3f}")


if __name__ == "__main__":
    main()
