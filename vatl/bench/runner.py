"""Runs of a benchmark: every (video, criterion[, θ]) pair as one resumable ATL run, in worker processes.

Layout under the benchmark folder::

    runs/<video>/<criterion label>/            one ATL run folder (results.json, state, models)
    runs/<video>/stop_theta=<θ>/               the stopping-table runs (report mode, 10 % steps)
    runs/<video>/seed=<s>/<criterion label>/   the same for every further seed (the first seed's runs
                                               are the ones above)

A pair whose run folder holds a finished result is not run again; an unfinished one resumes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vatl.atl.runner import RunSpec, run_simulated
from vatl.bench.engines import LocalEngine, RunEngine
from vatl.criteria.spec import CriterionSpec

log = logging.getLogger(__name__)

STOP_SCHEDULE = tuple(range(10, 101, 10))


@dataclass(frozen=True)
class BenchJob:
    """One ATL run of a benchmark."""

    video_path: str
    video_name: str
    spec: CriterionSpec
    out_dir: str
    checkpoint: str
    seed: int
    config: dict[str, Any] = field(default_factory=dict, hash=False)
    device: str = "cpu"
    amp: bool = False

    @property
    def results_path(self) -> Path:
        return Path(self.out_dir) / "results.json"

    def run_spec(self) -> RunSpec:
        config = {**self.config, "criterion": self.spec.name, "criterion_options": dict(self.spec.options),
                  "seed": self.seed}
        return RunSpec(self.video_path, self.out_dir, config, self.checkpoint, self.device, amp=self.amp)


def finished_result(job: BenchJob) -> dict[str, Any] | None:
    """The stored result of a finished run, else None."""
    try:
        result = json.loads(job.results_path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return result if result.get("final") else None


def run_job(job: BenchJob) -> dict[str, Any]:
    """Run (or resume) one job in this process and return its results."""
    return run_simulated(job.run_spec())


def run_jobs(jobs: Sequence[BenchJob], workers: int = 2,
             on_done: Callable[[BenchJob, dict[str, Any] | None, str | None], None] | None = None,
             engine: RunEngine | None = None) -> list[dict | None]:
    """Run the unfinished jobs on ``engine`` (default: ``workers`` local processes);
    ``on_done(job, result, error)`` after each.

    A failing job is logged and reported through ``on_done`` with its error; the others go on.
    """
    results: list[dict | None] = [finished_result(j) for j in jobs]
    todo = [i for i, r in enumerate(results) if r is None]
    for i, r in enumerate(results):
        if r is not None and on_done is not None:
            on_done(jobs[i], r, None)

    def record(position: int, result: dict | None, error: str | None) -> None:
        i = todo[position]
        results[i] = result
        if error:
            log.error("%s / %s failed: %s", jobs[i].video_name, jobs[i].spec.label, error)
        if on_done is not None:
            on_done(jobs[i], result, error)

    (engine or LocalEngine(workers)).map(run_job, [jobs[i] for i in todo], on_done=record)
    return results


def make_jobs(videos: Sequence[tuple[str, str]], specs: Sequence[CriterionSpec], out: Path, checkpoint: Path,
              seed: int | Sequence[int], config: dict[str, Any] | None = None,
              stop_thetas: Sequence[float] = (), stop_spec: CriterionSpec | None = None,
              device: str = "cpu", amp: bool = False) -> list[BenchJob]:
    """Jobs for every (seed, video, spec), then the stopping runs for every (seed, video, θ).

    ``videos``: (name, annotation path). ``seed``: one seed or several (the first seed's runs are in
    ``runs/<video>/``, the others' in ``runs/<video>/seed=<s>/``). ``config``: ATLConfig fields shared by all
    runs. Stopping runs use ``stop_spec`` with 10 % steps and both criteria recorded (report mode), θ as given.
    """
    out = Path(out)
    config = dict(config or {})
    seeds = [int(seed)] if isinstance(seed, int) else [int(s) for s in seed]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and at least one, got {seeds}")
    jobs = []
    for s in seeds:
        def folder(name: str, s: int = s) -> Path:
            return out / "runs" / name if s == seeds[0] else out / "runs" / name / f"seed={s}"

        jobs += [BenchJob(str(path), name, spec, str(folder(name) / spec.label), str(checkpoint), s, config,
                          device, amp) for name, path in videos for spec in specs]
        if stop_thetas and stop_spec is not None:
            for name, path in videos:
                for theta in stop_thetas:
                    stop_config = {**config, "theta": float(theta), "schedule": STOP_SCHEDULE, "stop_mode": "report"}
                    jobs.append(BenchJob(str(path), name, stop_spec, str(folder(name) / f"stop_theta={theta:g}"),
                                         str(checkpoint), s, stop_config, device, amp))
    return jobs
