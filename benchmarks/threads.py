"""Torch threads against a busy machine: fine-tuning and estimator-pass throughput at 1 and 2 threads.

Run from the repo root: ``.venv/bin/python benchmarks/threads.py [--repeats 5] [--checkpoint CKPT ...]``;
writes benchmarks/results/threads.json and docs/results/threads.md.

Each measurement runs in a fresh process (``torch.set_num_threads`` before any work, as ``vatl run
--threads`` does), on a synthetic video, in two conditions: *as is* (whatever else the machine runs, its
load average recorded) and *busy* (one extra CPU-bound process spinning beside it for the whole
measurement, as when two runs or another job share the two cores). Thread counts are interleaved
within each repeat so that a change of load affects both alike; the table gives medians and the ratio
2 threads / 1 thread (above 1: two threads are faster).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "threads.json"
DOC = REPO / "docs" / "results" / "threads.md"

MEASURE = r"""
import json, sys, time
import numpy as np, torch
threads, checkpoint, video_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
torch.set_num_threads(threads)
from vatl.data.formats import load_video
from vatl.estimator.checkpoint import load_checkpoint
from vatl.estimator.estimate import estimate
from vatl.estimator.train import Finetuner
video = load_video(video_path)
model = load_checkpoint(checkpoint)
idx = np.flatnonzero(video.visible.any(axis=1))[:48]
ft = Finetuner(model)
rng = np.random.default_rng(0)
ft.train_epochs(video, idx[:8], video.keypoints[idx[:8]], 1, rng)  # warm-up
t = time.perf_counter(); ft.train_epochs(video, idx, video.keypoints[idx], 2, rng); train = time.perf_counter() - t
t = time.perf_counter(); estimate(model, video); passed = time.perf_counter() - t
print(json.dumps({"train_samples_per_s": 2 * len(idx) / train, "pass_samples_per_s": video.num_samples / passed}))
"""


def spin(stop_at: float) -> None:
    """Keep one core busy until ``stop_at`` (time.time())."""
    x = 0
    while time.time() < stop_at:
        x = (x * 1103515245 + 12345) % 2147483648


def measure(threads: int, checkpoint: str, video: str) -> dict:
    out = subprocess.run([sys.executable, "-c", MEASURE, str(threads), checkpoint, video], cwd=REPO,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def synthetic_video(folder: Path) -> str:
    from vatl.data.synthetic.generate import run_jobs, video_jobs

    jobs = video_jobs(folder, "source", videos=1, frames=16, width=384, height=288, seed=11)
    run_jobs(jobs, workers=1)
    return str(jobs[0].json_path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--checkpoint", nargs="*", default=None, help="checkpoints (default: the embedded one)")
    args = parser.parse_args()
    from vatl.estimator.checkpoint import default_checkpoint_path

    checkpoints = args.checkpoint or [str(default_checkpoint_path())]
    ctx = multiprocessing.get_context("spawn")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        video = synthetic_video(Path(tmp))
        for checkpoint in checkpoints:
            for condition in ("as is", "busy"):
                samples: dict[int, list[dict]] = {1: [], 2: []}
                loads = []
                for _ in range(args.repeats):
                    for threads in (1, 2):
                        spinner = None
                        if condition == "busy":
                            spinner = ctx.Process(target=spin, args=(time.time() + 600,))
                            spinner.start()
                        loads.append(os.getloadavg()[0])
                        try:
                            samples[threads].append(measure(threads, checkpoint, video))
                        finally:
                            if spinner is not None:
                                spinner.terminate()
                                spinner.join()
                row = {"checkpoint": Path(checkpoint).name, "condition": condition,
                       "load_average_1min_median": round(statistics.median(loads), 2)}
                for key in ("train_samples_per_s", "pass_samples_per_s"):
                    for threads in (1, 2):
                        row[f"{key}@{threads}"] = round(statistics.median(s[key] for s in samples[threads]), 1)
                    row[f"{key}_ratio_2_over_1"] = round(row[f"{key}@2"] / row[f"{key}@1"], 2)
                rows.append(row)
                print(row, flush=True)
    result = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": " ".join(["benchmarks/threads.py", *sys.argv[1:]]),
              "cpus": os.cpu_count(), "repeats": args.repeats, "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
              "rows": rows}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    lines = ["# Torch threads on a busy machine", "",
             f"Measured {result['date']} with `.venv/bin/python {result['command']}` on {result['cpus']} CPUs "
             f"(medians of {args.repeats} interleaved repeats, each in a fresh process; fine-tuning: 2 epochs "
             "over 48 samples with augmentation; pass: the estimator over a 16-frame synthetic video). "
             "'busy': one extra CPU-bound process beside the measurement. The load average column is the "
             "machine's 1-minute load when each measurement started (other jobs included).", "",
             "| checkpoint | condition | load | train 1 thr | train 2 thr | ratio | pass 1 thr | pass 2 thr | ratio |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['checkpoint']} | {r['condition']} | {r['load_average_1min_median']} | "
                     f"{r['train_samples_per_s@1']} | {r['train_samples_per_s@2']} | "
                     f"{r['train_samples_per_s_ratio_2_over_1']} | {r['pass_samples_per_s@1']} | "
                     f"{r['pass_samples_per_s@2']} | {r['pass_samples_per_s_ratio_2_over_1']} |")
    lines += ["", "Samples per second; ratio = 2 threads / 1 thread (above 1: two threads are faster).", ""]
    DOC.write_text("\n".join(lines))
    print(DOC.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
