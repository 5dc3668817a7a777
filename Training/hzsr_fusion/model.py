"""The fusion network of pipeline step 7, the one contract between training here and inference
in Swift (`Sources/HZFusionNet`): layer names, shapes and order must match both sides.

Input (B, 3, H, W): Y_src (W cropped and resampled to T's grid), Ỹ_ref (T warped onto it, colour
matched; Y_src where T has nothing) and M_occ (1 where T must not be used), all in [0, 1].
Output (B, 1, H, W): Y_fusion = Y_src + a learned residual.

Sized for a 12 MP frame on two cores (oneDNN reaches about 100 GFLOP/s there): a 4×4 space-to-depth turns the
full-resolution work into 48 channels at a quarter of the resolution, so no convolution ever runs
at full resolution, and the widths stay small where the pixels are many. About 3.5 kFLOP per
output pixel, 43 GFLOP at 12 MP.
"""
import torch
from torch import nn
import torch.nn.functional as F

BLOCK = 4  # space-to-depth factor at the input, depth-to-space at the output
LEVELS = 5  # resolutions 1/4 … 1/64
MULTIPLE = BLOCK * 2 ** (LEVELS - 1)  # H and W must be multiples of this (64)

# (name, input channels, output channels, ReLU after): every convolution is 3×3, stride 1,
# zero padding 1, with bias. Encoder level k runs at 1/(4·2^k); each level after the first starts
# with a 2×2 average pooling. Decoder level k upsamples the level below by nearest neighbour ×2
# and concatenates [upsampled, encoder skip] along channels before its convolution.
ENCODER = [
    [("enc0", 3 * BLOCK * BLOCK, 16, True)],
    [("enc1", 16, 32, True)],
    [("enc2a", 32, 48, True), ("enc2b", 48, 48, True)],
    [("enc3a", 48, 64, True), ("enc3b", 64, 64, True)],
    [("enc4", 64, 64, True)],
]
DECODER = [  # from the bottom up: level 3, 2, 1, 0
    ("dec3", 64 + 64, 64, True),
    ("dec2", 64 + 48, 48, True),
    ("dec1", 48 + 32, 24, True),
    ("dec0", 24 + 16, 16, True),
]
HEAD = ("head", 16, BLOCK * BLOCK, False)  # then depth-to-space ×4: one residual value per pixel

ARCHITECTURE = "hzsr-fusion-unet-1"


def conv_layers():
    """Every convolution in execution order."""
    return [layer for level in ENCODER for layer in level] + DECODER + [HEAD]


def receptive_radius():
    """How far, in full-resolution pixels, an input pixel can move an output pixel; a tile
    needs at least this much halo for tiling to change nothing."""
    radius, stride = BLOCK - 1, BLOCK
    for level, convs in enumerate(ENCODER):
        if level > 0:
            radius += stride  # 2×2 pooling reaches one more input stride
            stride *= 2
        radius += stride * len(convs)
    for _ in DECODER:
        stride //= 2
        radius += stride  # one 3×3 conv per decoder level at its stride (nearest up adds none)
    radius += stride  # head
    return radius


class FusionUNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleDict({name: nn.Conv2d(cin, cout, 3, padding=1) for name, cin, cout, _ in conv_layers()})
        # The residual starts at zero: an untrained network is the identity on Y_src.
        nn.init.zeros_(self.convs["head"].weight)
        nn.init.zeros_(self.convs["head"].bias)

    def _conv(self, layer, x):
        name, _, _, relu = layer
        y = self.convs[name](x)
        return F.relu(y) if relu else y

    def forward(self, x):
        """x: (B, 3, H, W) with H, W multiples of MULTIPLE."""
        source = x[:, :1]
        h = F.pixel_unshuffle(x, BLOCK)
        skips = []
        for level, convs in enumerate(ENCODER):
            if level > 0:
                h = F.avg_pool2d(h, 2)
            for layer in convs:
                h = self._conv(layer, h)
            skips.append(h)
        for layer, skip in zip(DECODER, reversed(skips[:-1])):
            h = F.interpolate(h, scale_factor=2, mode="nearest")
            h = self._conv(layer, torch.cat([h, skip], dim=1))
        residual = F.pixel_shuffle(self._conv(HEAD, h), BLOCK)
        return source + residual

    def fuse(self, x):
        """Any H, W: pads right and bottom by edge replication to multiples of MULTIPLE, runs,
        crops. Swift does the same, so the two agree on every size."""
        h, w = x.shape[-2:]
        ph, pw = (-h) % MULTIPLE, (-w) % MULTIPLE
        padded = F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x
        return self.forward(padded)[..., :h, :w]


def flops_per_pixel():
    """Multiply–adds ×2 per full-resolution output pixel."""
    total, area = 0.0, 1.0 / BLOCK ** 2
    for level, convs in enumerate(ENCODER):
        if level > 0:
            area /= 4
        total += sum(2 * 9 * cin * cout * area for _, cin, cout, _ in convs)
    for _, cin, cout, _ in DECODER:
        area *= 4
        total += 2 * 9 * cin * cout * area
    _, cin, cout, _ = HEAD
    return total + 2 * 9 * cin * cout * area
