"""The training loss: three terms, none of which needs downloaded weights.

    loss = 1.0·Charbonnier(Y_fusion, Y_target)
         + 0.5·Σ_k L1(Lap_k(Y_fusion), Lap_k(Y_target)),   k = 0, 1, 2
         + 0.5·L1(LP(Y_fusion), LP(Y_src))

- Charbonnier, √(d² + ε²) with ε = 10⁻³ (a smooth L1): the fidelity term. It keeps L1's
  tolerance of the few pixels no method can get right (residual misalignment, occluder
  edges) while staying differentiable at zero, and drives the luma PSNR the evaluation
  reports.
- Laplacian pyramid L1 on three bands (the differences between successive Gaussian levels,
  finest first): the detail term. A pixel loss lets a network settle for a slightly soft
  average wherever T is uncertain; comparing the bands themselves rewards detail that is where
  the target has it, which is T's whole contribution, and is what SSIM measures. It replaces
  the paper's VGG perceptual loss, whose weights cannot be downloaded here.
- Brightness: L1 between 8×8 box averages of Y_fusion and of Y_src, the paper's brightness
  consistency. Brightness and colour must come from W, detail only from T; T is a different
  device (gain, offset, colour response), and on real rigs more so than in our simulator. In
  the simulated data W's low band is within ~0.001 of the target's, so this term agrees with
  the fidelity term and only keeps the network from learning T's tone where the simulator
  under-models the difference.

The weights were chosen so that, for the identity network (Y_fusion = Y_src), the detail term
is about as large as the fidelity term, and the brightness term is zero there and grows only
when the output's tone drifts.
"""
import torch
import torch.nn.functional as F

from .filters import gaussian_blur

CHARBONNIER_EPSILON = 1e-3
PYRAMID_LEVELS = 3
PYRAMID_SIGMA = 1.0
BRIGHTNESS_BLOCK = 8
WEIGHTS = {"charbonnier": 1.0, "laplacian": 0.5, "brightness": 0.5}


def charbonnier(output, target, epsilon=CHARBONNIER_EPSILON):
    return torch.sqrt((output - target) ** 2 + epsilon ** 2).mean()


def laplacian_pyramid(planes, levels=PYRAMID_LEVELS):
    """Band-pass planes, finest first: each level minus its Gaussian blur, then the blur
    halved for the next level."""
    bands = []
    for _ in range(levels):
        low = gaussian_blur(planes, PYRAMID_SIGMA)
        bands.append(planes - low)
        planes = F.avg_pool2d(low, 2)
    return bands


def laplacian_l1(output, target):
    """The pyramid is linear, so the bands of the difference are the differences of the bands:
    one pyramid instead of two."""
    return sum(band.abs().mean() for band in laplacian_pyramid(output - target))


def brightness(output, source):
    return F.avg_pool2d(output - source, BRIGHTNESS_BLOCK).abs().mean()


def fusion_loss(output, target, inputs, weights=WEIGHTS):
    """output, target: (B, 1, H, W); inputs: (B, 3, H, W). Returns (total, {term: value})
    with the unweighted terms detached, for the log (tensors, so that a GPU is not waited for)."""
    terms = {
        "charbonnier": charbonnier(output, target),
        "laplacian": laplacian_l1(output, target),
        "brightness": brightness(output, inputs[:, :1]),
    }
    total = sum(weights[name] * value for name, value in terms.items())
    return total, {name: value.detach() for name, value in terms.items()}
