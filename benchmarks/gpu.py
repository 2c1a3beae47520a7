"""GPU throughput: the estimator pass and fine-tuning, float32 and mixed precision, and a full Bonn run on CUDA.

Run from the repo root on a machine with a CUDA GPU:
``.venv/bin/python benchmarks/gpu.py [--device cuda] [--blazepose CKPT] [--repeats 5] [--no-run]``;
writes benchmarks/results/gpu.json and docs/results/gpu.md. Without a CUDA device it prints one line
("no CUDA device: ...") and exits with code 2, writing nothing.

For the embedded checkpoint and, with ``--blazepose``, a BlazePose checkpoint (``vatl blazepose convert``),
on the Bonn video (41 frames 960×540, 164 person instances; ``--video`` for another), in float32 and with ``amp``
(float16 autocast, and a GradScaler for training), the precisions interleaved within each repeat so that a
change of the machine's load affects both alike; the tables give medians of ``--repeats``:

* pass: :func:`vatl.estimator.estimate.estimate` over every sample, samples/s, as a run does it (decoding
  the frames and cutting the crops on the CPU included);
* network: the forward pass alone over crops cut beforehand (batches of 64, host-to-device copies
  included), samples/s: the GPU's share of the pass;
* fine-tuning: :meth:`vatl.estimator.train.Finetuner.train_cache` over 32 labeled samples for 4 epochs
  with augmentation, sample visits/s (the crops are cut beforehand, as an ATL cycle keeps them);
* peak GPU memory of each (``torch.cuda.max_memory_allocated``), the largest over the repeats.

The full run: ``vatl run VIDEO --out TMP --device cuda`` (the default criterion thc+wpu+duw, the full
schedule, the ground truth answering; ``--checkpoint`` for BlazePose), in a fresh process, wall time of
``--run-repeats`` runs (median), in float32 and with ``--amp``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "gpu.json"
DOC = REPO / "docs" / "results" / "gpu.md"
BONN = REPO.parent / "shared" / "data" / "bonn_posetrack" / "posetrack_data" / "val" / "060470979.json"
PRECISIONS = {"float32": False, "amp": True}
TRAIN_SAMPLES, TRAIN_EPOCHS, NETWORK_BATCH = 32, 4, 64


def cuda_problem(device: str) -> str | None:
    """Why ``device`` is not a usable CUDA device (None: it is)."""
    import torch

    if not device.strip().lower().startswith("cuda"):
        return f"--device {device}: this benchmark measures a GPU; give cuda or cuda:N"
    if not torch.cuda.is_available():
        return f"torch {torch.__version__} sees no GPU (torch.cuda.is_available() is False); run this on a GPU machine"
    try:
        index = torch.device(device).index or 0
    except RuntimeError as exc:
        return f"--device {device}: {exc}"
    if index >= torch.cuda.device_count():
        return f"--device {device}: this machine has {torch.cuda.device_count()} CUDA device(s)"
    return None


def load_model(checkpoint: str, video, device: str):
    """The checkpoint on ``device``, for the video's keypoint set (transferred when it predicts another)."""
    from vatl.estimator.checkpoint import load_checkpoint
    from vatl.estimator.transfer import transfer_model

    model = load_checkpoint(checkpoint, device=device)
    if model.keypoint_set.keypoints != video.keypoint_set.keypoints:
        model, _ = transfer_model(model, video.keypoint_set)
    return model


class Timer:
    """Wall seconds and peak GPU memory (MB) of the block, the GPU's queued work included."""

    def __init__(self, device) -> None:
        self.device = device

    def __enter__(self) -> Timer:
        import torch

        torch.cuda.synchronize(self.device)
        torch.cuda.reset_peak_memory_stats(self.device)
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        import torch

        torch.cuda.synchronize(self.device)
        self.seconds = time.perf_counter() - self.start
        self.peak_mb = torch.cuda.max_memory_allocated(self.device) / 2**20


def measure_pass(model, video, amp: bool, device) -> tuple[float, float]:
    from vatl.estimator.estimate import estimate

    with Timer(device) as t:
        estimate(model, video, amp=amp)
    return video.num_samples / t.seconds, t.peak_mb


def measure_network(model, crops, amp: bool, device) -> tuple[float, float]:
    import torch

    from vatl.estimator.device import mixed_precision

    model.eval()
    with Timer(device) as t, torch.inference_mode(), mixed_precision(amp, device):
        for start in range(0, len(crops), NETWORK_BATCH):
            model(model.prepare(crops[start:start + NETWORK_BATCH]))
    return len(crops) / t.seconds, t.peak_mb


