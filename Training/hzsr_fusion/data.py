"""Training data: random crops of the captures of `hzsr simulate --set` sets whose
`fusion_inputs.npy` were written by `hzsr fusion-inputs` (layout: Sources/HZHarness/CaptureSet.swift).

Each capture gives the network's input, `fusion_inputs.npy` (H, W, 3) float32 = (Y_src, Ỹ_ref,
M_occ) made by the pipeline's own alignment, its target, `target_y.npy` (H, W) float32 (the clean
scene in W's geometry), and `tele_coverage.npy` (H, W) uint8 (1 inside T's frame). The arrays are
memory-mapped, so a set costs no memory until its crops are read, and the page cache shares them
between runs.
"""
import json
import os
from dataclasses import dataclass

import numpy as np
import torch

from .classical import classical_fusion


@dataclass
class Capture:
    name: str
    inputs: np.ndarray  # (H, W, 3) float32, memory-mapped
    target: np.ndarray  # (H, W) float32
    coverage: np.ndarray  # (H, W) uint8
    base: np.ndarray  # (H, W) float32: classical fusion of the whole frame, the network's base

    @property
    def size(self):
        return self.target.shape


def load_set(folder):
    """Every capture of one set, in the manifest's order. Fails naming the file when
    `hzsr fusion-inputs` has not run on the set yet."""
    with open(os.path.join(folder, "set.json")) as manifest:
        names = json.load(manifest)["captures"]
    captures = []
    for name in names:
        path = os.path.join(folder, name)
        inputs = os.path.join(path, "fusion_inputs.npy")
        if not os.path.exists(inputs):
            raise FileNotFoundError(f"{inputs} is missing: run `hzsr fusion-inputs {folder}` first")
        planes = np.load(inputs, mmap_mode="r")
        captures.append(Capture(
            name=path,
            inputs=planes,
            target=np.load(os.path.join(path, "target_y.npy"), mmap_mode="r"),
            coverage=np.load(os.path.join(path, "tele_coverage.npy"), mmap_mode="r"),
            base=whole_frame_base(planes),
        ))
    return captures


def whole_frame_base(inputs):
    """Classical fusion of a whole (H, W, 3) frame, as the pipeline computes it: on crops its
    Gaussian would see replicated crop edges instead of the frame's pixels."""
    frame = torch.from_numpy(np.ascontiguousarray(inputs.transpose(2, 0, 1)))[None]
    return classical_fusion(frame)[0, 0].numpy()


def load_sets(folders):
    return [capture for folder in folders for capture in load_set(folder)]


def split_set(folder):
    """The `split` the set was simulated from ("train" or "eval"), so training can refuse
    evaluation photos."""
    with open(os.path.join(folder, "set.json")) as manifest:
        return json.load(manifest)["split"]


def full_frame(capture):
    """One capture as whole-frame tensors: inputs (1, 3, H, W), target and coverage (1, 1, H, W)."""
    inputs = torch.from_numpy(np.ascontiguousarray(capture.inputs.transpose(2, 0, 1)))[None]
    target = torch.from_numpy(np.array(capture.target))[None, None]
    coverage = torch.from_numpy(np.array(capture.coverage, dtype=np.float32))[None, None]
    return inputs, target, coverage


class CropSampler:
    """Endless batches of random square crops with a random flip and 90° rotation, the same for
    inputs and target (the dihedral group: 8 orientations, none of which the physics prefers).

    A capture is drawn with probability proportional to its pixel count, so every pixel of the
    set is equally likely to be seen. A crop must have at least `min_coverage` of its pixels
    inside T's frame (up to `tries` draws, then the last is kept): T's detail is what the network
    learns to transfer, and most of a frame is covered anyway, so this mostly drops the few crops
    that would teach nothing but W's fallback. Deterministic for a given seed and set.

    On an accelerator (`device`), every capture's planes are held there (`resident`) and crops
    are cut there: copying each batch's crops through the host would starve it. The draws and
    the crops are the same either way.
    """

    def __init__(self, captures, crop, batch, seed, min_coverage=0.5, tries=8, device="cpu", resident=None):
        self.captures = [c for c in captures if min(c.size) >= crop]
        if not self.captures:
            raise ValueError(f"no capture is at least {crop}×{crop}")
        areas = np.array([c.size[0] * c.size[1] for c in self.captures], dtype=np.float64)
        self.weights = areas / areas.sum()
        self.crop, self.batch = crop, batch
        self.min_coverage, self.tries = min_coverage, tries
        self.rng = np.random.default_rng(seed)
        device = torch.device(device)
        if resident is None:
            resident = device.type != "cpu"
        whole = (slice(None), slice(None))
        self.resident = [torch.from_numpy(_planes(c, whole)).to(device) for c in self.captures] if resident else None

    def skipped(self, captures):
        """How many of `captures` are too small for a crop (for the log)."""
        return len(captures) - len(self.captures)

    def _window(self, capture):
        height, width = capture.size
        for _ in range(self.tries):
            y = int(self.rng.integers(0, height - self.crop + 1))
            x = int(self.rng.integers(0, width - self.crop + 1))
            window = (slice(y, y + self.crop), slice(x, x + self.crop))
            if capture.coverage[window].mean() >= self.min_coverage:
                break
        return window

    def _crop(self):
        index = self.rng.choice(len(self.captures), p=self.weights)
        window = self._window(self.captures[index])
        turns, flip = int(self.rng.integers(4)), bool(self.rng.integers(2))
        if self.resident:
            planes = torch.rot90(self.resident[index][(slice(None), *window)], k=turns, dims=(1, 2))
            return planes.flip(2) if flip else planes
        planes = np.rot90(_planes(self.captures[index], window), k=turns, axes=(1, 2))
        return torch.from_numpy(np.ascontiguousarray(planes[:, :, ::-1] if flip else planes))

    def next_batch(self):
        """(inputs (B, 3, c, c), base (B, 1, c, c), target (B, 1, c, c)) float32 tensors on the
        sampler's device."""
        batch = torch.stack([self._crop() for _ in range(self.batch)])
        return batch[:, :3], batch[:, 3:4], batch[:, 4:]


def _planes(capture, window):
    """(5, h, w) float32: the three inputs, the base and the target inside window, the planes
    a crop transforms together."""
    return np.concatenate([capture.inputs[window].transpose(2, 0, 1), capture.base[window][None],
                           capture.target[window][None]])
