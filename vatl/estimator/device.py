"""Choosing the torch device from a ``--device cpu|cuda|auto`` flag (CPU by default, never hard-coded), and
the opt-in mixed precision (``amp``) of the estimator pass and fine-tuning on CUDA.

torch is imported when a device is resolved, not when a command declares its options.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

DEVICE_CHOICES = ("cpu", "cuda", "auto")


def resolve_device(name: str | torch.device | None = "cpu") -> torch.device:
    """The device for ``name``: ``cpu``; ``cuda`` / ``cuda:N`` (error when CUDA is absent); ``auto`` (CUDA
    when present, else CPU); a ``torch.device`` is returned as is; None means CPU."""
    import torch

    if isinstance(name, torch.device):
        return name
    name = (name or "cpu").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"--device {name}: CUDA is not available on this machine (use cpu or auto)")
        return torch.device(name)
    if name == "cpu":
        return torch.device("cpu")
    raise ValueError(f"unknown device {name!r}; expected one of cpu, cuda, cuda:N, auto")


def add_device_arguments(parser: argparse.ArgumentParser, amp: bool = False) -> None:
    """``--device`` and ``--threads`` options shared by commands that run the estimator (with ``amp``: also
    ``--amp``, for commands that pass it on to the estimator pass and fine-tuning)."""
    parser.add_argument("--device", default="cpu",
                        help="cpu (default), cuda, cuda:N or auto (CUDA when present)")
    if amp:
        parser.add_argument("--amp", action="store_true",
                            help="mixed precision (float16 autocast) for the estimator pass and fine-tuning; "
                                 "CUDA only (refused on the CPU); docs/results/gpu.md")
    parser.add_argument("--threads", type=int, default=None,
                        help=f"torch CPU threads (default {DEFAULT_THREADS}: with anything else running, two threads "
                             "trained the embedded model slower than one; docs/results/threads.md)")


# One torch thread unless asked: measured (docs/results/threads.md), two threads lose to one whenever the
# machine runs anything else, and the parallel commands (bench, demo) use one process per core instead.
DEFAULT_THREADS = 1


def configure_threads(threads: int | None) -> None:
    """Set torch's CPU thread count: ``threads`` (>= 1), or :data:`DEFAULT_THREADS` when None."""
    import torch

    threads = DEFAULT_THREADS if threads is None else threads
    if threads < 1:
        raise ValueError(f"--threads must be >= 1, got {threads}")
    torch.set_num_threads(threads)


def check_amp(amp: bool, device: str | torch.device) -> None:
    """Refuse ``amp`` (mixed precision) unless ``device`` is a CUDA device: on the CPU float16 autocast is
    slow and changes the numbers, so it is an error rather than silently ignored."""
    import torch

    if amp and torch.device(device).type != "cuda":
        raise ValueError(f"--amp: mixed precision runs on CUDA only, not on {device} (use --device cuda or drop --amp)")


def mixed_precision(amp: bool, device: str | torch.device) -> contextlib.AbstractContextManager:
    """The context a forward pass runs in: ``torch.autocast`` to float16 on CUDA when ``amp``, else nothing
    (float32 exactly as without it). ``amp`` off CUDA: ValueError (:func:`check_amp`)."""
    import torch

    check_amp(amp, device)
    return torch.autocast("cuda", dtype=torch.float16) if amp else contextlib.nullcontext()
