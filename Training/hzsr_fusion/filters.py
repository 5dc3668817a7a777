"""Image filters shared by the classical baseline, the losses and validation, for batches of
(B, 1, H, W) planes.

The separable filters are sums of shifted slices, tap by tap, as in Swift's `gaussianBlur`:
PyTorch's CPU convolution with one input channel takes a slow generic path, several times
slower than these elementwise sums, forward and backward.
"""
import math

import torch
import torch.nn.functional as F


def gaussian_kernel(sigma):
    """Normalised 1-D Gaussian weights out to ⌈3σ⌉ (at least 1), as Swift's `gaussianKernel`,
    so the classical baseline here matches `ClassicalFusion` tap for tap."""
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float64)
    weights = torch.exp(-offsets ** 2 / (2 * sigma * sigma))
    return (weights / weights.sum()).tolist()


def separable_filter(planes, kernel):
    """The kernel along rows, then along columns, over the positions where it lies wholly
    inside: the result is len(kernel) − 1 smaller in each dimension."""
    taps = len(kernel)
    width = planes.shape[-1] - taps + 1
    rows = sum(weight * planes[..., :, tap:tap + width] for tap, weight in enumerate(kernel))
    height = planes.shape[-2] - taps + 1
    return sum(weight * rows[..., tap:tap + height, :] for tap, weight in enumerate(kernel))


def gaussian_blur(planes, sigma):
    """Separable Gaussian blur with edge samples repeated (Swift's `gaussianBlur`), same size."""
    kernel = gaussian_kernel(sigma)
    radius = len(kernel) // 2
    return separable_filter(F.pad(planes, (radius, radius, radius, radius), mode="replicate"), kernel)
