"""Small finished runs with explain data for the tests: a synthetic video of 30 samples, four cycles."""

from __future__ import annotations

from pathlib import Path

from vatl.atl.runner import RunSpec, run_simulated
from vatl.data.synthetic.generate import run_jobs, video_jobs
from vatl.estimator.checkpoint import default_checkpoint_path

FAST = {"max_epochs": 1, "batch_size": 16, "schedule": [10, 30, 60, 100]}


def make_run(folder: Path, criterion: str = "thc+wpu+duw", seed: int = 3, checkpoint: Path | None = None,
             **config) -> tuple[Path, Path]:
    """(video JSON, run folder) of a finished simulated run in ``folder`` on its own synthetic video."""
    jobs = video_jobs(folder / "data", "source", videos=1, frames=8, width=192, height=144, seed=seed)
    run_jobs(jobs, workers=1)
    out = folder / "run"
    spec = RunSpec(str(jobs[0].json_path), str(out), {**FAST, "criterion": criterion, **config},
                   str(checkpoint or default_checkpoint_path()))
    run_simulated(spec)
    return jobs[0].json_path, out
