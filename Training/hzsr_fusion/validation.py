"""Scores on whole frames of a capture set, inside T's frame (`tele_coverage`), the way
`hzsr eval` scores the pipeline: luma PSNR and SSIM of Y_src (the W digital zoom), of the
classical fusion and of the network, against the clean target; medians over captures.

Outputs are clamped to [0, 1] first, as the pipeline's 8-bit output is. These scores are of
Y_fusion itself, before adaptive blending (step 8), so they bound what the pipeline can show.
"""
import math
import statistics

import torch

from .classical import classical_fusion, fused
from .data import full_frame, load_set
from .filters import gaussian_kernel, separable_filter

SSIM_SIGMA, SSIM_C1, SSIM_C2 = 1.5, 0.01 ** 2, 0.03 ** 2


def psnr(output, target, mask):
    mse = (((output - target) ** 2) * mask).sum() / mask.sum()
    return 10 * math.log10(1 / mse.item())


def ssim(a, b, mask):
    """Wang et al. 2004 with an 11-tap Gaussian window, σ = 1.5, over the pixels whose window
    lies inside the frame, mean weighted by `mask` (Swift's `ssim`)."""
    kernel = gaussian_kernel(SSIM_SIGMA)
    radius = len(kernel) // 2

    def local_mean(x):
        return separable_filter(x, kernel)

    mean_a, mean_b = local_mean(a), local_mean(b)
    var_a = local_mean(a * a) - mean_a ** 2
    var_b = local_mean(b * b) - mean_b ** 2
    covariance = local_mean(a * b) - mean_a * mean_b
    similarity = ((2 * mean_a * mean_b + SSIM_C1) * (2 * covariance + SSIM_C2)
                  / ((mean_a ** 2 + mean_b ** 2 + SSIM_C1) * (var_a + var_b + SSIM_C2)))
    inner = mask[..., radius:-radius, radius:-radius]
    return ((similarity * inner).sum() / inner.sum()).item()


def _scores(output, target, coverage):
    output = output.clamp(0, 1)
    return {"psnr": psnr(output, target, coverage), "ssim": ssim(output, target, coverage)}


class Validator:
    """Holds a set's frames and the fixed methods' scores, so each validation only runs the
    network."""

    def __init__(self, folder, device="cpu"):
        self.folder = folder
        self.frames = [tuple(plane.to(device) for plane in full_frame(capture)) for capture in load_set(folder)]
        self.bases = [classical_fusion(inputs) for inputs, _, _ in self.frames]
        self.baselines = {"source": [], "classical": []}
        for (inputs, target, coverage), base in zip(self.frames, self.bases):
            self.baselines["source"].append(_scores(inputs[:, :1], target, coverage))
            self.baselines["classical"].append(_scores(base, target, coverage))

    @torch.no_grad()
    def run(self, model):
        """{method: {"psnr": median, "ssim": median}} for source, classical and network."""
        was_training = model.training
        model.eval()
        network = [_scores(fused(model.fuse, inputs, base), target, coverage)
                   for (inputs, target, coverage), base in zip(self.frames, self.bases)]
        model.train(was_training)
        return {name: _medians(scores) for name, scores in {**self.baselines, "network": network}.items()}


def _medians(scores):
    return {key: statistics.median(s[key] for s in scores) for key in ("psnr", "ssim")}


def format_scores(scores):
    return "  ".join(f"{name} {s['psnr']:.2f} dB / {s['ssim']:.4f}" for name, s in scores.items())
