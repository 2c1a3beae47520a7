"""What the annotator's background worker is doing, from the session's progress events (thread-safe).

The page polls it: ``estimating`` the video with the current model, ``selecting`` the query,
``retraining`` (epoch k of E_c), ``stopping`` (export); ``idle`` between jobs; the last job's error, if any.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from vatl.atl.session import ProgressCallback


class ProgressBoard:
    """The latest progress of the one background job; ``forward`` also receives every event (e.g. the
    terminal's cycle table)."""

    def __init__(self, forward: ProgressCallback | None = None) -> None:
        self._lock = threading.Lock()
        self._forward = forward
        self._status: dict[str, Any] = {"job": None, "phase": "idle", "error": None}
        self.version = 0  # counts finished jobs: the page reloads the query when it changes

    def start_job(self, job: str) -> None:
        with self._lock:
            self._status = {"job": job, "phase": "starting", "error": None, "since": time.time()}

    def end_job(self, error: str | None = None) -> None:
        with self._lock:
            self._status = {"job": None, "phase": "idle", "error": error}
            self.version += 1

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._status["job"] is not None

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {**self._status, "busy": self._status["job"] is not None, "version": self.version}

    def on_event(self, event: str, info: Any) -> None:
        """A progress event of :class:`~vatl.atl.session.ATLSession` (see its ``progress`` argument)."""
        update: dict[str, Any] = {}
        if event == "cycle_start":
            update = {"phase": "estimating", "cycle": info["cycle"], "epoch": None, "epochs": None}
        elif event == "phase" and info["phase"] == "estimate":
            update = {"phase": "selecting"}
        elif event == "retrain":
            update = {"phase": "retraining", "cycle": info["cycle"], "epoch": 0, "epochs": info["epochs"],
                      "samples": info["samples"]}
        elif event == "epoch":
            update = {"phase": "retraining", "epoch": info["epoch"], "epochs": info["epochs"],
                      "loss": info["loss"]}
        elif event == "cycle_end":
            update = {"phase": "saved", "cycle": info.cycle}
        if update:
            with self._lock:
                if self._status["job"] is not None:
                    self._status.update(update)
        if self._forward is not None:
            self._forward(event, info)
