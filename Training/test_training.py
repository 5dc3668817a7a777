"""Unit tests of the training code: `/usr/bin/python3 -m unittest discover -s Training`."""
import json
import os
import struct
import tempfile
import unittest
from argparse import Namespace

import numpy as np
import torch

from hzsr_fusion.classical import classical_fusion
from hzsr_fusion.data import Capture, CropSampler
from hzsr_fusion.filters import gaussian_blur, gaussian_kernel
from hzsr_fusion.initialisation import initialise
from calibrate import calibrate
from pack import pack, unpack, window_of
from hzsr_fusion.model import ARCHITECTURE, FusionUNet
from hzsr_fusion.quantization import activation_ranges
from hzsr_fusion.safetensors_io import load_file, load_metadata, save_file
from train import learning_rate_factor


def naive_blur(plane, sigma):
    """Edge-replicated Gaussian blur, one output pixel at a time."""
    kernel = np.array(gaussian_kernel(sigma))
    radius = len(kernel) // 2
    padded = np.pad(plane, radius, mode="edge")
    height, width = plane.shape
    return np.array([[(np.outer(kernel, kernel) * padded[y:y + 2 * radius + 1, x:x + 2 * radius + 1]).sum()
                      for x in range(width)] for y in range(height)])


def fake_capture(height=80, width=96, seed=0):
    """A capture whose target is its Y_src plane, so a crop's pairing can be checked."""
    rng = np.random.default_rng(seed)
    inputs = rng.random((height, width, 3), dtype=np.float32)
    return Capture("fake", inputs, inputs[..., 0].copy(), np.ones((height, width), np.uint8), inputs[..., 1].copy())


class FilterTests(unittest.TestCase):
    def test_blur_matches_naive_edge_replicated_convolution(self):
        plane = np.random.default_rng(1).random((13, 17)).astype(np.float32)
        blurred = gaussian_blur(torch.from_numpy(plane)[None, None], 1.5)[0, 0].numpy()
        np.testing.assert_allclose(blurred, naive_blur(plane, 1.5), atol=1e-6)

    def test_classical_fusion_takes_w_where_t_is_unusable(self):
        inputs = torch.rand(1, 3, 20, 24)
        inputs[:, 2] = 1
        torch.testing.assert_close(classical_fusion(inputs), inputs[:, :1])

    def test_classical_fusion_swaps_the_high_band(self):
        inputs = torch.rand(1, 3, 20, 24)
        inputs[:, 2] = 0
        source, reference = inputs[:, :1], inputs[:, 1:2]
        expected = gaussian_blur(source, 3.0) + reference - gaussian_blur(reference, 3.0)
        torch.testing.assert_close(classical_fusion(inputs), expected)


class DataTests(unittest.TestCase):
    def test_crops_keep_inputs_and_target_together_and_repeat_with_the_seed(self):
        first = CropSampler([fake_capture()], crop=64, batch=6, seed=3).next_batch()
        again = CropSampler([fake_capture()], crop=64, batch=6, seed=3).next_batch()
        inputs, base, target = first
        self.assertEqual(tuple(inputs.shape), (6, 3, 64, 64))
        torch.testing.assert_close(target, inputs[:, :1])
        torch.testing.assert_close(base, inputs[:, 1:2])
        torch.testing.assert_close(inputs, again[0])

    def test_crops_cut_from_resident_planes_are_the_same(self):
        captures = [fake_capture(), fake_capture(height=72, seed=1)]
        host = CropSampler(captures, crop=64, batch=16, seed=5, resident=False).next_batch()
        resident = CropSampler(captures, crop=64, batch=16, seed=5, resident=True).next_batch()
        for a, b in zip(host, resident):
            torch.testing.assert_close(a, b)

    def test_captures_smaller_than_the_crop_are_skipped(self):
        captures = [fake_capture(), fake_capture(height=40)]
        self.assertEqual(CropSampler(captures, crop=64, batch=1, seed=0).skipped(captures), 1)


class PackTests(unittest.TestCase):
    def test_unpacked_set_holds_the_planes_to_ten_bits(self):
        rng = np.random.default_rng(7)
        inputs = rng.random((40, 56, 3), dtype=np.float32)
        target = rng.random((40, 56), dtype=np.float32)
        coverage = (rng.random((40, 56)) > 0.3).astype(np.uint8)
        with tempfile.TemporaryDirectory() as folder:
            original, copy = os.path.join(folder, "set"), os.path.join(folder, "copy")
            os.makedirs(os.path.join(original, "0000"))
            with open(os.path.join(original, "set.json"), "w") as manifest:
                json.dump({"captures": ["0000"], "split": "train"}, manifest)
            for name, array in (("fusion_inputs", inputs), ("target_y", target), ("tele_coverage", coverage)):
                np.save(os.path.join(original, "0000", f"{name}.npy"), array)
            pack(original, os.path.join(folder, "set.pack"), side=32)
            unpack(os.path.join(folder, "set.pack"), copy)
            window = window_of(target.shape, 32, 0)
            unpacked = {name: np.load(os.path.join(copy, "0000", f"{name}.npy"))
                        for name in ("fusion_inputs", "target_y", "tele_coverage")}
        self.assertEqual(unpacked["target_y"].shape, (32, 32))
        np.testing.assert_allclose(unpacked["target_y"], target[window], atol=0.5 / 1023 + 1e-6)
        np.testing.assert_allclose(unpacked["fusion_inputs"][..., :2], inputs[window][..., :2], atol=0.5 / 1023 + 1e-6)
        np.testing.assert_allclose(unpacked["fusion_inputs"][..., 2], inputs[window][..., 2], atol=0.5 / 255 + 1e-6)
        np.testing.assert_array_equal(unpacked["tele_coverage"], coverage[window])


