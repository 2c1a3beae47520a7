"""vatl synth: write synthetic multi-person videos (PoseTrack21 layout) of a domain, or the standard benchmark set."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from vatl.commands._args import positive_int

HELP = "generate synthetic videos with exact ground truth (a named domain, or the standard benchmark set)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    from vatl.data.synthetic.domains import DOMAINS

    p.add_argument("--out", type=Path, default=None, help="output root (PoseTrack21 layout; benchmark set: its root)")
    p.add_argument("--benchmark-set", action="store_true",
                   help="write the standard set: source train/val and the target-domain test videos")
    p.add_argument("--domain", default="source", help=f"domain: {', '.join(DOMAINS)} (default %(default)s)")
    p.add_argument("--videos", type=positive_int, default=4, help="number of videos (default %(default)s)")
    p.add_argument("--frames", type=positive_int, default=40, help="frames per video (default %(default)s)")
    p.add_argument("--size", default="384x288", help="frame size WIDTHxHEIGHT (default %(default)s)")
    p.add_argument("--split", default="val", help="PoseTrack split folder (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="same seed, same files (default %(default)s)")
    p.add_argument("--workers", type=positive_int, default=2, help="parallel processes (default %(default)s)")
    p.add_argument("--list-domains", action="store_true", help="list the domains and exit")


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from vatl.data.synthetic.benchmark_set import benchmark_jobs
    from vatl.data.synthetic.domains import DOMAINS, get_domain
    from vatl.data.synthetic.generate import parse_size, run_jobs, video_jobs
    from vatl.fileio import ensure_folder

    console = Console()
    if args.list_domains:
        table = Table("domain", "description")
        for name, d in DOMAINS.items():
            table.add_row(name, d.description)
        console.print(table)
        return 0
    if args.out is None:
        raise ValueError("--out is required: the folder to write the videos to")
    ensure_folder(args.out)
    if args.workers < 1:
        raise ValueError(f"--workers must be >= 1, got {args.workers}")
    if args.benchmark_set:
        jobs = benchmark_jobs(args.out, seed=args.seed)
    else:
        get_domain(args.domain)
        width, height = parse_size(args.size)
        jobs = video_jobs(args.out, args.domain, args.videos, args.frames, width, height, seed=args.seed,
                          split=args.split)
    start = time.perf_counter()
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("videos", total=len(jobs))
        results = run_jobs(jobs, workers=args.workers, on_done=lambda r: progress.advance(task))
    seconds = time.perf_counter() - start
    made = [r for r in results if not r.skipped]
    frames = sum(r.frames for r in made)
    table = Table("videos", "written", "up to date", "frames", "instances", "seconds", "frames/s")
    table.add_row(str(len(results)), str(len(made)), str(len(results) - len(made)), str(sum(r.frames for r in results)),
                  str(sum(r.samples for r in results)), f"{seconds:.1f}", f"{frames / seconds:.0f}" if made else "—")
    console.print(table)
    console.print(f"written under {Path(args.out).absolute()}")
    return 0
