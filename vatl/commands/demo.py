"""vatl demo: the whole method on the embedded default, in minutes, with nothing to download.

One synthetic target-domain video is generated, the embedded checkpoint (pretrained on the synthetic
source domain) is adapted to it by ATL with the paper's criterion (THC+WPU+DUW) and with Random, and the
learning curves, ALC and a short report are written to the output folder. Re-running resumes.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from vatl.commands._args import positive_int
from vatl.estimator.device import add_device_arguments

HELP = "run the paper's method (THC+WPU+DUW) against Random on an embedded synthetic video"

DEMO_DOMAIN = "night"
DEMO_CRITERIA = ("thc+wpu+duw", "random")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder (default %(default)s)")
    p.add_argument("--domain", default=DEMO_DOMAIN, help="synthetic target domain (default %(default)s)")
    p.add_argument("--frames", type=positive_int, default=40, help="frames of the demo video (default %(default)s)")
    p.add_argument("--criteria", default=",".join(DEMO_CRITERIA), help="criteria to compare (default %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    add_device_arguments(p)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from vatl.bench.report import write_demo_report
    from vatl.data.formats import load_video, require_samples
    from vatl.data.synthetic.benchmark_set import IMAGE_SIZE
    from vatl.data.synthetic.generate import run_jobs, video_jobs
    from vatl.estimator.checkpoint import default_checkpoint_path
    from vatl.estimator.device import configure_threads, resolve_device
    from vatl.fileio import ensure_folder

    configure_threads(args.threads)  # one by default, as each worker process
    resolve_device(args.device)  # a clear error before any work
    ensure_folder(args.out)
    console = Console()
    start = time.perf_counter()
    criteria = [c.strip() for c in args.criteria.split(",") if c.strip()]
    out = Path(args.out)
    width, height = IMAGE_SIZE
    console.print(f"[bold]vatl demo[/bold]: generating a synthetic '{args.domain}' video in {out / 'data'}")
    jobs = video_jobs(out / "data", args.domain, videos=1, frames=args.frames, width=width, height=height,
                      seed=args.seed, split="val", name_prefix=f"demo_{args.domain}")
    run_jobs(jobs, workers=1)
    video = require_samples(load_video(jobs[0].json_path))
    checkpoint = default_checkpoint_path()
    console.print(f"video {video.name}: {len(video.frames)} frames, {video.num_tracks} tracks, "
                  f"N = {video.num_samples} samples; estimator {checkpoint.name}")
    console.print(f"running {', '.join(criteria)} side by side ({min(len(criteria), 2)} processes, one torch thread each)")
    results = run_side_by_side(str(jobs[0].json_path), str(checkpoint), criteria, args.seed, out, args.device)
    elapsed = time.perf_counter() - start
    report = write_demo_report(out, video, results, elapsed)
    console.print()
    for criterion, res in results.items():
        alc = res["summary"]["ALC"]
        console.print(f"ALC {criterion:>14}: {'—' if alc is None else f'{alc:.2f}'}")
    console.print(f"report: {report}  (learning curves: {out / 'learning_curves.png'})  time: {elapsed:.0f} s")
    from vatl.explain.links import report_hint

    for criterion in results:  # each run's own report: `vatl explain` draws it from the data its cycles saved
        hint = report_hint(out / criterion)
        if hint:
            console.print(f"{criterion}: {hint}", highlight=False, soft_wrap=True)
    return 0


def run_criterion(job: tuple[str, str, str, int, str, str]) -> dict:
    """One ATL run of the demo (in a worker process), printing its cycle rows prefixed by the criterion.

    job: (video path, checkpoint, criterion, seed, run folder, device)."""
    from vatl.atl.runner import RunSpec, run_simulated
    from vatl.commands._progress import CycleTable

    video_path, checkpoint, criterion, seed, out, device = job
    spec = RunSpec(video_path, out, {"criterion": criterion, "seed": seed}, checkpoint, device)
    with CycleTable(title=f"{criterion}: cycles", prefix=f"{criterion:>12} ") as table:
        return run_simulated(spec, progress=table.on_event)


def run_side_by_side(video_path: str, checkpoint: str, criteria: list[str], seed: int, out: Path,
                     device: str) -> dict[str, dict]:
    """The criteria's runs in parallel processes (two cores: two runs at a time), one torch thread each."""
    from vatl.parallel import run_parallel

    jobs = [(video_path, checkpoint, c, seed, str(Path(out) / c), device) for c in criteria]
    results = run_parallel(run_criterion, jobs, workers=min(len(criteria), 2), catch=False)
    return dict(zip(criteria, results))
