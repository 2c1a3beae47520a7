"""One ATL run on one video: cycles of estimate → select → annotate → retrain, resumable.

A cycle c (Sec. 3 of the paper, ``docs/method.md``):

1. **estimate** every sample once with M_c; criteria that need heatmaps listen to the streaming pass;
2. **evaluate** AP of M_c with the labels so far counted correct (the learning-curve point at |L|/N);
3. **select** Q from U with the criterion (budget: the schedule's next cumulative target minus |L|);
4. **annotate**: the annotator labels, accepts, skips or rejects each sample of Q (:mod:`.answers`);
5. G_c = mean OKS of M_c on the new labels; the **stopping** criterion is checked;
6. **retrain** E_c = floor(α(1 − G_c)) epochs on Q ∪ R, R = {x ∈ L_prev : OKS(x) < θ + m};
7. the model and the run state are saved: a killed run resumes from the last finished cycle.

Every cycle draws its randomness from (seed, cycle), so a resumed run makes the same selections and
reaches the same numbers as an uninterrupted one.

:meth:`ATLSession.query` and :meth:`ATLSession.update` split a cycle at the annotation step, so that a
person can answer between them, even in another process: the selection awaiting answers is saved, so a
later process asks for the same samples. :meth:`~ATLSession.update` is a transaction: it validates every
answer first, computes (G_c, stopping, retraining) on a copy of the state, writes the cycle, and only
then takes the new state; a failure anywhere leaves the session, its model and its folder as they were,
and the same call can be retried. The run folder is locked while a session is open (:meth:`close`).

Rejected samples (not a person) leave the pool for good: the schedule's percentages are of the N − |rejected|
samples that are people, and they are left out of the exported poses.
"""

from __future__ import annotations

import copy
import json
import logging
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from vatl.atl.answers import LABEL, REJECT, check_answers
from vatl.atl.config import ATLConfig, without_legacy_fields
from vatl.atl.hooks import PredictionRefiner, refined, training_extension
from vatl.atl.oracle import Oracle
from vatl.atl.propagation import TrackLayout
from vatl.atl.records import CycleRecord
from vatl.atl.run_store import RunStore
from vatl.atl.schedule import cumulative_targets
from vatl.atl.stopping import STOPPING_CRITERIA, check_stop
from vatl.criteria import Criterion, criterion_options, get_criterion
from vatl.criteria.base import SelectionContext, collect_scores
from vatl.data.annotations import LabelStore, Predictions
from vatl.data.video import Video
from vatl.estimator.estimate import estimate
from vatl.estimator.train import Finetuner, finetune_config
from vatl.explain.record import explain_consumers, record_cycle
from vatl.metrics import AP_KEYS, alc, correct_percent, evaluate_video, oks

if TYPE_CHECKING:
    from vatl.estimator.contract import PoseEstimator

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, Any], None]
MAIN_AP = "AP@0.6"


@dataclass
class PendingQuery:
    """The selection of a cycle waiting for its answers, with what M_c predicted for the whole video.

    keypoints: the predictions the run delivers (shown to the annotator), after the criterion's
    refinement when it has one (:mod:`vatl.atl.hooks`); model_keypoints: M_c's own (None: the same).
    """

    cycle: int
    indices: np.ndarray
    keypoints: np.ndarray
    record: CycleRecord
    model_keypoints: np.ndarray | None = None


