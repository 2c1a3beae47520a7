"""``vatl wpu-pretrain``: train the WPU autoencoder on the ground-truth poses of PoseTrack-layout folders."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vatl.commands._args import nonnegative_float, nonnegative_int, positive_float, positive_int

HELP = "pretrain the WPU pose autoencoder on ground-truth poses (PoseTrack-layout JSON folders)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", nargs="+", default=None, metavar="FOLDER",
                        help="folders of per-video annotation JSON (e.g. <dataset>/posetrack_data/train); "
                             "files may be given too (default: the synthetic source training set, generated "
                             "under runs/synthetic if missing)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output .pt (default: vatl/assets/wpu_<keypoint set>.pt, the shipped default)")
    parser.add_argument("--epochs", type=nonnegative_int, default=300, help="training epochs (default 300, as published)")
    parser.add_argument("--lr", type=positive_float, default=1e-3, help="Adam learning rate (default 1e-3)")
    parser.add_argument("--batch-size", type=positive_int, default=64)
    parser.add_argument("--heldout", type=nonnegative_float, default=0.2,
                        help="fraction of the videos held out to check the AE (default 0.2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=positive_int, default=None,
                        help="torch CPU threads (default 1, as every command: docs/results/threads.md)")


def run(args: argparse.Namespace) -> int:

    from vatl.criteria.wpu import default_autoencoder_path, save_autoencoder
    from vatl.criteria.wpu_pretrain import pretrain
    from vatl.estimator.device import configure_threads

    configure_threads(args.threads)
    if args.data is None:
        from rich.console import Console

        from vatl.commands.pretrain import default_source_dataset

        args.data = [default_source_dataset(Console()) / "posetrack_data" / "train"]
    if not 0.0 <= args.heldout < 1.0:
        raise ValueError(f"--heldout must be in [0, 1), got {args.heldout}")
    model, keypoint_set, report = pretrain(args.data, epochs=args.epochs, lr=args.lr,
                                           batch_size=args.batch_size, heldout_fraction=args.heldout,
                                           seed=args.seed)
    out = args.out or default_autoencoder_path(keypoint_set)
    info = {"data": [str(d) for d in args.data], "epochs": args.epochs, "lr": args.lr,
            "batch_size": args.batch_size, "seed": args.seed, "heldout_fraction": args.heldout,
            "report": report.__dict__}
    save_autoencoder(out, model, keypoint_set, info)
    for line in report.lines():
        print(line)
    print(f"saved {out}")
    print(json.dumps({"heldout": report.heldout, "corrupted_higher": report.corrupted_higher}))
    return 0
