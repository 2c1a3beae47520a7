"""vatl run: active transfer learning on one video (resumable; a person or the ground truth answers)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from vatl.atl.answers import AnswerError
from vatl.atl.config import ATLConfig
from vatl.atl.oracle import ANSWER_FORMAT, FileOracle, SimulatedOracle, write_query_file
from vatl.atl.schedule import DEFAULT_SCHEDULE, parse_schedule
from vatl.atl.stopping import STOP_MODES, STOPPING_CRITERIA
from vatl.commands._args import (
    add_engine_arguments,
    add_finetune_arguments,
    finetune_overrides,
    finite_float,
    nonnegative_float,
    nonnegative_int,
    positive_int,
)
from vatl.commands._progress import CycleTable
from vatl.commands._video import StepBars, add_video_arguments, video_options
from vatl.criteria import CRITERIA
from vatl.criteria.spec import parse_spec
from vatl.estimator.device import add_device_arguments, check_amp, configure_threads, resolve_device
from vatl.video.reader import is_media

if TYPE_CHECKING:  # the session and the run builder load torch: imported by run(), not for --help
    from vatl.atl.runner import RunInputs, RunSpec
    from vatl.atl.session import ATLSession

HELP = ("run ATL cycles on a video (a clip: .mp4/.avi/.mov or a frame folder; or a PoseTrack21 / JRDB / COCO JSON) "
        "until the schedule or the stop criterion ends")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", type=Path, nargs="+",
                   help="a clip (.mp4/.avi/.mov or a folder of frames: people are detected and tracked) or an "
                        "annotation JSON (PoseTrack21, JRDB-Pose or COCO with track_id); several annotation JSONs "
                        "run side by side with the simulated annotator, each in OUT/<file stem>/")
    p.add_argument("--out", type=Path, required=True,
                   help="run folder (created; an existing run is resumed); with several videos, their parent")
    p.add_argument("--checkpoint", type=Path, default=None,
                   help="estimator checkpoint (default: BlazePose for a clip, the embedded synthetic one for a JSON)")
    p.add_argument("--image-root", type=Path, default=None,
                   help="folder the video file's image paths are relative to and must stay inside "
                        "(default: the format's own, e.g. the PoseTrack root above posetrack_data/)")
    p.add_argument("--criterion", default="thc+wpu+duw",
                   help=f"selection criterion, optionally with options as name:key=value,...: {', '.join(CRITERIA)}")
    p.add_argument("--schedule", default=",".join(f"{v:g}" for v in DEFAULT_SCHEDULE),
                   help="cumulative labeled percentages per cycle (default %(default)s)")
    p.add_argument("--theta", type=finite_float, default=0.6, help="target OKS θ (stopping and R)")
    p.add_argument("--margin", type=finite_float, default=0.05, help="margin m of R = {OKS < θ + m}")
    p.add_argument("--alpha", type=nonnegative_float, default=250.0, help="E_c = floor(alpha (1 - G_c)) epochs")
    p.add_argument("--max-epochs", type=nonnegative_int, default=None, help="cap on E_c (default: none)")
    p.add_argument("--stop", choices=STOPPING_CRITERIA, default="sc_all", help="stopping criterion")
    p.add_argument("--stop-mode", choices=STOP_MODES, default="report",
                   help="off: not evaluated; report: recorded; stop: ends the run when met")
    p.add_argument("--oracle", choices=("simulated", "person", "browser", "none"), default=None,
                   help="simulated: ground truth answers; person: write query files and read answer files; "
                        "browser: a person answers in a local web page (vatl annotate); none: no annotation, "
                        "the estimator's poses (default: simulated for a JSON, none for a clip)")
    p.add_argument("--mapping", type=Path, default=None,
                   help="mapping file for a checkpoint of another keypoint set: JSON {\"video slot\": \"model slot\" "
                        "| [\"model slot\", ...] | null} (default: matched by name; see `vatl transfer --help`)")
    p.add_argument("--fallback", default=None, metavar="CRITERION",
                   help="criterion to run instead when --criterion cannot work on the video's skeleton (e.g. "
                        "thc+duw when WPU finds no joint angles); default: refuse the run before cycle 0")
    p.add_argument("--max-gap", type=positive_int, default=1, help="largest frame gap between temporal neighbours")
    p.add_argument("--seed", type=int, default=0)
    add_finetune_arguments(p)
    add_device_arguments(p, amp=True)
    add_video_arguments(p)
    add_engine_arguments(p.add_argument_group("several videos (where their runs execute)"))


def config_from_args(args: argparse.Namespace) -> ATLConfig:
    spec = parse_spec(args.criterion)
    return ATLConfig(criterion=spec.name, criterion_options=dict(spec.options), schedule=parse_schedule(args.schedule),
                     alpha=args.alpha, max_epochs=args.max_epochs, theta=args.theta, margin=args.margin,
                     stop_criterion=args.stop, stop_mode=args.stop_mode, seed=args.seed, max_gap=args.max_gap,
                     finetune=finetune_overrides(args))


def run(args: argparse.Namespace) -> int:
    from vatl.atl.runner import RunSpec, open_session, prepare_run

    configure_threads(args.threads)
    check_amp(args.amp, resolve_device(args.device))  # a clear error before anything is loaded
    config = config_from_args(args)
    if len(args.video) > 1:
        return _run_many(args, config)
    args.video = args.video[0]
    spec = RunSpec(str(args.video), str(args.out), config.to_dict(),
                   None if args.checkpoint is None else str(args.checkpoint), args.device,
                   None if args.image_root is None else str(args.image_root),
                   None if args.mapping is None else str(args.mapping), args.fallback,
                   video=video_options(args).to_dict(), amp=args.amp)
    clip = is_media(args.video)
    oracle = args.oracle or ("none" if clip else "simulated")
    if args.fallback is not None:
        parse_spec(args.fallback)  # a clear error for a bad fallback before anything is loaded
    if oracle == "browser":
        from vatl.commands.annotate import serve

        return serve(spec)
    with StepBars() as bars:
        inputs = prepare_run(spec, progress=bars.on_event)
    for note in inputs.notes:
        print(note)
    if oracle == "none":
        return _zero_shot(inputs, spec)
    config = inputs.config
    table = CycleTable(title=f"vatl run · {args.video.name} · {config.criterion}")
    with open_session(spec, progress=table.on_event, inputs=inputs) as session:
        table.title = f"vatl run · {session.video.name} · {config.criterion} · N={session.video.num_samples}"
        with table:
            if oracle == "simulated":
                session.run(SimulatedOracle(session.video))
            elif not _person_step(session, Path(args.out)):
                _print_report_hint(args.out)
                return 0
        results = session.results()
        if clip and session.finished:
            _clip_outputs(session, spec)
    table.print_summary(results, args.out)
    _print_report_hint(args.out)
    return 0


def _run_many(args: argparse.Namespace, config: ATLConfig) -> int:
    """Several annotation JSONs, each a resumable run in ``OUT/<file stem>/`` with the simulated annotator,
    on the run engine (``--engine``, ``--workers``): a killed run resumes where it stopped, a finished one
    is not redone."""
    from vatl.atl.runner import RunSpec
    from vatl.bench.engines import get_engine
    from vatl.errors import UserError

    if (args.oracle or "simulated") != "simulated":
        raise UserError("several videos run with the simulated annotator only; annotate one video at a time")
    clips = [str(v) for v in args.video if is_media(v)]
    if clips:
        raise UserError(f"several videos must be annotation JSONs (clips have no ground truth to simulate the "
                        f"annotator): {', '.join(clips)}")
    stems = [v.stem for v in args.video]
    repeated = sorted({s for s in stems if stems.count(s) > 1})
    if repeated:
        raise UserError(f"two videos would share the run folder {args.out / repeated[0]}: give files with "
                        "different names")
    specs = [RunSpec(str(v), str(args.out / v.stem), config.to_dict(),
                     None if args.checkpoint is None else str(args.checkpoint), args.device,
                     None if args.image_root is None else str(args.image_root),
                     None if args.mapping is None else str(args.mapping), args.fallback, amp=args.amp)
             for v in args.video]
    engine = get_engine(args.engine, workers=args.workers, scheduler=args.scheduler, gpus_per_run=args.gpus_per_run)
    print(f"vatl run: {len(specs)} videos, {config.criterion}, {engine.name} engine → {args.out}")
    failed = []

    def done(i: int, result: dict | None, error: str | None) -> None:
        if error is not None:
            failed.append(stems[i])
            print(f"{stems[i]}: failed: {error}")
        else:
            alc = result["ALC"]
            print(f"{stems[i]}: ALC {'—' if alc is None else f'{alc:.2f}'}, {result['reason']} → {specs[i].out_dir}")

    engine.map(run_video, specs, on_done=done)
    if failed:
        raise UserError(f"{len(failed)} of {len(specs)} runs failed: {', '.join(failed)} (run again to resume)")
    return 0


def run_video(spec: RunSpec) -> dict:
    """One video of ``_run_many`` (a worker process): run or resume it; its ALC and how it ended."""
    from vatl.atl.runner import run_simulated

    results = run_simulated(spec)
    return {"ALC": results["summary"].get("ALC"), "reason": (results.get("final") or {}).get("reason", "finished")}


def _print_report_hint(out: Path) -> None:
    """The run's `vatl explain` report (its path, or the command that makes it)."""
    from vatl.explain.links import report_hint

    hint = report_hint(out)
    if hint:
        print(hint)


