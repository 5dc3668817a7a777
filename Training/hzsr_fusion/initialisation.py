"""The starting weights for training. model.py initialises with PyTorch's defaults and the
residual head at zero; the head stays at zero here, so step 0 is still the identity on Y_src,
but every other layer starts differently, for two measured reasons.

With PyTorch's defaults and Adam (1e-3, also 3e-4 and 1e-4 with warm-up), the ReLUs of `dec0`,
the layer the head reads, all switched off within 10–100 steps, and the network stayed the
identity for good (no gradient passes a dead ReLU):

- The features first see the luma level that Y_src and Ỹ_ref share, which says nothing about
  the residual. The zero head's first Adam steps are sign-sized and all alike (every feature is
  ≥ 0), so the residual overshoots in DC, and the gradient then pushes every `dec0` unit down
  at once. So `enc0` starts as detectors of T's detail relative to W's: its weights on the
  Ỹ_ref block are the negation of those on the Y_src block, zero-mean over the block. The head
  then reads features that carry the very signal the classical fusion transfers (a high-pass
  of Ỹ_ref − Y_src), and follows detail instead of DC. M_occ's weights start at zero; the
  gradient teaches the network to gate by it.
- That signal is small (Ỹ_ref − Y_src is ~0.02), and PyTorch's default shrinks activations by
  about √3 per layer besides, so pre-activations are ~0.01 and a few full-size Adam steps on a
  bias switch a unit off. So each ReLU layer, in execution order, is scaled to unit-variance
  pre-activations on a batch of training crops (LSUV, Mishkin & Matas 2016), from Kaiming-normal
  weights (He et al. 2015) and zero biases.
"""
import torch
from torch import nn

from .model import BLOCK, conv_layers

SOURCE, REFERENCE, OCCLUSION = 0, 1, 2  # input planes, in pixel_unshuffle's channel order


@torch.no_grad()
def initialise(model, inputs):
    """In place. inputs: a (B, 3, H, W) batch of training crops. Draws from torch's global
    generator (seeded by the caller)."""
    relu_layers = [name for name, _, _, relu in conv_layers() if relu]
    for name in relu_layers:
        nn.init.kaiming_normal_(model.convs[name].weight, nonlinearity="relu")
        nn.init.zeros_(model.convs[name].bias)
    _detail_difference(model.convs["enc0"].weight)
    for name in relu_layers:
        conv = model.convs[name]
        conv.weight /= _output_std(model, conv, inputs)


def _detail_difference(weight):
    """enc0's (out, 3·BLOCK², 3, 3) weights → ± the same zero-mean filter on Ỹ_ref and Y_src."""
    planes = weight.view(weight.shape[0], 3, BLOCK * BLOCK, *weight.shape[2:])
    detail = planes[:, REFERENCE] - planes[:, REFERENCE].mean(dim=(1, 2, 3), keepdim=True)
    planes[:, REFERENCE] = detail
    planes[:, SOURCE] = -detail
    planes[:, OCCLUSION] = 0


def _output_std(model, conv, inputs):
    """The standard deviation of one convolution's output when the model runs on inputs."""
    outputs = []
    hook = conv.register_forward_hook(lambda _module, _inputs, output: outputs.append(output))
    model(inputs)
    hook.remove()
    return outputs[0].std()
