"""The session behind the page: answers saved one by one, undo, submit, stop; one background worker.

The annotator only calls the session's ``query()``, ``update()`` and ``finish()``; the session validates
and owns the run's state. What the person answers before submitting a query is kept in the query's
draft file (:mod:`.drafts`): each answer is checked with the session's own checks
(:func:`vatl.atl.answers.check_answers`) before it is written, so a bad one is refused and nothing is
stored. Submitting hands all the draft's answers to ``update()`` in a background thread (one job at a
time: retraining, then estimating and selecting the next query); requests that would change or read the
query meanwhile get :class:`Busy`. A draft marked submitted whose cycle was not saved (the server was
killed while retraining) is submitted again when the server starts: the answers are never lost.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from vatl.annotate.drafts import AnswerDraft
from vatl.annotate.images import FrameImages
from vatl.annotate.progress import ProgressBoard
from vatl.annotate.views import meta_view, query_view, run_view
from vatl.atl.answers import check_answers
from vatl.atl.runner import RunSpec, open_session
from vatl.atl.session import ATLSession, PendingQuery, ProgressCallback

log = logging.getLogger(__name__)

STOP_REASON = "stopped by the annotator"


class Busy(RuntimeError):
    """The session is working (retraining, estimating): try again when the status says idle."""


class NoQuery(RuntimeError):
    """There is no query to answer (the run is finished, or the first one is not selected yet)."""


class Annotator:
    """One run folder's session, driven by the page. Use :meth:`open`, then :meth:`start`; :meth:`close`."""

    def __init__(self, session: ATLSession, board: ProgressBoard) -> None:
        self.session = session
        self.board = board
        self.images = FrameImages(session.video)
        self._neighbours = session.video.neighbours(session.config.max_gap)
        self._lock = threading.Lock()
        self._draft: AnswerDraft | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def open(cls, spec: RunSpec, forward: ProgressCallback | None = None) -> Annotator:
        """Open (lock) the run folder of ``spec``; ``forward`` also receives the session's progress events."""
        board = ProgressBoard(forward)
        return cls(open_session(spec, progress=board.on_event), board)

    def start(self) -> None:
        """Select (or reload) the current query in the background."""
        self._start("query", self._prepare)

    def close(self, timeout: float | None = None) -> None:
        """Wait up to ``timeout`` s for a running job, then release the run folder; a job still running keeps
        it (the lock goes with the process: a killed job's cycle is redone from the saved draft)."""
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("a %s job is still running; the run folder is released when the process ends",
                            self.board.snapshot()["job"])
                return
        self.session.close()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the running job (if any) has ended."""
        if self._thread is not None:
            self._thread.join(timeout)

    # ------------------------------------------------------------------------------------------ jobs
    def _start(self, name: str, work: Callable[[], None]) -> None:
        with self._lock:
            self._start_locked(name, work)

    def _start_locked(self, name: str, work: Callable[[], None]) -> None:
        if self.board.busy:
            raise Busy(f"the session is busy ({self.board.snapshot()['phase']}); wait until it is idle")
        self.board.start_job(name)
        self._thread = threading.Thread(target=self._job, args=(work,), name=f"vatl-annotate-{name}", daemon=True)
        self._thread.start()

    def _job(self, work: Callable[[], None]) -> None:
        error = None
        try:
            work()
        except Exception as exc:  # noqa: BLE001 - shown on the page; the session is as before the job
            log.error("annotator job failed: %s: %s", type(exc).__name__, exc, exc_info=log.isEnabledFor(logging.DEBUG))
            error = " ".join(str(exc).split()) or type(exc).__name__
        finally:
            self.board.end_job(error)

    def _prepare(self) -> None:
        """The pending query and its draft; a draft submitted before the server stopped is taken now."""
        while True:
            pending = self.session.query()
            if pending is None:
                self._draft = None
                return
            draft = AnswerDraft.open(self.session.store.root, pending.cycle, pending.indices.tolist(),
                                     check=lambda answers, p=pending: self._check(answers, p))
            self._draft = draft
            if not draft.submitted:
                return
            log.info("taking the submitted answers of cycle %d from %s", pending.cycle, draft.path)
            self.session.update(dict(draft.answers))

    def _update(self) -> None:
        assert self._draft is not None
        self.session.update(dict(self._draft.answers))
        self._prepare()

    def _stop(self) -> None:
        if self._draft is not None and self._draft.answers and self.session.pending is not None:
            self.session.update(dict(self._draft.answers))  # the answers given count, the model learns them
            if not self.session.finished:
                self.session.query()  # the new model's predictions for the export
        self._draft = None
        self.session.finish(STOP_REASON)

    # ------------------------------------------------------------------------------------------ answers
    def _check(self, answers: Mapping[Any, Any], pending: PendingQuery) -> None:
        check_answers(answers, pending.indices, pending.keypoints, self.session.video, pending.cycle)

    def _current(self) -> tuple[PendingQuery, AnswerDraft]:
        """The pending query and its draft (the lock is held); Busy or NoQuery otherwise."""
        if self.board.busy:
            raise Busy(f"the session is busy ({self.board.snapshot()['phase']}); wait until it is idle")
        pending = self.session.pending
        if pending is None or self._draft is None:
            raise NoQuery("the run is finished" if self.session.finished else "no query is waiting for answers")
        return pending, self._draft

    def answer(self, sample: int, value: Any) -> dict[str, Any]:
        """Check and save the answer to one queried sample (a (K, 3) label, "accept", "skip", "reject").
        Raises AnswerError with the reason (nothing is saved) for a bad one."""
        with self._lock:
            pending, draft = self._current()
            self._check({sample: value}, pending)
            draft.put(sample, _plain(value))
            return {"sample": sample, "answered": len(draft.answers), "total": len(pending.indices)}

    def undo(self) -> dict[str, Any]:
        """Take back the last answer saved; returns it (``sample`` None when there was none)."""
        with self._lock:
            pending, draft = self._current()
            taken = draft.take_back()
            sample, answer = taken if taken is not None else (None, None)
            return {"sample": sample, "answer": answer, "answered": len(draft.answers), "total": len(pending.indices)}

    def submit(self) -> dict[str, Any]:
        """Hand the query's answers to the session (unanswered samples return to the pool); retraining and
        the next query run in the background."""
        with self._lock:
            pending, draft = self._current()
            self._check(draft.answers, pending)
            draft.mark_submitted()
            self._start_locked("update", self._update)
            return {"cycle": pending.cycle, "answered": len(draft.answers), "total": len(pending.indices)}

    def stop(self) -> dict[str, Any]:
        """End the run and export the poses (the answers given to the current query are taken first)."""
        with self._lock:
            if self.session.finished:
                return {"finished": True}
            self._start_locked("stop", self._stop)
            return {"finished": False}

    # ------------------------------------------------------------------------------------------ views
    def meta(self) -> dict[str, Any]:
        return meta_view(self.session)

    def status(self) -> dict[str, Any]:
        status = self.board.snapshot()
        status.update(finished=self.session.finished, next_cycle=self.session.next_cycle,
                      has_query=not status["busy"] and self.session.pending is not None and self._draft is not None)
        return status

    def query(self) -> dict[str, Any]:
        with self._lock:
            pending, draft = self._current()
            return query_view(self.session, pending, draft, self._neighbours)

    def run(self) -> dict[str, Any]:
        return {**run_view(self.session), "status": self.status()}

    def image(self, sample: int) -> bytes:
        return self.images.jpeg(sample)


def _plain(value: Any) -> Any:
    """An answer as stored in the draft: a word in lower case, a label as rows of [x, y, v] floats."""
    if isinstance(value, str):
        return value.strip().lower()
    return np.asarray(value, dtype=np.float64).tolist()
