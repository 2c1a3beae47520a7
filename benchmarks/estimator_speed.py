"""Estimator throughput on this machine: inference and training samples/s (median of repeats).

Run from the repo root::

    .venv/bin/python benchmarks/estimator_speed.py [--threads 1 2] [--models cpu_small fastpose_cpu_small ...]
        [--checkpoints blazepose_pt21.pt ...] [--merge]

``--models``: untrained presets of any backend (SimpleBaseline's ``cpu_small``, ``simplebaseline_res*``,
FastPose's ``fastpose_*``: throughput does not depend on the weights); ``--checkpoints``: checkpoint files
(e.g. a BlazePose one from ``vatl blazepose convert``). Writes benchmarks/results/estimator_speed.json and
the table of benchmarks/results/estimator_speed.md (the README's estimator table); ``--merge`` keeps the
rows of the existing JSON that this run does not measure again. The machine is shared: the 1-minute load
average after each row is recorded with it. With 2 threads on oversubscribed cores, OpenMP's spin-waiting
makes torch up to ~20× slower; ``OMP_WAIT_POLICY=PASSIVE`` (set before Python starts) avoids it, and so does
1 thread.

Measured per model:
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
from vatl.estimator.backends import build_preset, preset_names
from vatl.estimator.checkpoint import load_checkpoint
from vatl.estimator.estimate import estimate
from vatl.estimator.train import Finetuner, finetune_config
from vatl.fileio import write_atomic, write_json

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


def make_model(name: str, video: Video):
    """A preset (untrained, for the video's keypoint set) or a checkpoint file (``.pt`` / ``.pth`` path)."""
    if name in preset_names():
        return build_preset(name, video.keypoint_set, seed=0).eval()
    return load_checkpoint(name, keypoint_set=video.keypoint_set)


def bench_model(name: str, video: Video, repeats: int) -> dict:
    model = make_model(name, video)
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

    ft = Finetuner(model, finetune_config(model))  # the settings ATL fine-tunes the model with
    rng = np.random.default_rng(0)
    idx = np.flatnonzero(video.visible.any(axis=1))
    ft.train_epochs(video, idx[:32], video.keypoints[idx[:32]], 1, rng)  # warm-up
    train = timed(lambda: ft.train_epochs(video, idx, video.keypoints[idx], 1, rng), repeats)
    sub = idx[:50]
    epoch50 = timed(lambda: ft.train_epochs(video, sub, video.keypoints[sub], 1, rng), repeats)
    med = statistics.median
    return {
        "model": name if name in preset_names() else Path(name).name, "backend": model.model_type,
        "config": model.config.to_dict().get("name", ""),
        "input_size": list(model.input_size), "heatmap_size": list(model.heatmap_size),
        "parameters": sum(p.numel() for p in model.parameters()), "feature_dim": model.feature_dim,
        "forward_inference_samples_per_s": round(64 / med(fwd), 1),
        "estimate_pass_samples_per_s": round(n / med(passes), 1),
        "estimate_pass_150_samples_s": round(150 * med(passes) / n, 3),
        "estimate_first_pass_s": round(first, 3),
        "finetune_samples_per_s": round(len(idx) / med(train), 1),
        "finetune_epoch_50_samples_s": round(med(epoch50), 3),
        "repeats": repeats, "load_average_1min_after": round(os.getloadavg()[0], 2),
    }


def markdown_table(rows: list[dict]) -> str:
    """One line per model: input, parameters, feature length, and samples/s per thread count."""
    threads = sorted({r["threads"] for r in rows})
    by_model: dict[str, dict[int, dict]] = {}
    for r in rows:
        by_model.setdefault(r["model"], {})[r["threads"]] = r
    head = ["backend", "model", "input (W×H)", "heatmap", "parameters", "feature"]
    for t in threads:
        head += [f"pass /s ({t} thr)", f"fine-tune /s ({t} thr)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 4 + "---:|" * (len(head) - 4)]
    for model, per_thread in by_model.items():
        r = next(iter(per_thread.values()))
        cells = [r.get("backend", "simplebaseline"), f"`{model}`", "×".join(map(str, r["input_size"])),
                 "×".join(map(str, r["heatmap_size"])), f"{r['parameters'] / 1e6:.2f} M", str(r["feature_dim"])]
        for t in threads:
            x = per_thread.get(t)
            cells += [f"{x['estimate_pass_samples_per_s']:g}", f"{x['finetune_samples_per_s']:g}"] if x else ["—", "—"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch thread counts to measure")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", nargs="*", default=["cpu_small"], choices=preset_names(), metavar="PRESET",
                        help=f"untrained presets: {', '.join(preset_names())}")
    parser.add_argument("--checkpoints", nargs="*", default=[], type=Path, help="checkpoint files to measure too")
    parser.add_argument("--merge", action="store_true", help="keep the rows of --out not measured again")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    names = [*args.models, *map(str, args.checkpoints)]
    with tempfile.TemporaryDirectory() as tmp:
        video = benchmark_video(Path(tmp))
        rows = []
        for threads in args.threads:
            torch.set_num_threads(threads)
            for name in names:
                row = {"threads": threads, **bench_model(name, video, args.repeats)}
                rows.append(row)
                print(f"{row['model']:22s} threads {threads}  forward {row['forward_inference_samples_per_s']:7.1f}/s  "
                      f"pass {row['estimate_pass_samples_per_s']:7.1f}/s ({row['estimate_pass_150_samples_s']:.2f} s "
                      f"per 150)  train {row['finetune_samples_per_s']:6.1f}/s  "
                      f"epoch(50) {row['finetune_epoch_50_samples_s']:.2f} s  (load {row['load_average_1min_after']})")
    if args.merge and args.out.is_file():
        measured = {(r["model"], r["threads"]) for r in rows}
        kept = [r for r in json.loads(args.out.read_text())["results"] if (r["model"], r["threads"]) not in measured]
        rows = kept + rows
    rows.sort(key=lambda r: r["threads"])
    result = {
        "machine": {"cpus": os.cpu_count(), "torch": torch.__version__,
                    "python": platform.python_version(), "processor": platform.processor() or platform.machine(),
                    "load_average_1min": round(os.getloadavg()[0], 2),
                    "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "(unset)")},
        "video": {"name": video.name, "samples": video.num_samples},
        "results": rows,
    }
    write_json(args.out, result, indent=2)
    table = args.out.with_suffix(".md")
    write_atomic(table, f"Estimator throughput on video {video.name} ({video.num_samples} samples), samples/s "
                        "(median of repeats): the estimator pass and fine-tuning with augmentation, batch 32. "
                        f"Written by `benchmarks/{Path(__file__).name}`; the JSON next to it has the load average "
                        "after each row.\n\n" + markdown_table(rows))
    print(markdown_table(rows))
    print(f"written {args.out} and {table}")


if __name__ == "__main__":
    main()
