"""vatl run: active transfer learning on one video (resumable; a person or the ground truth answers)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vatl.atl.answers import AnswerError
from vatl.atl.config import ATLConfig
from vatl.atl.oracle import ANSWER_FORMAT, FileOracle, SimulatedOracle, write_query_file
from vatl.atl.runner import RunSpec, open_session
from vatl.atl.schedule import DEFAULT_SCHEDULE, parse_schedule
from vatl.atl.session import ATLSession
from vatl.atl.stopping import STOP_MODES, STOPPING_CRITERIA
from vatl.commands._args import finite_float, nonnegative_float, nonnegative_int, positive_int
from vatl.commands._progress import CycleTable
from vatl.criteria import CRITERIA
from vatl.criteria.spec import parse_spec
from vatl.estimator.device import add_device_arguments, configure_threads

HELP = "run ATL cycles on a video (PoseTrack21 / JRDB / COCO JSON) until the schedule or the stop criterion ends"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", type=Path, help="annotation JSON of the video (PoseTrack21, JRDB-Pose or COCO with track_id)")
    p.add_argument("--out", type=Path, required=True, help="run folder (created; an existing run is resumed)")
    p.add_argument("--checkpoint", type=Path, default=None, help="estimator checkpoint (default: the embedded one)")
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
    p.add_argument("--oracle", choices=("simulated", "person"), default="simulated",
                   help="simulated: ground truth answers; person: write query files and read answer files")
    p.add_argument("--max-gap", type=positive_int, default=1, help="largest frame gap between temporal neighbours")
    p.add_argument("--seed", type=int, default=0)
    add_device_arguments(p)


def config_from_args(args: argparse.Namespace) -> ATLConfig:
    spec = parse_spec(args.criterion)
    return ATLConfig(criterion=spec.name, criterion_options=dict(spec.options), schedule=parse_schedule(args.schedule),
                     alpha=args.alpha, max_epochs=args.max_epochs, theta=args.theta, margin=args.margin,
                     stop_criterion=args.stop, stop_mode=args.stop_mode, seed=args.seed, max_gap=args.max_gap)


def run(args: argparse.Namespace) -> int:
    configure_threads(args.threads)
    config = config_from_args(args)
    spec = RunSpec(str(args.video), str(args.out), config.to_dict(),
                   None if args.checkpoint is None else str(args.checkpoint), args.device,
                   None if args.image_root is None else str(args.image_root))
    table = CycleTable(title=f"vatl run · {args.video.name} · {config.criterion}")
    with open_session(spec, progress=table.on_event) as session:
        table.title = f"vatl run · {session.video.name} · {config.criterion} · N={session.video.num_samples}"
        with table:
            if args.oracle == "simulated":
                session.run(SimulatedOracle(session.video))
            elif not _person_step(session, Path(args.out)):
                return 0
        results = session.results()
    table.print_summary(results, args.out)
    return 0


def _person_step(session: ATLSession, out: Path) -> bool:
    """Answer the current cycle from its answer file if present, then write the next query file.

    Returns True when the run is finished.
    """
    while (pending := session.query()) is not None:
        answers = out / f"answers_cycle_{pending.cycle:02d}.json"
        if not answers.exists():
            query = out / f"query_cycle_{pending.cycle:02d}.json"
            write_query_file(query, session.video, pending.indices, pending.keypoints[pending.indices])
            print(f"annotate the {len(pending.indices)} samples of {query}, write the answers to {answers} "
                  f"({ANSWER_FORMAT}), then run the same command again")
            return False
        try:
            session.update(FileOracle(answers).answer(pending.indices, pending.keypoints[pending.indices]))
        except AnswerError as exc:
            raise ValueError(f"answer file {answers}: {exc}") from None
    return True