def measure_finetune(model, cache, labels, amp: bool, device, seed: int) -> tuple[float, float]:
    import numpy as np

    from vatl.estimator.train import Finetuner

    ft = Finetuner(model, amp=amp)
    rng = np.random.default_rng(seed)
    idx = np.arange(len(cache))
    ft.train_cache(cache, idx[:8], labels[:8], 1, rng)  # warm-up: the optimizer, cuDNN's kernels
    with Timer(device) as t:
        ft.train_cache(cache, idx, labels, TRAIN_EPOCHS, rng)
    return len(idx) * TRAIN_EPOCHS / t.seconds, t.peak_mb


def throughput(checkpoint: str, video, device: str, repeats: int) -> list[dict]:
    """Rows (one per precision) of medians over ``repeats``: pass, network and fine-tuning samples/s."""
    import numpy as np
    import torch

    from vatl.estimator.dataset import CropCache

    dev = torch.device(device)
    probe = load_model(checkpoint, video, device)
    all_crops = CropCache.build(video, probe.input_size)
    crops = all_crops.input_crops(np.arange(video.num_samples))
    labeled = np.flatnonzero(video.visible.any(axis=1))[:TRAIN_SAMPLES]
    cache = CropCache.build(video, probe.input_size, labeled)
    labels = video.keypoints[labeled]
    del probe
    for amp in PRECISIONS.values():  # warm-up of each precision: CUDA context, cuDNN kernels, autocast caches
        measure_pass(load_model(checkpoint, video, device), video, amp, dev)
    samples: dict[str, dict[str, list[float]]] = {p: {} for p in PRECISIONS}
    for r in range(repeats):
        for name, amp in PRECISIONS.items():
            got = samples[name]
            for key, (value, peak) in (
                    ("pass", measure_pass(load_model(checkpoint, video, device), video, amp, dev)),
                    ("network", measure_network(load_model(checkpoint, video, device), crops, amp, dev)),
                    ("finetune", measure_finetune(load_model(checkpoint, video, device), cache, labels, amp, dev, r))):
                got.setdefault(f"{key}_samples_per_s", []).append(value)
                got.setdefault(f"{key}_peak_mb", []).append(peak)
            print(f"{Path(checkpoint).name} {name} repeat {r + 1}/{repeats}: "
                  + ", ".join(f"{k} {v[-1]:.1f}" for k, v in got.items() if k.endswith("per_s")), flush=True)
    rows = []
    for name, got in samples.items():
        row = {"checkpoint": Path(checkpoint).name, "precision": name, "samples": video.num_samples,
               "train_samples": len(labeled), "train_epochs": TRAIN_EPOCHS}
        for key, values in got.items():
            row[key] = round(max(values) if key.endswith("peak_mb") else statistics.median(values), 1)
        rows.append(row)
    return rows


def full_run(video: str, checkpoint: str | None, device: str, repeats: int, amp: bool = False) -> dict:
    """Wall time (median of ``repeats``) of ``vatl run`` on the video, to its end, in a fresh process (with
    ``--amp`` when ``amp``)."""
    import json

    seconds, last = [], {}
    flags = (["--checkpoint", checkpoint] if checkpoint else []) + (["--amp"] if amp else [])
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            command = [sys.executable, "-m", "vatl", "run", video, "--out", str(Path(tmp) / "run"), "--device", device]
            command += flags
            start = time.perf_counter()
            done = subprocess.run(command, cwd=REPO, capture_output=True, text=True)
            seconds.append(time.perf_counter() - start)
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
                raise RuntimeError(f"{' '.join(command)} failed (exit {done.returncode}): {tail[0]}")
            last = json.loads((Path(tmp) / "run" / "results.json").read_text())
    return {"checkpoint": "embedded default" if checkpoint is None else Path(checkpoint).name,
            "precision": "amp" if amp else "float32",
            "command": " ".join(["vatl", "run", video, "--out", "RUN", "--device", device, *flags]),
            "repeats": repeats, "wall_seconds_median": round(statistics.median(seconds), 1),
            "wall_seconds": [round(s, 1) for s in seconds], "cycles": len(last.get("cycles", [])),
            "ALC": last.get("summary", {}).get("ALC")}


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return f"load average {os.getloadavg()}"


