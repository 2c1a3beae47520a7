"""Wall time of full default ATL runs per cycle phase (estimate, evaluate, select, retrain).

Runs the default criterion (THC+WPU+DUW) with the embedded checkpoint on one synthetic target video of
about 150 samples and on the real Bonn video (if ../shared/data is present), and writes their per-cycle
tables and phase totals to docs/results/atl_loop.md (+ benchmarks/results/atl_loop.json).

    .venv/bin/python benchmarks/atl_loop.py [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import torch

from vatl.atl.config import ATLConfig
from vatl.atl.oracle import SimulatedOracle
from vatl.atl.session import ATLSession
from vatl.bench.report import cycle_table_markdown, phase_times
from vatl.data.formats import load_video
from vatl.data.synthetic.benchmark_set import IMAGE_SIZE
from vatl.data.synthetic.generate import run_jobs, video_jobs
from vatl.estimator.checkpoint import default_checkpoint_path, load_checkpoint

REPO = Path(__file__).resolve().parents[1]
BONN = REPO / ".." / "shared" / "data" / "bonn_posetrack" / "posetrack_data" / "val" / "060470979.json"


def timed_run(video_path: Path, out: Path) -> tuple[dict, float]:
    video = load_video(video_path)
    start = time.perf_counter()
    session = ATLSession(video, load_checkpoint(default_checkpoint_path()), ATLConfig(), out)
    result = session.run(SimulatedOracle(video))
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    work = Path(tempfile.mkdtemp(prefix="vatl_atl_loop_"))
    jobs = video_jobs(work / "data", "gym", videos=1, frames=40, width=IMAGE_SIZE[0], height=IMAGE_SIZE[1],
                      seed=1, name_prefix="loop_gym")
    run_jobs(jobs, workers=1)
    videos = {"synthetic gym video": jobs[0].json_path}
    if BONN.is_file():
        videos["Bonn 060470979 (real)"] = BONN
    lines = ["# Full ATL runs: per-cycle tables and wall time per phase", "",
             f"Default settings (THC+WPU+DUW, α = 250, θ = 0.6, SC_All in report mode), the embedded CPU checkpoint, "
             f"simulated annotation; torch {torch.__version__}, {args.threads} threads, {platform.machine()}. "
             f"Command: `.venv/bin/python benchmarks/atl_loop.py --threads {args.threads}`. Load average "
             f"when it started: {os.getloadavg()[0]:.1f} (other jobs share the 2 cores when it is above ~1).", ""]
    record = {}
    for name, path in videos.items():
        result, seconds = timed_run(path, work / name.split()[0])
        phases = phase_times(result)
        record[name] = {"N": result["num_samples"], "seconds": seconds, "phases": phases,
                        "ALC": result["summary"]["ALC"]}
        lines += [f"## {name}: N = {result['num_samples']}, ALC {result['summary']['ALC']:.2f}, "
                  f"total {seconds:.1f} s", "", cycle_table_markdown(result), "",
                  "Seconds per phase over all cycles: " + ", ".join(f"{k} {v:.1f}" for k, v in phases.items()) + ".",
                  ""]
    (REPO / "docs" / "results").mkdir(parents=True, exist_ok=True)
    (REPO / "docs" / "results" / "atl_loop.md").write_text("\n".join(lines))
    (REPO / "benchmarks" / "results").mkdir(parents=True, exist_ok=True)
    (REPO / "benchmarks" / "results" / "atl_loop.json").write_text(json.dumps(record, indent=1))
    shutil.rmtree(work, ignore_errors=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
