#!/usr/bin/env python3
"""Our dense flow against OpenCV's DIS (MEDIUM preset) on exactly the same inputs.

    Scripts/compare-flow.py .cache/sets/eval/flow

reads what `hzsr flow SET` wrote for each capture (the flow's input pair at flow resolution,
the reference already brought onto the source by our coarse model, and that model as a
displacement; the ground-truth flow; the visible
pixels; our flow and our timing), runs OpenCV's DIS MEDIUM on the same pair with the same
number of threads, and prints one row per method: endpoint error against the ground truth over
the visible pixels, and the median time of one flow.

Needs numpy and opencv-python-headless (pip install opencv-python-headless).
"""
import json
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

THREADS = 2  # this project's machine; our flow uses every core it has, as does OpenCV here
RUNS = 5


def opencv_flow(source, reference, runs):
    """DIS MEDIUM on 8-bit luma (what OpenCV takes); returns the flow and its median time in ms."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    a = np.clip(np.rint(source * 255), 0, 255).astype(np.uint8)
    b = np.clip(np.rint(reference * 255), 0, 255).astype(np.uint8)
    times, flow = [], None
    for _ in range(runs):
        start = time.perf_counter()
        flow = dis.calc(a, b, None)
        times.append((time.perf_counter() - start) * 1000)
    return flow, statistics.median(times)


def followed_by_prewarp(residual, prewarp):
    """x + r(x), then the coarse model (prewarp is its displacement): x -> x + r(x) + d(x + r(x))."""
    height, width = residual.shape[:2]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    map_x, map_y = xs + residual[..., 0], ys + residual[..., 1]
    moved = cv2.remap(prewarp, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return residual + moved


def endpoint_error(flow, truth, visible):
    error = np.sqrt(((flow - truth) ** 2).sum(axis=2))
    return float(error[visible].mean())


def main(folder):
    folder = Path(folder)
    report = json.loads((folder / "flow.json").read_text())
    cv2.setNumThreads(THREADS)
    rows = {"hzsr DIS": ([], report["flow_ms"]), "OpenCV DIS MEDIUM": ([], [])}
    for capture in sorted(p for p in folder.iterdir() if p.is_dir()):
        source, reference = np.load(capture / "source.npy"), np.load(capture / "reference.npy")
        truth, visible = np.load(capture / "truth.npy"), np.load(capture / "visible.npy").astype(bool)
        prewarp = np.load(capture / "prewarp.npy")
        residual, milliseconds = opencv_flow(source, reference, RUNS)
        theirs = followed_by_prewarp(residual, prewarp)
        rows["OpenCV DIS MEDIUM"][0].append(endpoint_error(theirs, truth, visible))
        rows["OpenCV DIS MEDIUM"][1].append(milliseconds)
        rows["hzsr DIS"][0].append(endpoint_error(np.load(capture / "ours.npy"), truth, visible))
    width, height = report["flow_size"]
    print(f"{len(rows['hzsr DIS'][0])} captures, flow at {width}x{height}, {THREADS} threads, OpenCV {cv2.__version__}")
    print("| method | EPE mean (px) | EPE median (px) | time median (ms) |")
    print("|:--|--:|--:|--:|")
    for method, (errors, times) in rows.items():
        print(f"| {method} | {statistics.mean(errors):.3f} | {statistics.median(errors):.3f} | {statistics.median(times):.1f} |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
