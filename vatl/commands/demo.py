"""vatl demo: the whole method on the embedded default, in minutes, with nothing to download.

One synthetic target-domain video is generated, the embedded checkpoint (pretrained on the synthetic
source domain) is adapted to it by ATL with the paper's criterion (THC+WPU+DUW) and with Random, and the
learning curves, ALC and a short report are written to the output folder. Re-running resumes.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

HELP = "run the paper's method (THC+WPU+DUW) against Random on an embedded synthetic video"

DEMO_DOMAIN = "night"
DEMO_CRITERIA = ("thc+wpu+duw", "random")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("runs/demo"), help="output folder (default %(default)s)")
    p.add_argument("--domain", default=DEMO_DOMAIN, help="synthetic target domain (default %(default)s)")
    p.add_argument("--frames", type=int, default=40, help="frames of the demo video (default %(default)s)")
    p.add_argument("--criteria", default=",".join(DEMO_CRITERIA), help="criteria to compare (default %(default)s)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from vatl.atl.config import ATLConfig
    from vatl.atl.oracle import SimulatedOracle
    from vatl.atl.session import ATLSession
    from vatl.bench.report import write_demo_report
    from vatl.commands._progress import CycleTable
    from vatl.data.formats import load_video, require_samples
    from vatl.data.synthetic.benchmark_set import IMAGE_SIZE
    from vatl.data.synthetic.generate import run_jobs, video_jobs
    from vatl.estimator.checkpoint import default_checkpoint_path, load_checkpoint

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
    results = {}
    for criterion in criteria:
        model = load_checkpoint(checkpoint, device=args.device)
        config = ATLConfig(criterion=criterion, seed=args.seed, device=args.device)
        with CycleTable(title=f"\n{criterion}") as table:
            session = ATLSession(video, model, config, out / criterion, progress=table.on_event)
            results[criterion] = session.run(SimulatedOracle(video))
    elapsed = time.perf_counter() - start
    report = write_demo_report(out, video, results, elapsed)
    console.print()
    for criterion, res in results.items():
        alc = res["summary"]["ALC"]
        console.print(f"ALC {criterion:>14}: {'—' if alc is None else f'{alc:.2f}'}")
    console.print(f"report: {report}  (learning curves: {out / 'learning_curves.png'})  time: {elapsed:.0f} s")
    return 0
