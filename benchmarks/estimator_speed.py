"""Estimator throughput on this machine: inference and training samples/s (median of repeats).

Run from the repo root: ``.venv/bin/python benchmarks/estimator_speed.py [--threads 1 2] [--models cpu_small ...]``;
writes benchmarks/results/estimator_speed.json. The machine is shared: the 1-minute load average at the
end is recorded with the figures. With 2 threads on oversubscribed cores, OpenMP's spin-waiting makes torch
up to ~20× slower; ``OMP_WAIT_POLICY=PASSIVE`` (set before Python starts) avoids it, and so does 1 thread.

Measured per model preset:
    * ``forward_inference``: model forward only (random crops, batch 64, as the pass feeds them), samples/s;
    * ``estimate_pass``: the full estimator pass (frames decoded in order, crops cut per batch, forward,
      decode, affine back) over a video, samples/s, and the seconds of one pass over 150 samples (the ATL
      cycle's estimate phase); ``estimate_first_pass_s``: the first pass (every pass decodes its frames);
    * ``finetune``: training samples/s with augmentation (batch 32) and the seconds of one fine-tuning epoch
      on 50 samples (what one ACFT epoch costs early in an ATL run).
The video is the Bonn PoseTrack clip (164 samples) when present, else a generated synthetic one.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from vatl.data.video import Video
from vatl.estimator.estimate import estimate
from vatl.estimator.models import build_model
from vatl.estimator.train import Finetuner, TrainConfig

OUT = Path(__file__).resolve().parent / "results" / "estimator_speed.json"
BONN = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "bonn_posetrack" / "posetrack_data" / "val" \
    / "060470979.json"


def benchmark_video(tmp: Path) -> Video:
    if BONN.is_file():
        from vatl.data.formats import load_video

        return load_video(BONN)
    from vatl.data.formats import load_video
    from vatl.data.synthetic import run_jobs, video_jobs

    jobs = video_jobs(tmp, "source", 1, (40, 40), 384, 288, seed=0, split="val")
    run_jobs(jobs, workers=1)
    return load_video(jobs[0].json_path)


def timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def bench_model(name: str, video: Video, repeats: int) -> dict:
    model = build_model(name, video.keypoint_set, seed=0).eval()
    w, h = model.input_size
    x = model.prepare(np.random.default_rng(0).integers(0, 256, (64, h, w, 3), dtype=np.uint8))
    with torch.inference_mode():
        model(x)
        fwd = timed(lambda: model(x), repeats)
    n = video.num_samples
    t0 = time.perf_counter()
    estimate(model, video)  # first pass (warm-up)
    first = time.perf_counter() - t0
    passes = timed(lambda: estimate(model, video), repeats)

    ft = Finetuner(model, TrainConfig())
    rng = np.random.default_rng(0)
    idx = np.flatnonzero(video.visible.any(axis=1))
    ft.train_epochs(video, idx[:32], video.keypoints[idx[:32]], 1, rng)  # warm-up
    train = timed(lambda: ft.train_epochs(video, idx, video.keypoints[idx], 1, rng), repeats)
    sub = idx[:50]
    epoch50 = timed(lambda: ft.train_epochs(video, sub, video.keypoints[sub], 1, rng), repeats)
    med = statistics.median
    return {
        "model": name, "input_size": list(model.input_size), "heatmap_size": list(model.heatmap_size),
        "parameters": sum(p.numel() for p in model.parameters()), "feature_dim": model.feature_dim,
        "forward_inference_samples_per_s": round(64 / med(fwd), 1),
        "estimate_pass_samples_per_s": round(n / med(passes), 1),
        "estimate_pass_150_samples_s": round(150 * med(passes) / n, 3),
        "estimate_first_pass_s": round(first, 3),
        "finetune_samples_per_s": round(len(idx) / med(train), 1),
        "finetune_epoch_50_samples_s": round(med(epoch50), 3),
        "repeats": repeats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch thread counts to measure")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=["cpu_small"])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        video = benchmark_video(Path(tmp))
        rows = []
        for threads in args.threads:
            torch.set_num_threads(threads)
            for name in args.models:
                row = {"threads": threads, **bench_model(name, video, args.repeats)}
                rows.append(row)
                print(f"{name:22s} threads {threads}  forward {row['forward_inference_samples_per_s']:7.1f}/s  "
                      f"pass {row['estimate_pass_samples_per_s']:7.1f}/s ({row['estimate_pass_150_samples_s']:.2f} s "
                      f"per 150)  train {row['finetune_samples_per_s']:6.1f}/s  "
                      f"epoch(50) {row['finetune_epoch_50_samples_s']:.2f} s")
    result = {
        "machine": {"cpus": os.cpu_count(), "torch": torch.__version__,
                    "python": platform.python_version(), "processor": platform.processor() or platform.machine(),
                    "load_average_1min": round(os.getloadavg()[0], 2),
                    "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "(unset)")},
        "video": {"name": video.name, "samples": video.num_samples},
        "results": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
