"""Time of keypoint_ap (stock pycocotools COCOeval, in-memory COCO objects) for video sizes met in practice.

Run from the repo root: ``.venv/bin/python benchmarks/metrics_ap.py``; writes benchmarks/results/metrics_ap.json.
"""

from __future__ import annotations

import json
import platform
import time
from pathlib import Path

import numpy as np

from vatl.metrics import keypoint_ap
from vatl.skeletons import POSETRACK21

# (label, frames, people per frame)
CASES = (("N=150 (30 frames x 5)", 30, 5), ("N=2000 (150 frames x 13-14)", 150, 2000 / 150),
         ("N=2000 crowded (40 frames x 50)", 40, 50))
REPEATS = 5


def synthetic(frames: int, per_frame: float, rng: np.random.Generator):
    n = int(round(frames * per_frame))
    k = POSETRACK21.num_keypoints
    frame = np.sort(rng.integers(0, frames, n))
    centre = rng.uniform(0, 1000, (n, 1, 2))
    xy = centre + rng.uniform(-50, 50, (n, k, 2))
    gt = np.concatenate([xy, np.where(POSETRACK21.annotated_slots, 2.0, 0.0)[None, :, None].repeat(n, 0)], 2)
    boxes = np.concatenate([xy.min(1), xy.max(1) - xy.min(1)], axis=1)
    pred = gt.copy()
    pred[..., :2] += rng.normal(0, 8, (n, k, 2))
    return gt, boxes, frame, pred, rng.uniform(size=n)


def main() -> None:
    rng = np.random.default_rng(0)
    rows = []
    for label, frames, per_frame in CASES:
        args = synthetic(frames, per_frame, rng)
        keypoint_ap(*args, POSETRACK21.sigma_array)  # warm-up (imports)
        times = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            keypoint_ap(*args, POSETRACK21.sigma_array)
            times.append(time.perf_counter() - t0)
        rows.append({"case": label, "N": len(args[0]), "median_s": float(np.median(times)),
                     "min_s": float(np.min(times))})
        print(f"{label:34s} median {np.median(times):.3f} s")
    out = Path(__file__).resolve().parent / "results" / "metrics_ap.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"benchmark": "keypoint_ap", "repeats": REPEATS, "python": platform.python_version(),
                               "machine": platform.processor() or platform.machine(), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
