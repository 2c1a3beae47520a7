"""Independent jobs in worker processes: the one process pool of vatl (benchmark runs, demo runs, synthetic
videos).

Workers are *spawned*, not forked: a forked child inherits the parent's OpenCV / OpenMP thread pools and
can deadlock (seen in the test suite); scripts that call this need the usual ``__main__`` guard. Each
worker uses one torch / OpenMP thread, so that ``workers`` processes use ``workers`` cores and never
oversubscribe a busy machine. One failing job is reported with its error; the others go on.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
Done = Callable[[int, Any, "str | None"], None]


def _worker_init() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def run_parallel(fn: Callable[[T], R], items: Sequence[T], workers: int = 2,
                 on_done: Done | None = None, catch: bool = True) -> list[R | None]:
    """``[fn(item) for item in items]`` in ``workers`` processes (in this process when ``workers`` <= 1 or
    there is one item); ``fn`` must be importable (a module-level function).

    ``on_done(position, result, error)`` is called in this process as each job ends (in completion
    order). With ``catch``, a job that raises gives ``None`` and its error text ``"Type: message"``;
    without it, the first error is raised once the running jobs have ended.
    Returns the results in the order of ``items``.
    """
    results: list[R | None] = [None] * len(items)

    def finish(i: int, call: Callable[[], R]) -> None:
        try:
            results[i] = call()
        except Exception as exc:
            if not catch:
                raise
            if on_done is not None:
                on_done(i, None, f"{type(exc).__name__}: {exc}")
            return
        if on_done is not None:
            on_done(i, results[i], None)

    if workers <= 1 or len(items) <= 1:
        for i, item in enumerate(items):
            finish(i, lambda item=item: fn(item))
        return results
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init) as pool:
        futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
        for future in as_completed(futures):
            finish(futures[future], future.result)
    return results
