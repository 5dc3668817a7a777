"""The classical fusion the network must beat, as Swift's `ClassicalFusion` computes it: a
two-band detail transfer, W's low band plus T's high band where T is usable,

    Y = G(Y_src) + (1 − M)·(Ỹ_ref − G(Ỹ_ref)) + M·(Y_src − G(Y_src)),   M = M_occ, σ_G = 1.5 px.
"""
from .filters import gaussian_blur

BAND_SPLIT_SIGMA = 1.5


def classical_fusion(inputs, sigma=BAND_SPLIT_SIGMA):
    """inputs: (B, 3, H, W) = (Y_src, Ỹ_ref, M_occ); returns (B, 1, H, W)."""
    source, reference, occlusion = inputs[:, 0:1], inputs[:, 1:2], inputs[:, 2:3]
    source_low = gaussian_blur(source, sigma)
    reference_detail = reference - gaussian_blur(reference, sigma)
    return source_low + (1 - occlusion) * reference_detail + occlusion * (source - source_low)
