"""Value types for command-line options (a bad value is an argparse error naming the option, exit 2), and the
fine-tuning options shared by ``vatl run`` and ``vatl bench``."""

from __future__ import annotations

import argparse
import math


def finite_float(text: str) -> float:
    """A finite number (NaN and infinities are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def nonnegative_float(text: str) -> float:
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def nonnegative_int(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def positive_int(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def add_finetune_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--freeze", default="",
                   help="parameter groups not fine-tuned, e.g. 'backbone' (the encoder: its backward pass is "
                        "skipped; BlazePose trains 3.5–6.4× faster, docs/results/finetune_speed.md)")
    p.add_argument("--pack-epochs", action="store_true",
                   help="one optimizer step takes several epochs' samples when the training set is smaller "
                        "than a batch (fewer, fuller steps)")


def finetune_overrides(args: argparse.Namespace) -> dict:
    """ATLConfig.finetune from ``--freeze`` / ``--pack-epochs`` (empty: the model's own settings)."""
    out: dict = {}
    freeze = [g.strip() for g in args.freeze.split(",") if g.strip()]
    if freeze:
        out["freeze"] = freeze
    if args.pack_epochs:
        out["pack_epochs"] = True
    return out


def add_engine_arguments(p: argparse.ArgumentParser) -> None:
    """Where several runs execute (``vatl bench``, ``vatl run`` with several videos): vatl.bench.engines."""
    p.add_argument("--workers", type=positive_int, default=2,
                   help="parallel processes (local engine, or the local Dask cluster's workers; default %(default)s)")
    p.add_argument("--engine", choices=("local", "dask"), default="local",
                   help="local: worker processes on this machine (default); dask: a Dask cluster (see --scheduler)")
    p.add_argument("--scheduler", default=None,
                   help="dask engine: address of an existing scheduler (tcp://host:8786); default: a local cluster")
    p.add_argument("--gpus-per-run", type=nonnegative_int, default=0,
                   help="dask engine: GPU resources each run takes (workers started with --resources GPU=1)")
