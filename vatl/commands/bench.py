"""vatl bench: criteria × videos, in parallel processes, resumable; paper-style tables and curves."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from vatl.commands._args import nonnegative_int, positive_int
from vatl.estimator.device import add_device_arguments

HELP = "benchmark selection criteria over videos (default: the synthetic benchmark set) with paper-style tables"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("runs/bench"), help="benchmark folder (default %(default)s)")
    p.add_argument("--data", type=Path, default=None,
                   help="a video JSON, a folder of them, or a PoseTrack root (posetrack_data/<split>); "
                        "default: the synthetic benchmark set's target videos (generated under --synth-root)")
    p.add_argument("--split", default="val", help="split of a PoseTrack root (default %(default)s)")
    p.add_argument("--synth-root", type=Path, default=Path("runs/synth_benchmark"),
                   help="where the synthetic benchmark set is (or gets) generated")
    p.add_argument("--synth-seed", type=int, default=0,
                   help="seed of the synthetic benchmark set (default %(default)s, the standard set); --seed "
                        "only seeds the runs")
    p.add_argument("--criteria", default="table2;oracle",
                   help="criteria separated by ';' (name or name:option=value,...), or table2 / table3 "
                        "(default %(default)s)")
    p.add_argument("--stop-thetas", default="0.5,0.6,0.7,0.8",
                   help="θ values of the stopping table ('' to skip; default %(default)s)")
    p.add_argument("--stop-criterion", default="thc+wpu+duw", help="criterion of the stopping runs")
    p.add_argument("--checkpoint", type=Path, default=None, help="estimator checkpoint (default: the embedded one)")
    p.add_argument("--max-videos", type=positive_int, default=None, help="use only the first N videos")
    p.add_argument("--max-epochs", type=nonnegative_int, default=None, help="cap on E_c for every run (default: none)")
    p.add_argument("--workers", type=positive_int, default=2, help="parallel processes (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of every run (selection and training)")
    p.add_argument("--summary-only", action="store_true",
                   help="write the summary of the runs finished so far without running any")
    add_device_arguments(p)


def find_videos(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(name, path) of every video of the benchmark."""
    if args.data is None:
        from vatl.data.synthetic.benchmark_set import BENCHMARK_SET, annotation_files, generate_benchmark_set

        generate_benchmark_set(args.synth_root, seed=args.synth_seed, workers=args.workers)
        files = [f for s in BENCHMARK_SET if s.path.startswith("targets/") for f in annotation_files(args.synth_root, s.key)]
    else:
        from vatl.data.formats.discover import annotation_files

        files = annotation_files(args.data, args.split)
    if not files:
        raise ValueError(f"no video JSON found under {args.data}")
    files = files[: args.max_videos] if args.max_videos else files
    return [(f"{Path(f).parent.name}_{Path(f).stem}" if args.data is None else Path(f).stem, str(f)) for f in files]


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from vatl.bench.runner import finished_result, make_jobs, run_jobs
    from vatl.bench.specs import parse_specs
    from vatl.bench.summary import write_summary
    from vatl.criteria.spec import parse_spec
    from vatl.estimator.checkpoint import default_checkpoint_path
    from vatl.estimator.device import configure_threads, resolve_device
    from vatl.fileio import ensure_folder

    configure_threads(args.threads or 1)  # as each worker process: one thread per run
    resolve_device(args.device)
    ensure_folder(args.out, "benchmark folder")
    console = Console()
    start = time.perf_counter()
    specs = parse_specs(args.criteria)
    thetas = [float(t) for t in args.stop_thetas.split(",") if t.strip()]
    checkpoint = args.checkpoint or default_checkpoint_path()
    videos = find_videos(args)
    config = {} if args.max_epochs is None else {"max_epochs": args.max_epochs}
    jobs = make_jobs(videos, specs, args.out, checkpoint, args.seed, config, thetas, parse_spec(args.stop_criterion),
                     device=args.device)
    console.print(f"[bold]vatl bench[/bold]: {len(videos)} videos × {len(specs)} criteria"
                  + (f" + {len(thetas)} stopping runs per video" if thetas else "")
                  + f" = {len(jobs)} runs, {args.workers} workers → {args.out}")
    failures: dict[str, str] = {}
    done = 0

    def on_done(job, result, error):
        nonlocal done
        done += 1
        where = f"{job.video_name} / {Path(job.out_dir).name}"
        if error:
            failures[where] = error
            console.print(f"[{done}/{len(jobs)}] [red]{where}: {error}[/red]")
        else:
            alc = result["summary"].get("ALC")
            console.print(f"[{done}/{len(jobs)}] {where}: ALC {'—' if alc is None else f'{alc:.2f}'} "
                          f"({time.perf_counter() - start:.0f} s)")

    if args.summary_only:
        results = [finished_result(job) for job in jobs]
        missing = sum(r is None for r in results)
        if missing:
            failures["unfinished"] = f"{missing} of {len(jobs)} runs are not finished yet (left out of the tables)"
        finished_before = 0
    else:
        finished_before = sum(finished_result(job) is not None for job in jobs)
        results = run_jobs(jobs, workers=args.workers, on_done=on_done)
    # the command that runs (or resumes) this benchmark: a summary-only call names the runs it summarises
    command = "vatl bench " + " ".join(shlex.quote(a) for a in sys.argv[2:] if a != "--summary-only")
    seconds = None if args.summary_only else time.perf_counter() - start
    summary = write_summary(args.out, jobs, results, command, seconds, failures, finished_before)
    console.print(summary.read_text())
    return 1 if failures and not args.summary_only else 0
