"""vatl run: active transfer learning on one video (resumable; a person or the ground truth answers)."""

from __future__ import annotations

import argparse
from pathlib import Path

from vatl.atl.config import ATLConfig
from vatl.atl.oracle import FileOracle, SimulatedOracle, write_query_file
from vatl.atl.schedule import DEFAULT_SCHEDULE, parse_schedule
from vatl.atl.session import ATLSession
from vatl.atl.stopping import STOP_MODES, STOPPING_CRITERIA
from vatl.bench.specs import parse_spec
from vatl.commands._progress import CycleTable
from vatl.criteria import CRITERIA
from vatl.estimator.device import add_device_arguments, configure_threads

HELP = "run ATL cycles on a video (PoseTrack21 / JRDB / COCO JSON) until the schedule or the stop criterion ends"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("video", type=Path, help="annotation JSON of the video (PoseTrack21, JRDB-Pose or COCO with track_id)")
    p.add_argument("--out", type=Path, required=True, help="run folder (created; an existing run is resumed)")
    p.add_argument("--checkpoint", type=Path, default=None, help="estimator checkpoint (default: the embedded one)")
    p.add_argument("--criterion", default="thc+wpu+duw",
                   help=f"selection criterion, optionally with options as name:key=value,...: {', '.join(CRITERIA)}")
    p.add_argument("--schedule", default=",".join(f"{v:g}" for v in DEFAULT_SCHEDULE),
                   help="cumulative labeled percentages per cycle (default %(default)s)")
    p.add_argument("--theta", type=float, default=0.6, help="target OKS θ (stopping and R)")
    p.add_argument("--margin", type=float, default=0.05, help="margin m of R = {OKS < θ + m}")
    p.add_argument("--alpha", type=float, default=250.0, help="E_c = floor(alpha (1 - G_c)) epochs")
    p.add_argument("--max-epochs", type=int, default=None, help="cap on E_c (default: none)")
    p.add_argument("--stop", choices=STOPPING_CRITERIA, default="sc_all", help="stopping criterion")
    p.add_argument("--stop-mode", choices=STOP_MODES, default="report",
                   help="off: not evaluated; report: recorded; stop: ends the run when met")
    p.add_argument("--oracle", choices=("simulated", "person"), default="simulated",
                   help="simulated: ground truth answers; person: write query files and read answer files")
    p.add_argument("--max-gap", type=int, default=1, help="largest frame gap between temporal neighbours")
    p.add_argument("--seed", type=int, default=0)
    add_device_arguments(p)


def config_from_args(args: argparse.Namespace) -> ATLConfig:
    spec = parse_spec(args.criterion)
    return ATLConfig(criterion=spec.name, criterion_options=dict(spec.options), schedule=parse_schedule(args.schedule), alpha=args.alpha,
                     max_epochs=args.max_epochs, theta=args.theta, margin=args.margin,
                     stop_criterion=args.stop, stop_mode=args.stop_mode, seed=args.seed, max_gap=args.max_gap,
                     device=args.device)


def run(args: argparse.Namespace) -> int:
    from vatl.data.formats import load_video, require_samples
    from vatl.estimator.checkpoint import default_checkpoint_path, load_checkpoint

    configure_threads(args.threads)
    config = config_from_args(args)
    video = require_samples(load_video(args.video))
    model = load_checkpoint(args.checkpoint or default_checkpoint_path(), device=args.device)
    table = CycleTable(title=f"vatl run · {video.name} · {config.criterion} · N={video.num_samples}")
    with table:
        session = ATLSession(video, model, config, args.out, progress=table.on_event)
        if args.oracle == "simulated":
            session.run(SimulatedOracle(video))
        elif not _person_step(session, args.out):
            return 0
    table.print_summary(session.results(), args.out)
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
            print(f"annotate the {len(pending.indices)} samples of {query}, write the labels to {answers} "
                  '({"labels": {"<sample>": [[x, y, v], ...]}}), then run the same command again')
            return False
        session.update(FileOracle(answers, session.video.keypoint_set.num_keypoints).answer(
            pending.indices, pending.keypoints[pending.indices]))
    return True
