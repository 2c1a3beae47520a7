"""Generation speed of the synthetic data: the standard benchmark set on N worker processes, and one core.

Run from the repo root: ``.venv/bin/python benchmarks/synth_speed.py [--workers 2] [--keep DIR]``; writes
benchmarks/results/synth_speed.json (frames/s, seconds, person instances per subset).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

from vatl.data.synthetic.benchmark_set import BENCHMARK_SET, IMAGE_SIZE, generate_benchmark_set
from vatl.data.synthetic.domains import DOMAINS
from vatl.data.synthetic.generate import run_jobs, video_jobs

OUT = Path(__file__).resolve().parent / "results" / "synth_speed.json"


def single_core(root: Path, frames: int = 40) -> dict:
    """frames/s of one worker for one video per domain (rendering + JPEG + JSON)."""
    rows = {}
    width, height = IMAGE_SIZE
    for name in DOMAINS:
        jobs = video_jobs(root / name, name, 1, frames, width, height, seed=0)
        start = time.perf_counter()
        run_jobs(jobs, workers=1)
        rows[name] = round(frames / (time.perf_counter() - start), 1)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="write the set here and keep it")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="vatl_synth_speed_"))
    root = args.keep or tmp / "set"
    try:
        load_before = os.getloadavg()[0]
        start = time.perf_counter()
        results = generate_benchmark_set(root, seed=0, workers=args.workers)
        seconds = time.perf_counter() - start
        load_after = os.getloadavg()[0]
        made = [r for r in results if not r.skipped]
        frames = sum(r.frames for r in made)
        instances, frame_count = Counter(), Counter()
        for subset, r in zip([s for s in BENCHMARK_SET for _ in range(s.videos)], results):
            instances[subset.key] += r.samples
            frame_count[subset.key] += r.frames
        report = {
            "benchmark_set": {
                "workers": args.workers, "videos": len(results), "videos_generated": len(made),
                "frames": frames, "seconds": round(seconds, 1),
                "frames_per_second": round(frames / seconds, 1) if made else None,
                "image_size": list(IMAGE_SIZE),
                "subsets": {k: {"frames": frame_count[k], "person_instances": instances[k],
                                "instances_per_frame": round(instances[k] / frame_count[k], 2)} for k in instances},
            },
            "single_worker_frames_per_second": single_core(tmp / "single"),
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                        # other processes share the cores: the 1-minute load before/after the set run
                        "load_average_1min": [round(load_before, 2), round(load_after, 2)]},
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