def markdown(result: dict) -> str:
    env = result["environment"]
    lines = ["# The estimator on a GPU", "",
             f"Measured {result['date']} with `.venv/bin/python {result['command']}` on {env['gpu']} "
             f"(CUDA {env['cuda']}, cuDNN {env['cudnn']}, torch {env['torch']}, {env['cpus']} CPUs). "
             f"Medians of {result['repeats']} repeats, float32 and amp interleaved; video {result['video']} "
             f"({result['rows'][0]['samples']} samples). Load before: `{env['uptime_before']}`; after: "
             f"`{env['uptime_after']}`.", "",
             "| checkpoint | precision | pass samples/s | network samples/s | fine-tuning samples/s | "
             "peak MB (pass / network / fine-tuning) |",
             "|---|---|---:|---:|---:|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['checkpoint']} | {r['precision']} | {r['pass_samples_per_s']} | "
                     f"{r['network_samples_per_s']} | {r['finetune_samples_per_s']} | "
                     f"{r['pass_peak_mb']} / {r['network_peak_mb']} / {r['finetune_peak_mb']} |")
    lines += ["", "pass: `estimate()` over every sample (frame decoding and crop cutting on the CPU included); "
              "network: the forward pass alone over crops cut beforehand (batches of 64); fine-tuning: "
              f"`Finetuner.train_cache` over {result['rows'][0]['train_samples']} labeled samples × "
              f"{result['rows'][0]['train_epochs']} epochs with augmentation (sample visits/s). amp: float16 "
              "autocast (and a GradScaler for training), `estimate(..., amp=True)` / `Finetuner(..., amp=True)`.", ""]
    if result["runs"]:
        lines += [f"## A full run on {Path(result['video']).name}", "",
                  "`vatl run` to its end (default criterion thc+wpu+duw, the full schedule, the ground truth "
                  "answering), float32, in a fresh process:", "",
                  "| checkpoint | command | wall s (median) | runs | cycles | ALC |", "|---|---|---:|---:|---:|---:|"]
        for run in result["runs"]:
            alc = "—" if run["ALC"] is None else f"{run['ALC']:.2f}"
            lines.append(f"| {run['checkpoint']} | `{run['command']}` | {run['wall_seconds_median']} | "
                         f"{run['repeats']} | {run['cycles']} | {alc} |")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="the GPU: cuda (default) or cuda:N")
    parser.add_argument("--blazepose", default=None, metavar="CKPT",
                        help="also measure this BlazePose checkpoint (from `vatl blazepose convert`)")
    parser.add_argument("--video", default=str(BONN), help="video JSON (default: the Bonn video)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--run-repeats", type=int, default=1, help="full runs per checkpoint (default 1)")
    parser.add_argument("--no-run", action="store_true", help="skip the full runs")
    args = parser.parse_args()
    problem = cuda_problem(args.device)
    if problem is not None:
        print(f"no CUDA device: {problem}", file=sys.stderr)
        return 2
    if not Path(args.video).is_file():
        print(f"video {args.video} not found: give one with --video", file=sys.stderr)
        return 2
    if args.blazepose is not None and not Path(args.blazepose).is_file():
        print(f"BlazePose checkpoint {args.blazepose} not found (make one with `vatl blazepose convert --out ...`)",
              file=sys.stderr)
        return 2
    import torch

    from vatl.data.formats import load_video, require_samples
    from vatl.estimator.checkpoint import default_checkpoint_path
    from vatl.fileio import write_atomic, write_json

    torch.set_num_threads(1)  # as vatl's commands by default (docs/results/threads.md)
    before = uptime()
    video = require_samples(load_video(args.video))
    checkpoints = [str(default_checkpoint_path())] + ([args.blazepose] if args.blazepose else [])
    rows = [row for ckpt in checkpoints for row in throughput(ckpt, video, args.device, args.repeats)]
    runs = [] if args.no_run else [full_run(args.video, None if ckpt == checkpoints[0] else ckpt, args.device,
                                            args.run_repeats, amp) for ckpt in checkpoints for amp in (False, True)]
    dev = torch.device(args.device)
    result = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": " ".join(["benchmarks/gpu.py", *sys.argv[1:]]),
              "video": args.video, "repeats": args.repeats, "rows": rows, "runs": runs,
              "environment": {"gpu": torch.cuda.get_device_name(dev), "cuda": torch.version.cuda,
                              "cudnn": torch.backends.cudnn.version(), "torch": torch.__version__,
                              "python": platform.python_version(), "cpus": os.cpu_count(),
                              "uptime_before": before, "uptime_after": uptime()}}
    write_json(RESULTS, result)
    write_atomic(DOC, markdown(result))
    print(DOC.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