class ModelTests(unittest.TestCase):
    def test_initialised_network_is_the_identity_on_y_src(self):
        torch.manual_seed(0)
        model, inputs = FusionUNet(), torch.rand(2, 3, 64, 64)
        initialise(model, inputs)
        torch.testing.assert_close(model(inputs), inputs[:, :1])

    def test_learning_rate_warms_up_then_decays_to_a_hundredth(self):
        args = Namespace(warmup=10, steps=110, minutes=None)
        self.assertAlmostEqual(learning_rate_factor(args, 0), 0.1)
        self.assertAlmostEqual(learning_rate_factor(args, 10), 1.0)
        self.assertAlmostEqual(learning_rate_factor(args, 110), 0.01)

    def test_learning_rate_decays_over_the_minutes_when_they_end_first(self):
        args = Namespace(warmup=10, steps=1_000_000, minutes=2)
        self.assertAlmostEqual(learning_rate_factor(args, 10, seconds=0), 1.0)
        self.assertAlmostEqual(learning_rate_factor(args, 500, seconds=60), 0.01 + 0.99 * 0.5, places=4)
        self.assertAlmostEqual(learning_rate_factor(args, 900, seconds=120), 0.01)


class ExportTests(unittest.TestCase):
    def test_safetensors_round_trip(self):
        state = FusionUNet().state_dict()
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "model.safetensors")
            save_file(state, path, {"architecture": ARCHITECTURE})
            with open(path, "rb") as file:
                (length,) = struct.unpack("<Q", file.read(8))
                header = json.loads(file.read(length))
            loaded = load_file(path)
        self.assertEqual(length % 8, 0)
        self.assertEqual(header["__metadata__"], {"architecture": ARCHITECTURE})
        self.assertEqual(set(loaded), set(state))
        for name, values in loaded.items():
            np.testing.assert_array_equal(values, state[name].numpy())


class QuantizationTests(unittest.TestCase):
    def test_ranges_cover_every_convolution_and_the_first_pooling(self):
        torch.manual_seed(0)
        model = FusionUNet().eval()
        frame = torch.rand(1, 3, 64, 128)
        ranges = activation_ranges(model, [frame, 0.5 * frame])
        self.assertEqual(set(ranges), set(model.convs) | {"pool1"})
        with torch.no_grad():
            enc0 = torch.relu(model.convs["enc0"](torch.nn.functional.pixel_unshuffle(frame, 4)))
        # The larger frame's 99.9th percentile: above most values, at most the largest.
        self.assertLessEqual(ranges["enc0"], enc0.max().item() + 1e-6)
        self.assertGreater(ranges["enc0"], enc0.quantile(0.99).item())

    def test_calibration_adds_ranges_and_keeps_weights_and_metadata(self):
        state = FusionUNet().state_dict()
        with tempfile.TemporaryDirectory() as folder:
            weights = os.path.join(folder, "model.safetensors")
            save_file(state, weights, {"architecture": ARCHITECTURE})
            capture_set = os.path.join(folder, "set")
            os.makedirs(os.path.join(capture_set, "0000"))
            capture = fake_capture(64, 70)
            for name, array in [("fusion_inputs", capture.inputs), ("target_y", capture.target), ("tele_coverage", capture.coverage)]:
                np.save(os.path.join(capture_set, "0000", name + ".npy"), array)
            for split in ("eval", "train"):
                with open(os.path.join(capture_set, "set.json"), "w") as manifest:
                    json.dump({"split": split, "captures": ["0000"]}, manifest)
                if split == "eval":
                    with self.assertRaises(SystemExit):
                        calibrate(weights, [capture_set])
                else:
                    ranges = calibrate(weights, [capture_set])
            metadata = load_metadata(weights)
            self.assertEqual(metadata["architecture"], ARCHITECTURE)
            self.assertEqual(json.loads(metadata["activation_ranges"]), ranges)
            for name, values in load_file(weights).items():
                np.testing.assert_array_equal(values, state[name].numpy())


if __name__ == "__main__":
    unittest.main()