@dataclass
class RunState:
    """Everything a run folder's ``state.json`` holds; the session changes it only by replacing it whole."""

    labels: LabelStore = field(default_factory=LabelStore)
    rejected: dict[int, int] = field(default_factory=dict)  # sample -> cycle it was rejected in
    records: list[CycleRecord] = field(default_factory=list)
    next_cycle: int = 0
    last_g: float | None = None
    stop: dict[str, Any] | None = None
    final: dict[str, Any] | None = None

    def copy(self) -> RunState:
        return RunState(LabelStore(dict(self.labels.labels)), dict(self.rejected), list(self.records),
                        self.next_cycle, self.last_g, copy.deepcopy(self.stop), copy.deepcopy(self.final))

    def to_dict(self, video: Video) -> dict[str, Any]:
        return {"video": video.name, "num_samples": video.num_samples, "next_cycle": self.next_cycle,
                "labels": self.labels.to_dict(), "rejected": {str(i): c for i, c in self.rejected.items()},
                "records": [r.to_dict() for r in self.records], "last_g": self.last_g, "stop": self.stop,
                "final": self.final}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: Path) -> RunState:
        try:
            return cls(LabelStore.from_dict(d["labels"]), {int(i): int(c) for i, c in d.get("rejected", {}).items()},
                       [CycleRecord.from_dict(r) for r in d["records"]], int(d["next_cycle"]), d.get("last_g"),
                       d.get("stop"), d.get("final"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{where}: corrupt run state ({type(exc).__name__}: {exc}); remove the folder to "
                             "start over") from None


def cycle_rng(seed: int, cycle: int, stream: int) -> np.random.Generator:
    """The numpy generator of one cycle's random stream (0: selection, 1: training)."""
    return np.random.default_rng([seed, cycle, stream])


class ATLSession:
    """The state of one run: video, model, labels, records; persisted and locked in ``out_dir``.

    ``model`` is M_0 (a loaded checkpoint); on resume it is replaced by the newest saved cycle model.
    ``criterion``: a :class:`~vatl.criteria.Criterion` object to use instead of ``config.criterion``'s
    registry entry (its ``name`` is stored in the config and checked on resume).
    Use as a context manager, or call :meth:`close`, to release the run folder.
    ``explain``: save each cycle's data for ``vatl explain`` (:mod:`vatl.explain.record`; never changes
    the run's selections or numbers).
    ``amp``: mixed precision for the estimator pass and fine-tuning (CUDA only, a ValueError elsewhere); like
    the device, a choice of the caller that may change between a run and its resume.
    """

    def __init__(self, video: Video, model: PoseEstimator, config: ATLConfig, out_dir: Path,
                 progress: ProgressCallback | None = None, criterion: Criterion | None = None,
                 explain: bool = True, amp: bool = False) -> None:
        _check_video(video, model)
        if criterion is not None and criterion.name != config.criterion:
            config = replace(config, criterion=criterion.name, criterion_options={})
        self.criterion = criterion or get_criterion(config.criterion, **_with_max_gap(config))
        check = getattr(self.criterion, "check", None)
        if check is not None:
            check(video)  # criterion × skeleton, before anything is written (UnsuitableCriterion says why)
        self.video = video
        self.layout = TrackLayout.of(video)  # frames, tracks, boxes: what the criterion's hooks may see
        self.model = model
        self.config = config
        self.progress = progress or (lambda event, info: None)
        self.explain = explain
        self.amp = amp
        self.store = RunStore(out_dir)
        self._lock = self.store.lock().acquire()
        self._release = weakref.finalize(self, self._lock.release)
        try:
            self.finetuner = Finetuner(model, finetune_config(model, config.finetune), amp=amp)
            self.state = RunState()
            self.pending: PendingQuery | None = None
            self._last_keypoints: np.ndarray | None = None
            self._resume_or_start()
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the run folder (the session must not be used afterwards)."""
        self._release()

    def __enter__(self) -> ATLSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------------------------------- state
    @property
    def labels(self) -> LabelStore:
        return self.state.labels

    @property
    def rejected(self) -> dict[int, int]:
        return self.state.rejected

    @property
    def records(self) -> list[CycleRecord]:
        return self.state.records

    @property
    def next_cycle(self) -> int:
        return self.state.next_cycle

    @property
    def finished(self) -> bool:
        return self.state.final is not None

    @property
    def num_people(self) -> int:
        """N − |rejected|: the samples the schedule's percentages refer to."""
        return self.video.num_samples - len(self.state.rejected)

    def _resume_or_start(self) -> None:
        saved = self.store.load_config()
        current = json.loads(json.dumps(self.config.to_dict()))  # tuples as the saved lists
        saved = None if saved is None else without_legacy_fields(saved)
        if saved is not None and self.store.has_state():
            if saved != current:
                diff = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
                raise ValueError(f"{self.store.root} holds a run with other settings ({', '.join(diff)}); "
                                 "use another output folder or the same settings to resume")
            state = self.store.load_state()
            older_name = Path(str(self.video.source.get("path", ""))).stem  # runs named videos by file stem
            if state.get("video") not in (self.video.name, older_name) \
                    or state.get("num_samples") != self.video.num_samples:
                raise ValueError(f"{self.store.root} holds a run on video {state.get('video')!r} "
                                 f"({state.get('num_samples')} samples), not {self.video.name!r}")
            self.state = RunState.from_dict(state, self.store.state_path)
            self._check_state_indices()
            if self.next_cycle > 0:
                payload = self.store.load_model(self.next_cycle - 1)
                try:
                    self.model.load_state_dict(payload["model"])
                    self.finetuner.load_state_dict(payload["finetuner"])
                except (RuntimeError, KeyError, ValueError, TypeError) as exc:
                    raise ValueError(f"{self.store.model_path(self.next_cycle - 1)}: does not fit this run's "
                                     f"model ({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
            log.info("resumed %s at cycle %d (%d labels)", self.store.root, self.next_cycle, len(self.labels))
        else:
            if saved != current:  # a selection left by a run with other settings does not carry over
                self.store.save_pending(None)
            self.store.save_config(self.config.to_dict())

    def _check_state_indices(self) -> None:
        n = self.video.num_samples
        taken = [*self.labels.labels, *self.rejected]
        if any(not 0 <= i < n for i in taken) or len(set(taken)) != len(taken):
            raise ValueError(f"{self.store.state_path}: labels or rejections refer to samples outside "
                             f"0..{n - 1} or to one sample twice; remove the folder to start over")

    def _save(self, state: RunState) -> None:
        """Write ``state`` (the commit point), then the results derived from it."""
        self.store.save_state(state.to_dict(self.video))
        self.store.save_results(self._results(state))

    # ----------------------------------------------------------------------------------------- cycle
    def query(self) -> PendingQuery | None:
        """Estimate, evaluate and select this cycle's Q; None when the run is finished."""
        if self.finished:
            return None
        if self.pending is not None:
            return self.pending
        c = self.next_cycle
        targets = self._targets()
        if c >= len(targets) or len(self.labels) >= self.num_people:
            self._finish_now("schedule complete" if self.num_people else "every sample was rejected")
            return None
        times: dict[str, float] = {}
        self.progress("cycle_start", {"cycle": c, "labeled": len(self.labels)})
        torch.manual_seed(int(cycle_rng(self.config.seed, c, 0).integers(2**31)))

        t = time.perf_counter()
        consumers = self.criterion.pass_consumers(self.video)
        extra = explain_consumers(self.video, consumers, self.config.max_gap) if self.explain else []
        result = estimate(self.model, self.video, [*consumers, *extra], batch_size=self.config.batch_size,
                          amp=self.amp)
        times["t_estimate"] = time.perf_counter() - t
        self.progress("phase", {"cycle": c, "phase": "estimate", "seconds": times["t_estimate"]})

        t = time.perf_counter()
        evaluation = self._evaluate(result.keypoints, self.labels)
        times["t_evaluate"] = time.perf_counter() - t
        keypoints = self._delivered(result.keypoints, self.labels)  # hook: the criterion may refine them

        t = time.perf_counter()
        indices = self._saved_selection(c)
        if indices is None:
            budget = int(targets[c]) - len(self.labels)
            ctx = SelectionContext.from_labels(
                self.video, self.labels, keypoints, result.features, budget,
                cycle_rng(self.config.seed, c, 0), scores=collect_scores(consumers), cycle=c, G=self.state.last_g,
                excluded=self._rejected_mask())
            indices = np.asarray(self.criterion.select(ctx), dtype=np.int64)
            self.store.save_pending({"cycle": c, "indices": indices.tolist()})
        times["t_select"] = time.perf_counter() - t
        self.progress("phase", {"cycle": c, "phase": "select", "seconds": times["t_select"]})
        if self.explain:  # for `vatl explain`: scores, features and a few heatmaps of this pass (M_c)
            record_cycle(self, c, result.keypoints, result.features, [*consumers, *extra], indices, keypoints)

        record = CycleRecord(
            cycle=c, num_labeled=len(self.labels), labeled_percent=self._percent(len(self.labels)),
            ap60_raw=evaluation["raw"][MAIN_AP], ap60=evaluation["with_labels"][MAIN_AP],
            ap_mean_raw=evaluation["raw"]["AP"], ap_mean=evaluation["with_labels"]["AP"],
            ap_raw=evaluation["raw"], ap_with_labels=evaluation["with_labels"],
            correct_raw=evaluation["correct_raw"], correct=evaluation["correct"],
            true_oks_min=self._true_oks_min(result.keypoints, self.labels),
            num_queried=int(len(indices)), selected=indices.tolist(), **times)
        self._last_keypoints = result.keypoints
        self.pending = PendingQuery(c, indices, keypoints, record, model_keypoints=result.keypoints)
        return self.pending

    def _saved_selection(self, cycle: int) -> np.ndarray | None:
        """The query already shown to an annotator for ``cycle`` (it stays the same, whatever a
        re-estimate would select), or None."""
        saved = self.store.load_pending(self.video.num_samples)
        if saved is None or saved["cycle"] != cycle:
            return None
        taken = [i for i in saved["indices"] if i in self.labels or i in self.rejected]
        if taken:
            raise ValueError(f"{self.store.pending_path}: samples {taken[:5]} are labeled or rejected already; "
                             "remove the file to select this cycle's query again")
        return np.asarray(saved["indices"], dtype=np.int64)

    def update(self, answers: Mapping[Any, Any]) -> CycleRecord:
        """Take the answers to the pending query, retrain, save the cycle; returns the cycle's record.

        answers: sample index -> a (K, 3) label, ``"accept"``, ``"skip"`` or ``"reject"`` (see
        :mod:`vatl.atl.answers`); queried samples left out return to the pool. Invalid answers raise
        :class:`~vatl.atl.answers.AnswerError` and nothing changes; so does any other failure, after
        which the same call can be made again.
        """
        if self.pending is None:
            raise ValueError("no pending query: call query() first")
        pending = self.pending
        c, kp = pending.cycle, pending.keypoints
        t = time.perf_counter()
        checked = check_answers(answers, pending.indices, kp, self.video, c)
        new = self.state.copy()
        previous = new.labels.indices
        for i, answer in checked.items():
            if answer.kind == LABEL:
                new.labels.add(i, answer.keypoints, cycle=c, replaced=kp[i])
            elif answer.kind == REJECT:
                new.rejected[i] = c
        record = copy.deepcopy(pending.record)
        answered = np.asarray([i for i, a in checked.items() if a.kind == LABEL], dtype=np.int64)
        record.num_answered = len(answered)
        record.rejected = [i for i, a in checked.items() if a.kind == REJECT]
        record.skipped = [i for i in pending.indices.tolist() if i not in checked or checked[i].kind not in (LABEL, REJECT)]
        record.num_rejected, record.num_skipped = len(record.rejected), len(record.skipped)
        record.t_annotate = time.perf_counter() - t

        snapshot = self._snapshot()
        model_file = self.store.model_path(c)
        existed = model_file.exists()
        try:
            model_kp = kp if pending.model_keypoints is None else pending.model_keypoints
            export = self._judge_and_retrain(new, record, kp, answered, previous, model_kp)
            self.store.save_model(c, {"model": self.model.state_dict(), "finetuner": self.finetuner.state_dict()})
            if export is not None:
                self._export(export, new)
            self._save(new)
        except BaseException:
            self._restore(snapshot)
            if not existed:
                model_file.unlink(missing_ok=True)
            raise
        self.state, self.pending = new, None
        try:  # the cycle is saved (state.json): what follows only tidies up
            self.store.prune_models(self.config.keep_models)
            self.store.save_pending(None)
        except OSError as exc:  # a stale model or pending file of an older cycle is ignored on resume
            log.warning("could not tidy %s: %s", self.store.root, exc)
        self.progress("cycle_end", record)
        if new.final is not None:
            self.progress("finished", new.final)
        return record

    def _judge_and_retrain(self, new: RunState, record: CycleRecord, kp: np.ndarray, answered: np.ndarray,
                           previous: np.ndarray, model_kp: np.ndarray | None = None) -> np.ndarray | None:
        """G_c, the stopping criteria and ACFT for the answers already in ``new``; completes ``record`` and
        ``new`` (next cycle, stop, final). ``kp``: the delivered predictions of the query (judged by the
        stopping criteria); ``model_kp``: M_c's own (G_c; default ``kp``). Returns M_c's keypoints to export
        when the run ends, else None."""
        c = record.cycle
        model_kp = kp if model_kp is None else model_kp
        oks_query = self._oks(kp, answered, new.labels)
        oks_previous = self._oks(kp, previous, new.labels)
        oks_model = oks_query if model_kp is kp else self._oks(model_kp, answered, new.labels)
        g = float(oks_model.mean()) if len(answered) else None  # M_c's own quality (Eq. 2)
        if g is not None:
            new.last_g = g

        stop = None
        if self.config.stop_mode != "off":
            for name in STOPPING_CRITERIA:  # both are recorded (for the stopping table); the chosen one acts
                decision = check_stop(name, oks_query, np.concatenate([oks_query, oks_previous]), self.config.theta)
                setattr(record, f"{name}_value", decision.value)
                setattr(record, f"{name}_met", decision.met)
                if name == self.config.stop_criterion:
                    stop = {"criterion": name, "value": decision.value, "met": decision.met,
                            "reason": decision.reason}
        t = time.perf_counter()
        after = self._evaluate(model_kp, new.labels)
        record.t_evaluate_after = time.perf_counter() - t

        t = time.perf_counter()
        epochs = self.config.epochs_for(g)
        retrain_r = previous[oks_previous < self.config.theta + self.config.margin]
        train_idx = np.concatenate([answered, retrain_r])
        stopping_now = stop is not None and stop["met"] and self.config.stop_mode == "stop"
        all_labeled = len(new.labels) >= self._num_people(new)
        losses: list[float] = []
        if epochs > 0 and len(train_idx) and not stopping_now and not all_labeled:
            label_kp = np.stack([new.labels[int(i)].keypoints for i in train_idx])
            # hook: the criterion may add pseudo-labeled samples (e.g. the labels' temporal neighbours)
            extra_idx, extra_kp = training_extension(self.criterion, self.layout, model_kp, new.labels)
            train_idx, label_kp = np.concatenate([train_idx, extra_idx]), np.concatenate([label_kp, extra_kp])
            losses = self._retrain(c, train_idx, label_kp, epochs)
        record.t_retrain = time.perf_counter() - t

        record.num_labeled_after = len(new.labels)
        record.labeled_percent_after = self._percent(len(new.labels), new)
        record.ap_after_labels = after["with_labels"]
        record.correct_after = after["correct"]
        record.true_oks_min_after = self._true_oks_min(model_kp, new.labels)
        record.G = g
        record.epochs, record.epochs_planned = (epochs if losses else 0), epochs
        record.num_retrained_R = int(len(retrain_r))
        record.num_trained = int(len(train_idx)) if losses else 0
        record.loss_first, record.loss_last = (losses[0], losses[-1]) if losses else (None, None)
        record.stop = stop
        record.stop_value = None if stop is None else stop["value"]
        record.stop_met = None if stop is None else stop["met"]
        record.t_total = sum(record.phase_times.values())
        new.records.append(record)
        new.next_cycle = c + 1

        if stopping_now:
            new.stop = {**stop, "cycle": c, "labeled_percent": record.labeled_percent_after}
            new.final = self._final(f"stopped by {stop['criterion']}: {stop['reason']}", model_kp, new, after)
            return model_kp
        if all_labeled:
            reason = "every sample is labeled" if self._num_people(new) else "every sample was rejected"
            new.final = self._final(reason, model_kp, new, after)
            return model_kp
        if new.next_cycle >= len(self._targets(new)):
            # schedule done but samples left unlabeled (partial answers): one last pass with the final model
            final_kp = estimate(self.model, self.video, (), batch_size=self.config.batch_size, amp=self.amp).keypoints
            new.final = self._final("schedule complete", final_kp, new)
            return final_kp
        return None

    def _retrain(self, cycle: int, train_idx: np.ndarray, label_kp: np.ndarray, epochs: int) -> list[float]:
        """ACFT: ``epochs`` epochs on samples ``train_idx`` with labels ``label_kp`` (M, K, 3); the mean loss
        per epoch. Reports ``("retrain", {cycle, epochs, samples})`` first and ``("epoch", {cycle, epoch,
        epochs, loss})`` after each epoch (epoch counts 1..epochs of this cycle)."""
        self.progress("retrain", {"cycle": cycle, "epochs": epochs, "samples": int(len(train_idx))})
        first = self.finetuner.epochs_done

        def on_epoch(done: int, loss: float) -> None:
            self.progress("epoch", {"cycle": cycle, "epoch": done - first, "epochs": epochs, "loss": loss})

        return self.finetuner.train_epochs(self.video, train_idx, label_kp, epochs,
                                           cycle_rng(self.config.seed, cycle, 1), on_epoch=on_epoch)

    def run(self, oracle: Oracle) -> dict[str, Any]:
        """Cycles until the schedule is complete or the stopping criterion ends the run."""
        while (pending := self.query()) is not None:
            self.update(oracle.answer(pending.indices, pending.keypoints[pending.indices]))
        return self.results()

    def finish(self, reason: str) -> dict[str, Any]:
        """End the run now (e.g. the annotator stops): the poses are exported with the labels so far and the
        predictions of the last estimate (made first if none was made in this process); a pending query's
        samples stay unlabeled. Returns the run's final record; a finished run is left as it is."""
        if not self.finished and self._last_keypoints is None:
            self.query()  # the current model's predictions for the export (may end the run by itself)
        if not self.finished:
            self._finish_now(reason)
            self.pending = None
            self.store.save_pending(None)
        return dict(self.state.final or {})

    # ----------------------------------------------------------------------------------------- helpers
    def _snapshot(self) -> tuple[Any, ...]:
        """What retraining changes: model weights, optimizer and schedule, torch's random state."""
        return (copy.deepcopy(self.model.state_dict()), copy.deepcopy(self.finetuner.state_dict()),
                torch.get_rng_state())

    def _restore(self, snapshot: tuple[Any, ...]) -> None:
        model_state, finetuner_state, rng = snapshot
        self.model.load_state_dict(model_state)
        self.finetuner.load_state_dict(finetuner_state)
        torch.set_rng_state(rng)

    def _num_people(self, state: RunState) -> int:
        return self.video.num_samples - len(state.rejected)

    def _targets(self, state: RunState | None = None) -> np.ndarray:
        """Cumulative labeled counts per cycle, of the samples that are people."""
        n = self._num_people(state or self.state)
        return cumulative_targets(n, self.config.schedule) if n > 0 else np.zeros(0, dtype=np.int64)

    def _percent(self, count: int, state: RunState | None = None) -> float:
        n = self._num_people(state or self.state)
        return 100.0 * count / n if n else 100.0

    def _rejected_mask(self) -> np.ndarray:
        mask = np.zeros(self.video.num_samples, dtype=bool)
        mask[list(self.rejected)] = True
        return mask

    # ----------------------------------------------------------------------------------------- end
    def _finish_now(self, reason: str) -> None:
        """End the run at the start of a cycle (nothing left to select), with the last pass's keypoints."""
        new = self.state.copy()
        kp = self._last_keypoints
        new.final = self._final(reason, kp, new)
        if kp is not None:
            self._export(kp, new)
        self._save(new)
        self.state = new
        self.progress("finished", new.final)

    def _final(self, reason: str, keypoints: np.ndarray | None, state: RunState,
               evaluation: dict[str, Any] | None = None) -> dict[str, Any]:
        """The run's end: why, how much is labeled and, when ``keypoints`` are known, the final AP."""
        final: dict[str, Any] = {"reason": reason, "num_labeled": len(state.labels),
                                 "num_rejected": len(state.rejected),
                                 "labeled_percent": self._percent(len(state.labels), state)}
        if keypoints is not None:
            evaluation = evaluation or self._evaluate(keypoints, state.labels)
            final.update({"AP@0.6": evaluation["with_labels"][MAIN_AP], "AP": evaluation["with_labels"]["AP"],
                          "correct": evaluation["correct"], "ap_with_labels": evaluation["with_labels"],
                          "ap_raw": evaluation["raw"]})
        return final

    def _export(self, keypoints: np.ndarray, state: RunState) -> None:
        """Poses of every sample that is a person, in the input's format: labels where labeled, the delivered
        predictions (M_c's ``keypoints`` after the criterion's refinement) elsewhere. (Writing over the input
        file keeps the input's records of rejected samples as they were.)"""
        from vatl.data.formats import json_format, save_video

        merged = state.labels.merged_with(self._delivered_predictions(keypoints, state.labels))
        kp, joint_scores = merged.keypoints.copy(), merged.keypoints[..., 2].copy()
        for i, label in state.labels.labels.items():  # labels keep the visibility the annotator gave
            annotated = label.keypoints[:, 2] > 0
            kp[i, annotated, 2] = label.keypoints[annotated, 2]
        keep = np.setdiff1d(np.arange(self.video.num_samples), list(state.rejected))
        video = self.video if len(keep) == self.video.num_samples else self.video.subset(keep)
        fmt = json_format(self.video)
        save_video(video, self.store.root / f"poses_{fmt}.json", keypoints=kp[keep], scores=merged.scores[keep],
                   keypoint_scores=joint_scores[keep])

    def _evaluate(self, keypoints: np.ndarray, labels: LabelStore) -> dict[str, Any]:
        """AP and the share of poses with OKS > θ of M_c's ``keypoints`` alone ("raw") and of the delivered
        predictions with the labels counted correct; None without ground truth."""
        if not self.video.has_ground_truth:
            return {"raw": dict.fromkeys(AP_KEYS), "with_labels": dict.fromkeys(AP_KEYS), "correct_raw": None,
                    "correct": None}
        predictions = Predictions.from_keypoints(keypoints)
        delivered = self._delivered_predictions(keypoints, labels)
        theta = self.config.theta
        evaluation = evaluate_video(self.video, predictions, labels)
        if isinstance(self.criterion, PredictionRefiner):  # "with labels" is of the refined predictions
            evaluation["with_labels"] = evaluate_video(self.video, delivered, labels)["with_labels"]
        return {**evaluation, "correct_raw": correct_percent(self.video, keypoints, theta),
                "correct": correct_percent(self.video, labels.merged_with(delivered).keypoints, theta)}

    def _delivered(self, keypoints: np.ndarray, labels: LabelStore) -> np.ndarray:
        """(N, K, 3) the predictions the run delivers: M_c's ``keypoints``, corrected with the labels by the
        criterion when it is a :class:`~vatl.atl.hooks.PredictionRefiner` (else ``keypoints`` itself)."""
        return refined(self.criterion, self.layout, keypoints, labels)

    def _delivered_predictions(self, keypoints: np.ndarray, labels: LabelStore) -> Predictions:
        """:meth:`_delivered` as :class:`Predictions` with the model's instance scores (from ``keypoints``)."""
        model = Predictions.from_keypoints(keypoints)
        if not isinstance(self.criterion, PredictionRefiner):
            return model
        return Predictions(self._delivered(model.keypoints, labels), model.scores)

    def _oks(self, keypoints: np.ndarray, indices: np.ndarray, labels: LabelStore) -> np.ndarray:
        if len(indices) == 0:
            return np.zeros(0)
        label_kp = np.stack([labels[int(i)].keypoints for i in indices])
        return oks(keypoints[indices], label_kp, self.video.oks_areas()[indices], self.video.keypoint_set.sigma_array)

    def _true_oks_min(self, keypoints: np.ndarray, labels: LabelStore) -> float | None:
        """The lowest OKS over all samples of the predictions with the labels so far, against ground truth
        (for the "actual" column of the stopping table: when does every sample truly exceed θ?); None
        without ground truth."""
        has_gt = self.video.visible.any(axis=1)
        if not has_gt.any():
            return None
        merged = labels.merged_with(self._delivered_predictions(keypoints, labels))
        return float(oks(merged.keypoints[has_gt], self.video.keypoints[has_gt], self.video.oks_areas()[has_gt],
                         self.video.keypoint_set.sigma_array).min())

    def results(self) -> dict[str, Any]:
        """Per-cycle records, the learning curve, ALC (when the curve reaches 100 %) and the stop."""
        return self._results(self.state)

    def _results(self, state: RunState) -> dict[str, Any]:
        curve = [(r.labeled_percent, r.ap60, r.correct) for r in state.records if r.ap60 is not None]
        if state.final is not None and state.final.get("AP@0.6") is not None:
            curve.append((state.final["labeled_percent"], state.final["AP@0.6"], state.final.get("correct")))
        summary: dict[str, Any] = {"curve_labeled_percent": [p for p, _, _ in curve],
                                   "curve_ap60": [a for _, a, _ in curve],
                                   "curve_correct": [c for _, _, c in curve],
                                   "correct_theta": self.config.theta}
        points = {p: a for p, a, _ in curve}
        if 0.0 in points and 100.0 in points:
            summary["ALC"] = alc(list(points), list(points.values()))
        else:
            summary["ALC"] = None
            summary["ALC_note"] = "the curve does not span 0-100 % labeled (stopped early or unfinished)"
        ks = self.video.keypoint_set
        return {"video": self.video.name, "num_samples": self.video.num_samples, "config": self.config.to_dict(),
                "keypoint_set": {"name": ks.name, "keypoints": list(ks.keypoints), "sigmas": list(ks.sigmas),
                                 "sigma_source": ks.sigma_source},
                "cycles": [r.to_dict() for r in state.records], "rejected": sorted(state.rejected),
                "final": state.final, "stop": state.stop, "summary": summary}


def _with_max_gap(config: ATLConfig) -> dict[str, Any]:
    """The criterion's options, with the run's neighbour ``max_gap`` for criteria that take one."""
    options = dict(config.criterion_options)
    if "max_gap" in criterion_options(config.criterion):
        options.setdefault("max_gap", config.max_gap)
    return options


def _check_video(video: Video, model: PoseEstimator) -> None:
    if video.num_samples == 0:
        raise ValueError(f"video {video.name!r} has no person instances: nothing to estimate or select")
    if video.keypoint_set.keypoints != model.keypoint_set.keypoints:
        raise ValueError(f"video {video.name!r} uses keypoint set {video.keypoint_set.name!r} but the model "
                         f"predicts {model.keypoint_set.name!r}; use a checkpoint trained on the video's set")
