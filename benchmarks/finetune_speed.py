"""Fine-tuning throughput: the published ACFT steps against a frozen encoder and packed epochs.

Run from the repo root: ``.venv/bin/python benchmarks/finetune_speed.py [--checkpoint CKPT ...] [--repeats 5]``;
writes benchmarks/results/finetune_speed.json and docs/results/finetune_speed.md.

For each checkpoint (default: the embedded one and the embedded FastPose; add a BlazePose checkpoint
from ``vatl blazepose convert``) and each training-set size M (8: an early ATL cycle's Q ∪ R; 32: a full
batch), it times ``Finetuner.train_epochs`` over 4 epochs with augmentation, one torch thread, in
these settings, interleaved within each repeat so that a change of the machine's load affects all alike:

* ``published``: every parameter group trained, one step per batch of each epoch (vatl's default);
* ``freeze=backbone``: the encoder left as it is (``TrainConfig.freeze``): its backward pass is skipped;
* ``pack_epochs``: when M < the batch size, one step takes several epochs' samples (``TrainConfig.pack_epochs``).

Samples/s counts sample visits (M × epochs / seconds); the ratio is against ``published``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "finetune_speed.json"
DOC = REPO / "docs" / "results" / "finetune_speed.md"
SETTINGS = {"published": {}, "freeze=backbone": {"freeze": ("backbone",)}, "pack_epochs": {"pack_epochs": True}}
EPOCHS = 4


def synthetic_video(folder: Path):
    from vatl.data.formats import load_video
    from vatl.data.synthetic.generate import run_jobs, video_jobs

    jobs = video_jobs(folder, "source", videos=1, frames=16, width=384, height=288, seed=11)
    run_jobs(jobs, workers=1)
    return load_video(jobs[0].json_path)


def timed(model, config, video, idx, rng) -> float:
    from vatl.estimator.train import Finetuner

    ft = Finetuner(model, config)
    t = time.perf_counter()
    ft.train_epochs(video, idx, video.keypoints[idx], EPOCHS, rng)
    return len(idx) * EPOCHS / (time.perf_counter() - t)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", nargs="*", default=None)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from vatl.estimator.checkpoint import ASSETS, default_checkpoint_path, load_checkpoint
    from vatl.estimator.train import finetune_config

    torch.set_num_threads(1)
    checkpoints = args.checkpoint or [str(default_checkpoint_path()), str(ASSETS / "fastpose_cpu_small.pt")]
    rows = []
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        video = synthetic_video(Path(tmp))
        labeled = np.flatnonzero(video.visible.any(axis=1))
        for checkpoint in checkpoints:
            base_model = load_checkpoint(checkpoint)
            base_state = {k: v.clone() for k, v in base_model.state_dict().items()}
            base = finetune_config(base_model)
            for m in (8, 32):
                idx = labeled[:m]
                speeds: dict[str, list[float]] = {name: [] for name in SETTINGS}
                timed(base_model, base, video, idx[:4], np.random.default_rng(0))  # warm-up
                for r in range(args.repeats):
                    for name, override in SETTINGS.items():
                        base_model.load_state_dict(base_state)
                        speeds[name].append(timed(base_model, replace(base, **override), video, idx,
                                                  np.random.default_rng(r)))
                    loads.append(os.getloadavg()[0])
                row = {"checkpoint": Path(checkpoint).name, "samples": m, "batch_size": base.batch_size}
                for name in SETTINGS:
                    row[name] = round(statistics.median(speeds[name]), 2)
                    row[f"{name}_ratio"] = round(row[name] / row["published"], 2)
                rows.append(row)
                print(row, flush=True)
    result = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "command": " ".join([".venv/bin/python benchmarks/finetune_speed.py", *sys.argv[1:]]),
              "epochs": EPOCHS, "repeats": args.repeats, "threads": 1,
              "load_average_1min": {"min": min(loads), "median": statistics.median(loads), "max": max(loads)},
              "rows": rows}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    la = result["load_average_1min"]
    lines = ["# Fine-tuning throughput", "",
             f"Measured {result['date']} with `{result['command']}`: {EPOCHS} epochs with augmentation, one torch "
             f"thread, medians of {args.repeats} interleaved repeats; the machine's 1-minute load average was "
             f"{la['min']:.1f}–{la['max']:.1f} (median {la['median']:.1f}; other jobs were running). Sample visits "
             "per second; ratio = against `published` (every group trained, one step per batch of each epoch).", "",
             "| checkpoint | M | published | freeze=backbone | ratio | pack_epochs | ratio |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['checkpoint']} | {r['samples']} | {r['published']} | {r['freeze=backbone']} | "
                     f"{r['freeze=backbone_ratio']} | {r['pack_epochs']} | {r['pack_epochs_ratio']} |")
    lines.append("")
    DOC.write_text("\n".join(lines))
    print(DOC.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