def _person_step(session: ATLSession, out: Path) -> bool:
    """Answer the current cycle from its answer file if present, then write the next query file.

    Returns True when the run is finished.
    """
    while (pending := session.query()) is not None:
        answers = out / f"answers_cycle_{pending.cycle:02d}.json"
        if not answers.exists():
            query = out / f"query_cycle_{pending.cycle:02d}.json"
            write_query_file(query, session.video, pending.indices, pending.keypoints[pending.indices])
            if session.video.source.get("clip"):  # a clip's frames have no image files: show the samples
                from vatl.video.outputs import write_query_images

                images = write_query_images(session.video, pending.indices, pending.keypoints[pending.indices],
                                            out / query.stem)
                print(f"the queried samples' images: {out / query.stem}/ ({len(images)} files, sample_<i>.jpg)")
            print(f"annotate the {len(pending.indices)} samples of {query}, write the answers to {answers} "
                  f"({ANSWER_FORMAT}), then run the same command again")
            return False
        try:
            session.update(FileOracle(answers).answer(pending.indices, pending.keypoints[pending.indices]))
        except AnswerError as exc:
            raise ValueError(f"answer file {answers}: {exc}") from None
    return True


def _zero_shot(inputs: RunInputs, spec: RunSpec) -> int:
    """``--oracle none``: the estimator's poses of every detected person, and the overlay (no ATL cycle). A
    folder holding an ATL run is refused (its poses would be overwritten); the folder is locked meanwhile."""
    from vatl.atl.run_store import RunStore
    from vatl.errors import UserError
    from vatl.video.ingest import VideoOptions
    from vatl.video.outputs import write_zero_shot

    out = Path(spec.out_dir)
    if (out / "config.json").exists():
        raise UserError(f"{out} holds an ATL run: resume it with its --oracle (e.g. person), or give another --out "
                        "for the poses without annotation")
    options = VideoOptions.from_dict(spec.video)
    lock = RunStore(out).lock().acquire()
    try:
        with StepBars() as bars:
            written = write_zero_shot(inputs.video, inputs.model, out, overlay=options.overlay, progress=bars.on_event)
    finally:
        lock.release()
    print(f"{inputs.video.num_samples} person instances in {inputs.video.num_tracks} tracks; wrote "
          + ", ".join(str(p) for p in written))
    return 0


def _clip_outputs(session: ATLSession, spec: RunSpec) -> None:
    """After the last cycle on a clip: the PoseTrack21 poses file and the overlay video."""
    import numpy as np

    from vatl.video.ingest import VideoOptions
    from vatl.video.outputs import write_clip_outputs

    labeled = np.zeros(session.video.num_samples, dtype=bool)
    labeled[session.labels.indices] = True
    with StepBars() as bars:
        written = write_clip_outputs(session.video, Path(spec.out_dir), labeled,
                                     overlay=VideoOptions.from_dict(spec.video).overlay, progress=bars.on_event)
    print("wrote " + ", ".join(str(p) for p in written))
