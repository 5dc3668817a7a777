"""The classical fusion the network must beat, as Swift's `ClassicalFusion` computes it: a
two-band detail transfer, W's low band plus T's high band where T is usable,

    Y = G(Y_src) + (1 − M)·(Ỹ_ref − G(Ỹ_ref)) + M·(Y_src − G(Y_src)),   M = M_occ,

with σ_G = 3 I_src pixels: the config's default `fusion.band_split_sigma` of 1.5 W pixels at the
training sets' zoom ratio r = 2. It is also the network's base: the network learns a residual on
top of it (`fused`), and the exported model names the σ (`base_sigma`) so that Swift's
`NetworkFusion` adds the residual to the same base.
"""
from .filters import gaussian_blur

BAND_SPLIT_SIGMA = 3.0


def classical_fusion(inputs, sigma=BAND_SPLIT_SIGMA):
    """inputs: (B, 3, H, W) = (Y_src, Ỹ_ref, M_occ); returns (B, 1, H, W)."""
    source, reference, occlusion = inputs[:, 0:1], inputs[:, 1:2], inputs[:, 2:3]
    source_low = gaussian_blur(source, sigma)
    reference_detail = reference - gaussian_blur(reference, sigma)
    return source_low + (1 - occlusion) * reference_detail + occlusion * (source - source_low)


def fused(model, inputs, base):
    """Y_fusion: the classical base plus the network's residual (its output minus Y_src).
    `model` is FusionUNet.forward or .fuse; base is classical_fusion(inputs) of the whole frame."""
    return base + model(inputs) - inputs[:, :1]
