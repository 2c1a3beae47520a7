"""Long videos: per-phase time and peak memory of one ATL cycle at N = 10^3, 10^4 and 10^5 samples.

Run from the repo root: ``.venv/bin/python benchmarks/long_video.py [--sizes 1000 10000 100000]``;
writes benchmarks/results/long_video.json and docs/results/long_video.md.

Each N runs in a fresh process: a synthetic video (the frames of ``benchmarks/pass_memory.py``: a few
1280×720 JPEGs cycled over ceil(N / 5) frames, 5 people per frame) with random ground-truth poses inside
the boxes, the embedded checkpoint, one torch thread, the default criterion THC+WPU+DUW, the default
schedule's first cycle (5 % of N queried and answered from the ground truth). Retraining is capped at one
epoch (``--max-epochs``): its cost is E_c × |Q ∪ R| sample visits at the fine-tuning throughput
(docs/results/finetune_speed.md), linear in N, and uncapped it would take hours at N = 10^5. Phases
are the cycle record's: estimate (the pass with the criterion's consumers), evaluate (AP of M_c with the
labels so far, before selection), select, evaluate_after (AP with the new labels), retrain. Peak memory:
``ru_maxrss`` at the end minus the RSS after loading the model and building the video.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "long_video.json"
DOC = REPO / "docs" / "results" / "long_video.md"
PHASES = ("estimate", "evaluate", "select", "evaluate_after", "retrain")

CYCLE = r"""
import json, resource, sys, time
import numpy as np, torch
torch.set_num_threads(1)
sys.path.insert(0, sys.argv[4])
from pass_memory import synthetic_video
from vatl.atl.config import ATLConfig
from vatl.atl.oracle import SimulatedOracle
from vatl.atl.session import ATLSession
from vatl.estimator.checkpoint import default_checkpoint_path, load_checkpoint

n, frames_dir, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
paths = sorted(__import__("pathlib").Path(frames_dir).glob("*.jpg"))
video = synthetic_video(paths, n, 5, (1280, 720))
rng = np.random.default_rng(0)
u = rng.uniform(0.1, 0.9, (n, video.keypoint_set.num_keypoints, 2))
video.keypoints[..., :2] = video.boxes[:, None, :2] + u * video.boxes[:, None, 2:]
video.keypoints[..., 2] = np.where(video.keypoint_set.annotated_slots, 2.0, 0.0)
model = load_checkpoint(default_checkpoint_path())
rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
with ATLSession(video, model, ATLConfig(max_epochs=1), out) as session:
    t = time.perf_counter()
    pending = session.query()
    record = session.update(SimulatedOracle(video).answer(pending.indices, None))
    wall = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"n": n, "queried": len(pending.indices), "wall_s": wall, "phases": record.phase_times,
                  "rss_before_mb": rss0 / 1024, "peak_extra_mb": (peak - rss0) / 1024}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    args = parser.parse_args()
    sys.path.insert(0, str(REPO / "benchmarks"))
    from pass_memory import write_frames

    rows, loads = [], [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory() as tmp:
        write_frames(Path(tmp), 6, (1280, 720))
        for n in args.sizes:
            out = Path(tmp) / f"run_{n}"
            proc = subprocess.run([sys.executable, "-c", CYCLE, str(n), tmp, str(out), str(REPO / "benchmarks")],
                                  cwd=REPO, capture_output=True, text=True)
            if proc.returncode:
                raise SystemExit(f"N = {n} failed:\n{proc.stderr[-3000:]}")
            row = json.loads(proc.stdout.strip().splitlines()[-1])
            loads.append(os.getloadavg()[0])
            rows.append(row)
            print(row, flush=True)
    result = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "command": " ".join([".venv/bin/python benchmarks/long_video.py", *sys.argv[1:]]),
              "load_average_1min": loads, "rows": rows}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    lines = ["# Long videos: one ATL cycle at N = 10^3 … 10^5", "",
             f"Measured {result['date']} with `{result['command']}` (one torch thread; 1-minute load average "
             f"{min(loads):.1f}–{max(loads):.1f}: other jobs were running). Seconds per phase of the first cycle "
             "(THC+WPU+DUW, 5 % queried, retraining capped at one epoch); peak memory = maximum RSS during the "
             "cycle minus the RSS after loading the model and the video.", "",
             "| N | queried | " + " | ".join(PHASES) + " | peak extra MB |",
             "|---:|---:|" + "---:|" * (len(PHASES) + 1)]
    for r in rows:
        lines.append(f"| {r['n']:,} | {r['queried']:,} | "
                     + " | ".join(f"{r['phases'][p]:.1f}" for p in PHASES) + f" | {r['peak_extra_mb']:.0f} |")
    ok = all(max(r["phases"]["evaluate"], r["phases"]["select"], r["phases"]["evaluate_after"])
             < r["phases"]["estimate"] for r in rows)
    lines += ["", f"Evaluation and selection stay below the estimator pass at every N: **{'yes' if ok else 'no'}**.", ""]
    DOC.write_text("\n".join(lines))
    print(DOC.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
