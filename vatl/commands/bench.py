"""vatl bench: criteria × videos, in parallel processes, resumable; paper-style tables and curves."""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

from vatl.commands._args import (
    add_engine_arguments,
    add_finetune_arguments,
    finetune_overrides,
    nonnegative_float,
    nonnegative_int,
    positive_int,
)
from vatl.estimator.device import add_device_arguments

HELP = ("benchmark selection criteria over videos (default: the paper-regime synthetic set's test videos) with "
        "paper-style tables")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=Path("runs/bench"), help="benchmark folder (default %(default)s)")
    from vatl.data.synthetic.benchmark_set import BENCHMARK_SETS, DEFAULT_SET

    p.add_argument("--data", type=Path, default=None,
                   help="a video JSON, a folder of them, or a PoseTrack root (posetrack_data/<split>); "
                        "default: the synthetic set --set (generated under --synth-root)")
    p.add_argument("--set", dest="synth_set", choices=tuple(BENCHMARK_SETS), default=DEFAULT_SET,
                   help="synthetic set when no --data: paper-regime (16 test videos of milder domain gaps, the "
                        "default), paper-regime-val (its 8 validation videos, for choosing settings), standard "
                        "(the 16 target videos of large domain gaps)")
    p.add_argument("--split", default="val", help="split of a PoseTrack root (default %(default)s)")
    p.add_argument("--synth-root", type=Path, default=Path("runs/synth_benchmark"),
                   help="where the synthetic sets are (or get) generated")
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
    p.add_argument("--alpha", type=nonnegative_float, default=None,
                   help="α of E_c = floor(α(1 − G_c)) for every run (default: the run default, 250)")
    add_finetune_arguments(p)
    add_engine_arguments(p)
    p.add_argument("--seed", type=int, default=0, help="seed of every run (selection and training)")
    p.add_argument("--seeds", default=None,
                   help="several seeds, e.g. 0,1,2 (instead of --seed): every run once per seed; the first seed's "
                        "runs are in runs/<video>/, the others' in runs/<video>/seed=<s>/")
    p.add_argument("--references", default="random;kmeans;coreset;thc+wpu+duw",
                   help="criteria (specs separated by ';') every criterion's ALC is paired with, those that ran "
                        "(default %(default)s)")
    p.add_argument("--summary-only", action="store_true",
                   help="write the summary of the runs finished so far without running any")
    p.add_argument("--summary-name", default="summary",
                   help="file name (without .md / .json) of the summary, for several summaries in one folder "
                        "(default %(default)s)")
    add_device_arguments(p, amp=True)


def _seeds(args: argparse.Namespace) -> list[int]:
    """The runs' seeds: ``--seeds`` (comma-separated, distinct) or ``--seed``."""
    if args.seeds is None:
        return [args.seed]
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"--seeds must be integers separated by commas, got {args.seeds!r}") from None
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds must name distinct seeds, got {args.seeds!r}")
    return seeds


def find_videos(args: argparse.Namespace) -> list[tuple[str, str]]:
    """(name, path) of every video of the benchmark."""
    if args.data is None:
        from vatl.data.synthetic.benchmark_set import generate_set, set_files

        generate_set(args.synth_root, args.synth_set, seed=args.synth_seed, workers=args.workers)
        files = set_files(args.synth_root, args.synth_set)
    else:
        from vatl.data.formats.discover import annotation_files

        files = annotation_files(args.data, args.split)
    if not files:
        raise ValueError(f"no video JSON found under {args.data}")
    files = files[: args.max_videos] if args.max_videos else files
    return [(f"{Path(f).parent.name}_{Path(f).stem}" if args.data is None else Path(f).stem, str(f)) for f in files]


def run(args: argparse.Namespace) -> int:
    from rich.console import Console

    from vatl.bench.engines import get_engine
    from vatl.bench.runner import finished_result, make_jobs, run_jobs
    from vatl.bench.specs import parse_specs
    from vatl.bench.summary import write_summary
    from vatl.criteria.spec import parse_spec
    from vatl.estimator.checkpoint import default_checkpoint_path
    from vatl.estimator.device import check_amp, configure_threads, resolve_device
    from vatl.fileio import ensure_folder

    if not args.summary_name or any(c in args.summary_name for c in "/\\") or args.summary_name.startswith("."):
        raise ValueError(f"--summary-name must be a plain file name, got {args.summary_name!r}")
    configure_threads(args.threads)  # one by default, as each worker process
    check_amp(args.amp, resolve_device(args.device))
    ensure_folder(args.out, "benchmark folder")
    console = Console()
    start = time.perf_counter()
    specs = parse_specs(args.criteria)
    thetas = [float(t) for t in args.stop_thetas.split(",") if t.strip()]
    checkpoint = args.checkpoint or default_checkpoint_path()
    videos = find_videos(args)
    config = {} if args.max_epochs is None else {"max_epochs": args.max_epochs}
    if args.alpha is not None:
        config["alpha"] = args.alpha
    if finetune_overrides(args):
        config["finetune"] = finetune_overrides(args)
    seeds = _seeds(args)
    jobs = make_jobs(videos, specs, args.out, checkpoint, seeds, config, thetas, parse_spec(args.stop_criterion),
                     device=args.device, amp=args.amp)
    references = [spec.label for spec in parse_specs(args.references)]
    console.print(f"[bold]vatl bench[/bold]: {len(videos)} videos × {len(specs)} criteria"
                  + (f" + {len(thetas)} stopping runs per video" if thetas else "")
                  + (f", × {len(seeds)} seeds" if len(seeds) > 1 else "")
                  + f" = {len(jobs)} runs, {args.workers} workers → {args.out}")
    failures: dict[str, str] = {}
    done = 0

    def on_done(job, result, error):
        nonlocal done
        done += 1
        where = f"{job.video_name} / {Path(job.out_dir).name}" + (f" / seed {job.seed}" if len(seeds) > 1 else "")
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
        engine = get_engine(args.engine, workers=args.workers, scheduler=args.scheduler,
                            gpus_per_run=args.gpus_per_run)
        results = run_jobs(jobs, on_done=on_done, engine=engine)
    # the command that runs (or resumes) this benchmark: a summary-only call names the runs it summarises
    command = "vatl bench " + " ".join(shlex.quote(a) for a in sys.argv[2:] if a != "--summary-only")
    seconds = None if args.summary_only else time.perf_counter() - start
    summary = write_summary(args.out, jobs, results, command, seconds, failures, finished_before, references,
                            name=args.summary_name)
    console.print(summary.read_text())
    return 1 if failures and not args.summary_only else 0
