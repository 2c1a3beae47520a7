"""Start-up and a short run: `vatl --help`, the first cycle of `vatl run`, and a whole default run on a small video.

Run from the repo root: ``.venv/bin/python benchmarks/startup.py [--repeats 5]``; writes
benchmarks/results/startup.json and docs/results/startup.md.

Every measurement is a fresh process, timed from just before it is started (Python's own start-up included):

- ``vatl --help`` and ``vatl run --help``: until the process exits;
- *first cycle*: ``vatl run VIDEO --out …`` until the session announces cycle 0 (its ``cycle_start`` event,
  caught by wrapping the progress table's handler; the process then exits);
- *whole run*: ``vatl run VIDEO --out …`` with every default (the embedded estimator, THC+WPU+DUW, the paper's
  schedule, uncapped E_c, one torch thread) until it exits.

VIDEO is the demo's video (synthetic night domain, 40 frames), written once into a temporary folder. The
measurements are interleaved within each repeat; the table gives medians, and the load average is recorded.
``--before REV``: also ``python -m vatl.cli --help``, ``… run --help`` and the whole default run in a git
worktree of REV (the code before a change), interleaved with the same commands on this tree, for a
before/after in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "startup.json"
DOC = REPO / "docs" / "results" / "startup.md"
VATL = [str(Path(sys.executable).with_name("vatl"))]  # the console script a user runs

FIRST_CYCLE = r"""
import os, sys, time
import vatl.commands._progress as progress
handler = progress.CycleTable.on_event
def on_event(self, event, info):
    if event == "cycle_start":
        print(f"CYCLE_START {time.time()}", flush=True)
        os._exit(0)
    handler(self, event, info)
progress.CycleTable.on_event = on_event
from vatl.cli import main
sys.exit(main(sys.argv[1:]))
"""


def timed(cmd: list[str], cwd: Path = REPO) -> float:
    """Seconds from start to exit of ``cmd`` run in ``cwd`` (it must succeed)."""
    start = time.time()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.time() - start


def first_cycle(video: Path, out: Path) -> float:
    """Seconds from start of ``vatl run`` to its cycle 0 starting."""
    start = time.time()
    proc = subprocess.run([sys.executable, "-c", FIRST_CYCLE, "run", str(video), "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True)
    marks = [line for line in proc.stdout.splitlines() if line.startswith("CYCLE_START")]
    if not marks:
        raise RuntimeError(f"vatl run did not start a cycle: {proc.stderr[-2000:]}")
    return float(marks[0].split()[1]) - start


def demo_video(folder: Path) -> tuple[Path, int]:
    """The demo's video (its generator and settings) under ``folder``; its path and number of samples."""
    from vatl.commands.demo import DEMO_DOMAIN
    from vatl.data.formats import load_video
    from vatl.data.synthetic.benchmark_set import IMAGE_SIZE
    from vatl.data.synthetic.generate import run_jobs, video_jobs

    jobs = video_jobs(folder, DEMO_DOMAIN, videos=1, frames=40, width=IMAGE_SIZE[0], height=IMAGE_SIZE[1], seed=0,
                      split="val", name_prefix=f"demo_{DEMO_DOMAIN}")
    run_jobs(jobs, workers=1)
    path = Path(jobs[0].json_path)
    return path, load_video(path).num_samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--before", default=None, metavar="REV", help="git revision to compare the help times with")
    args = parser.parse_args()
    rows: dict[str, list[float]] = {"vatl --help": [], "vatl run --help": [], "vatl run: first cycle starts": [],
                                    "vatl run: whole default run": []}
    module = [sys.executable, "-m", "vatl.cli"]
    if args.before:
        rows = {f"python -m vatl.cli --help ({args.before})": [], "python -m vatl.cli --help (this tree)": [],
                f"python -m vatl.cli run --help ({args.before})": [], "python -m vatl.cli run --help (this tree)": [],
                f"python -m vatl.cli run: whole default run ({args.before})": [],
                "python -m vatl.cli run: whole default run (this tree)": [], **rows}
    loads = []
    with tempfile.TemporaryDirectory() as tmp:
        video, samples = demo_video(Path(tmp) / "data")
        before = Path(tmp) / "before"
        if args.before:
            subprocess.run(["git", "worktree", "add", "--detach", str(before), args.before], cwd=REPO, check=True,
                           capture_output=True)
        for r in range(args.repeats):
            loads.append(os.getloadavg()[0])
            if args.before:
                for argv in (["--help"], ["run", "--help"]):
                    name = " ".join(argv)
                    rows[f"python -m vatl.cli {name} ({args.before})"].append(timed(module + argv, before))
                    rows[f"python -m vatl.cli {name} (this tree)"].append(timed(module + argv))
                for name, cwd in ((args.before, before), ("this tree", REPO)):
                    rows[f"python -m vatl.cli run: whole default run ({name})"].append(
                        timed(module + ["run", str(video), "--out", f"{tmp}/{name}_run{r}"], cwd))
            rows["vatl --help"].append(timed(VATL + ["--help"]))
            rows["vatl run --help"].append(timed(VATL + ["run", "--help"]))
            rows["vatl run: first cycle starts"].append(first_cycle(video, Path(tmp) / f"first{r}"))
            rows["vatl run: whole default run"].append(timed(VATL + ["run", str(video), "--out", f"{tmp}/run{r}"]))
            print(f"repeat {r + 1}/{args.repeats}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in rows.items()),
                  flush=True)
        if args.before:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=REPO, check=True)
    medians = {k: statistics.median(v) for k, v in rows.items()}
    result = {"repeats": args.repeats, "before": args.before, "video_samples": samples, "load_average_1min": loads, "seconds": rows,
              "median_seconds": medians}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    lines = ["# Start-up and a short run", "",
             f"`.venv/bin/python benchmarks/startup.py {' '.join(sys.argv[1:])}` (fresh processes, interleaved; "
             f"load average during the run {min(loads):.1f}–{max(loads):.1f} on 2 cores). The whole run: the demo's "
             f"video (N = {samples} samples), every default of `vatl run` (embedded estimator, THC+WPU+DUW, the "
             "paper's schedule, uncapped E_c, one thread).", "",
             "| measurement | median (s) | all (s) |", "|---|---:|---|"]
    lines += [f"| {k} | {medians[k]:.2f} | {', '.join(f'{x:.2f}' for x in v)} |" for k, v in rows.items()]
    DOC.write_text("\n".join(lines) + "\n")
    print(DOC.read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
