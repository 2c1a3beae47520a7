"""Run engines: where the runs of a benchmark execute. An engine only schedules whole runs; every run is
idempotent in its folder (one per video × criterion × seed, locked while in use, resumed from its last
finished cycle), so any engine can resume any run and a finished one is never redone.

Engines (:data:`ENGINES`):

- ``local`` (default): worker processes on this machine (:func:`vatl.parallel.run_parallel`).
- ``dask``: a Dask distributed cluster — a local one started for the benchmark (``--workers`` processes,
  one thread each) or an existing scheduler (``--scheduler tcp://host:8786``), which reaches SLURM/PBS/
  Kubernetes through dask-jobqueue / dask-kubernetes. A run whose worker dies is resubmitted by the
  scheduler to another worker, which resumes it from its folder (the folder must be on storage every
  worker sees). ``gpus_per_run=1`` makes each run take one ``GPU`` resource (start GPU workers with
  ``--resources GPU=1``), so a GPU worker runs one run at a time.

Dask was chosen over Ray: it is a pure-Python install of a few MB, starts a local cluster in about two
seconds, and its jobqueue/kubernetes deployments cover the clusters users have; nothing of Ray's actor
model is needed to schedule independent runs.

Adding an engine: a class with ``name`` and ``map(fn, items, on_done) -> results`` (the
:class:`RunEngine` contract), a line in :data:`ENGINES`; ``tests/bench/test_engines.py`` runs the
template checks on every registered engine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

from vatl.parallel import Done, run_parallel

log = logging.getLogger(__name__)


@runtime_checkable
class RunEngine(Protocol):
    """Runs ``fn`` over ``items``; results in the order of ``items`` (None for a failed item), and
    ``on_done(position, result, error)`` as each item ends (error: ``"Type: message"``)."""

    name: str

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], on_done: Done | None = None) -> list[Any]: ...


class LocalEngine:
    """Worker processes on this machine (one torch thread each)."""

    name = "local"

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], on_done: Done | None = None) -> list[Any]:
        return run_parallel(fn, items, self.workers, on_done=on_done)


def one_thread_call(fn: Callable[[Any], Any], item: Any) -> Any:
    """``fn(item)`` with one torch / OpenCV thread (what every benchmark worker uses)."""
    import cv2
    import torch

    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    return fn(item)


class DaskEngine:
    """A Dask distributed cluster: ``scheduler`` address, or a local cluster of ``workers`` processes."""

    name = "dask"

    def __init__(self, workers: int = 2, scheduler: str | None = None, gpus_per_run: int = 0,
                 retries: int = 2) -> None:
        self.workers = workers
        self.scheduler = scheduler
        self.gpus_per_run = gpus_per_run
        self.retries = retries

    def client(self):
        """A connected ``distributed.Client`` (a new local cluster when no scheduler is given)."""
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ValueError("the dask engine needs the 'dask' extra: pip install 'vatl[dask]'") from None
        if self.scheduler:
            return Client(self.scheduler, timeout="30s")
        cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                               dashboard_address="127.0.0.1:0", silence_logs=logging.WARNING)  # this machine only
        return Client(cluster)

    def map(self, fn: Callable[[Any], Any], items: Sequence[Any], on_done: Done | None = None,
            client=None) -> list[Any]:
        """``client``: an already connected client to use (else one is made and closed here)."""
        from distributed import as_completed

        own = client is None
        client = client or self.client()
        results: list[Any] = [None] * len(items)
        try:
            resources = {"GPU": self.gpus_per_run} if self.gpus_per_run else None
            futures = {client.submit(one_thread_call, fn, item, pure=False, retries=self.retries,
                                     resources=resources): i for i, item in enumerate(items)}
            for future in as_completed(futures):
                i = futures[future]
                try:
                    results[i] = future.result()
                except Exception as exc:
                    log.error("run %d failed: %s", i, exc)
                    if on_done is not None:
                        on_done(i, None, f"{type(exc).__name__}: {exc}")
                    continue
                if on_done is not None:
                    on_done(i, results[i], None)
        finally:
            if own:
                cluster = getattr(client, "cluster", None)
                client.close()
                if cluster is not None:
                    cluster.close()
        return results


ENGINES: dict[str, type] = {"local": LocalEngine, "dask": DaskEngine}


def get_engine(name: str, **options: Any) -> RunEngine:
    """An engine by name with its options (``workers``, and for dask ``scheduler``, ``gpus_per_run``)."""
    try:
        cls = ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown run engine {name!r}; known: {', '.join(ENGINES)}") from None
    if cls is LocalEngine:
        unknown = sorted(k for k, v in options.items() if k != "workers" and v not in (None, 0))
        if unknown:
            raise ValueError(f"the local engine takes no {', '.join(unknown)} (those are dask options)")
        return LocalEngine(options.get("workers", 2))
    return cls(**{k: v for k, v in options.items() if v is not None})
