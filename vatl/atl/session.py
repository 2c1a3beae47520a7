"""One ATL run on one video: cycles of estimate → select → annotate → retrain, resumable.

A cycle c (Sec. 3 of the paper, ``docs/method.md``):

1. **estimate** every sample once with M_c; criteria that need heatmaps listen to the streaming pass;
2. **evaluate** AP of M_c with the labels so far counted correct (the learning-curve point at |L|/N);
3. **select** Q from U with the criterion (budget: the schedule's next cumulative target minus |L|);
4. **annotate**: the oracle answers some or all of Q (unanswered samples stay in U);
5. G_c = mean OKS of M_c on the answered part of Q; the **stopping** criterion is checked;
6. **retrain** E_c = floor(α(1 − G_c)) epochs on Q ∪ R, R = {x ∈ L_prev : OKS(x) < θ + m};
7. the model and the run state are saved: a killed run resumes from the last finished cycle.

Every cycle draws its randomness from (seed, cycle), so a resumed run makes the same selections and
reaches the same numbers as an uninterrupted one.

:meth:`ATLSession.query` and :meth:`ATLSession.update` split a cycle at the annotation step, so a person
can answer between them, even in another process: the selection awaiting answers is saved, so a
later process asks for the same samples.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vatl.atl.config import ATLConfig
from vatl.atl.oracle import Oracle
from vatl.atl.run_store import RunStore
from vatl.atl.schedule import cumulative_targets
from vatl.atl.stopping import STOPPING_CRITERIA, check_stop
from vatl.criteria import criterion_options, get_criterion
from vatl.criteria.base import SelectionContext, collect_scores
from vatl.data.annotations import LabelStore, Predictions
from vatl.data.video import Video
from vatl.estimator.estimate import estimate
from vatl.estimator.models import PoseModel
from vatl.estimator.train import Finetuner, finetune_config
from vatl.metrics import AP_KEYS, alc, box_areas, evaluate_video, oks

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, dict[str, Any]], None]
MAIN_AP = "AP@0.6"


@dataclass
class PendingQuery:
    """The selection of a cycle waiting for its answers, with what M_c predicted for the whole video."""

    cycle: int
    indices: np.ndarray
    keypoints: np.ndarray
    record: dict[str, Any] = field(default_factory=dict)


def cycle_rng(seed: int, cycle: int, stream: int) -> np.random.Generator:
    """The numpy generator of one cycle's random stream (0: selection, 1: training)."""
    return np.random.default_rng([seed, cycle, stream])


class ATLSession:
    """The state of one run: video, model, labels, records; persisted in ``out_dir``.

    ``model`` is M_0 (a loaded checkpoint); on resume it is replaced by the newest saved cycle model.
    """

    def __init__(self, video: Video, model: PoseModel, config: ATLConfig, out_dir: Path,
                 progress: ProgressCallback | None = None) -> None:
        _check_video(video, model)
        self.video = video
        self.model = model
        self.config = config
        self.store = RunStore(out_dir)
        self.progress = progress or (lambda event, info: None)
        self.criterion = get_criterion(config.criterion, **_with_max_gap(config))
        self.targets = cumulative_targets(video.num_samples, config.schedule)
        self.finetuner = Finetuner(model, finetune_config(model, config.finetune))
        self.labels = LabelStore()
        self.records: list[dict[str, Any]] = []
        self.next_cycle = 0
        self.last_g: float | None = None
        self.stop: dict[str, Any] | None = None
        self.final: dict[str, Any] | None = None
        self.pending: PendingQuery | None = None
        self._last_keypoints: np.ndarray | None = None
        self._resume_or_start()

    # ----------------------------------------------------------------------------------------- state
    def _resume_or_start(self) -> None:
        saved = self.store.load_config()
        current = json.loads(json.dumps(self.config.to_dict()))  # tuples as the saved lists
        if saved is not None and self.store.has_state():
            if saved != current:
                diff = sorted(k for k in set(saved) | set(current) if saved.get(k) != current.get(k))
                raise ValueError(f"{self.store.root} holds a run with other settings ({', '.join(diff)}); "
                                 "use another output folder or the same settings to resume")
            state = self.store.load_state()
            if state.get("video") != self.video.name or state.get("num_samples") != self.video.num_samples:
                raise ValueError(f"{self.store.root} holds a run on video {state.get('video')!r} "
                                 f"({state.get('num_samples')} samples), not {self.video.name!r}")
            self.labels = LabelStore.from_dict(state["labels"])
            self.records = state["records"]
            self.next_cycle = int(state["next_cycle"])
            self.last_g = state.get("last_g")
            self.stop = state.get("stop")
            self.final = state.get("final")
            if self.next_cycle > 0:
                payload = self.store.load_model(self.next_cycle - 1)
                self.model.load_state_dict(payload["model"])
                self.finetuner.load_state_dict(payload["finetuner"])
            log.info("resumed %s at cycle %d (%d labels)", self.store.root, self.next_cycle, len(self.labels))
        else:
            if saved != current:  # a selection left by a run with other settings does not carry over
                self.store.save_pending(None)
            self.store.save_config(self.config.to_dict())

    def _save_state(self) -> None:
        self.store.save_state({
            "video": self.video.name, "num_samples": self.video.num_samples, "next_cycle": self.next_cycle,
            "labels": self.labels.to_dict(), "records": self.records, "last_g": self.last_g,
            "stop": self.stop, "final": self.final,
        })
        self.store.save_results(self.results())

    @property
    def finished(self) -> bool:
        return self.final is not None

    # ----------------------------------------------------------------------------------------- cycle
    def query(self) -> PendingQuery | None:
        """Estimate, evaluate and select this cycle's Q; None when the run is finished."""
        if self.finished:
            return None
        if self.pending is not None:
            return self.pending
        c = self.next_cycle
        if c >= len(self.targets) or len(self.labels) >= self.video.num_samples:
            self._finish("schedule complete")
            return None
        times: dict[str, float] = {}
        self.progress("cycle_start", {"cycle": c, "labeled": len(self.labels)})
        torch.manual_seed(int(cycle_rng(self.config.seed, c, 0).integers(2**31)))

        t = time.perf_counter()
        consumers = self.criterion.pass_consumers(self.video)
        result = estimate(self.model, self.video, consumers, batch_size=self.config.batch_size)
        times["t_estimate"] = time.perf_counter() - t
        self.progress("phase", {"cycle": c, "phase": "estimate", "seconds": times["t_estimate"]})

        t = time.perf_counter()
        evaluation = self._evaluate(result.keypoints)
        times["t_evaluate"] = time.perf_counter() - t

        t = time.perf_counter()
        saved = self.store.load_pending()
        if saved is not None and saved["cycle"] == c:
            # a query already shown to an annotator stays the same, whatever a re-estimate would select
            indices = np.asarray(saved["indices"], dtype=np.int64)
        else:
            budget = int(self.targets[c]) - len(self.labels)
            ctx = SelectionContext.from_labels(
                self.video, self.labels, result.keypoints, result.features, budget,
                cycle_rng(self.config.seed, c, 0), scores=collect_scores(consumers), cycle=c, G=self.last_g)
            indices = np.asarray(self.criterion.select(ctx), dtype=np.int64)
            self.store.save_pending({"cycle": c, "indices": indices.tolist()})
        times["t_select"] = time.perf_counter() - t
        self.progress("phase", {"cycle": c, "phase": "select", "seconds": times["t_select"]})

        n = self.video.num_samples
        record = {
            "cycle": c,
            "num_labeled": len(self.labels),
            "labeled_percent": 100.0 * len(self.labels) / n,
            "AP@0.6_raw": evaluation["raw"][MAIN_AP], "AP@0.6": evaluation["with_labels"][MAIN_AP],
            "AP_raw": evaluation["raw"]["AP"], "AP": evaluation["with_labels"]["AP"],
            "ap_raw": evaluation["raw"], "ap_with_labels": evaluation["with_labels"],
            "true_oks_min": self._true_oks_min(result.keypoints),
            "num_queried": int(len(indices)), "selected": indices.tolist(),
            **times,
        }
        self._last_keypoints = result.keypoints
        self.pending = PendingQuery(c, indices, result.keypoints, record)
        return self.pending

    def update(self, answers: dict[int, np.ndarray]) -> dict[str, Any]:
        """Take the answers to the pending query (a partial answer is allowed), retrain, save the cycle.

        Returns the cycle's record.
        """
        if self.pending is None:
            raise ValueError("no pending query: call query() first")
        pending, self.pending = self.pending, None
        c, record, kp = pending.cycle, pending.record, pending.keypoints
        wanted = set(pending.indices.tolist())
        previous = self.labels.indices

        t = time.perf_counter()
        answered = []
        for i in pending.indices.tolist():
            label = answers.get(i)
            if label is None:
                continue
            label = np.asarray(label, dtype=np.float64)
            if not (label[:, 2] > 0).any():
                log.warning("sample %d: the answer annotates no joint; it returns to the pool", i)
                continue
            self.labels.add(i, label, cycle=c, replaced=kp[i])
            answered.append(i)
        extra = sorted(set(answers) - wanted)
        if extra:
            log.warning("ignored answers for samples that were not queried: %s", extra[:10])
        answered = np.asarray(answered, dtype=np.int64)
        t_annotate = time.perf_counter() - t

        oks_query = self._oks(kp, answered)
        oks_previous = self._oks(kp, previous)
        g = float(oks_query.mean()) if len(answered) else None
        if g is not None:
            self.last_g = g

        stop, both = None, {}
        if self.config.stop_mode != "off":
            for name in STOPPING_CRITERIA:  # both are recorded (for the stopping table); the chosen one acts
                decision = check_stop(name, oks_query, np.concatenate([oks_query, oks_previous]), self.config.theta)
                both.update({f"{name}_value": decision.value, f"{name}_met": decision.met})
                if name == self.config.stop_criterion:
                    stop = {"criterion": name, "value": decision.value, "met": decision.met,
                            "reason": decision.reason}
        after = self._evaluate(kp)

        t = time.perf_counter()
        epochs = self.config.epochs_for(g)
        retrain_r = previous[oks_previous < self.config.theta + self.config.margin]
        train_idx = np.concatenate([answered, retrain_r])
        stopping_now = stop is not None and stop["met"] and self.config.stop_mode == "stop"
        all_labeled = len(self.labels) >= self.video.num_samples
        losses: list[float] = []
        if epochs > 0 and len(train_idx) and not stopping_now and not all_labeled:
            label_kp = np.stack([self.labels[int(i)].keypoints for i in train_idx])
            losses = self.finetuner.train_epochs(self.video, train_idx, label_kp, epochs,
                                                 cycle_rng(self.config.seed, c, 1))
        t_retrain = time.perf_counter() - t

        record.update({
            "num_answered": int(len(answered)),
            "num_labeled_after": len(self.labels),
            "labeled_percent_after": 100.0 * len(self.labels) / self.video.num_samples,
            "ap_after_labels": after["with_labels"], "true_oks_min_after": self._true_oks_min(kp),
            "G": g, "epochs": epochs if losses else 0, "epochs_planned": epochs,
            "num_retrained_R": int(len(retrain_r)), "num_trained": int(len(train_idx)) if losses else 0,
            "loss_first": losses[0] if losses else None, "loss_last": losses[-1] if losses else None,
            "stop": stop, "stop_value": None if stop is None else stop["value"],
            "stop_met": None if stop is None else stop["met"], **both,
            "t_annotate": t_annotate, "t_retrain": t_retrain,
        })
        record["t_total"] = sum(v for k, v in record.items() if k.startswith("t_") and k != "t_total")
        self.records.append(record)
        self.progress("cycle_end", record)
        self.next_cycle = c + 1
        self.store.save_model(c, {"model": self.model.state_dict(), "finetuner": self.finetuner.state_dict()},
                              keep=self.config.keep_models)
        if stopping_now:
            self.stop = {**stop, "cycle": c, "labeled_percent": record["labeled_percent_after"]}
            self._finish(f"stopped by {stop['criterion']}: {stop['reason']}", kp, after)
        elif all_labeled:
            self._finish("every sample is labeled", kp, after)
        elif self.next_cycle >= len(self.targets):
            self._finish_with_final_pass()
        self._save_state()
        self.store.save_pending(None)
        return record

    def run(self, oracle: Oracle) -> dict[str, Any]:
        """Cycles until the schedule is complete or the stopping criterion ends the run."""
        while (pending := self.query()) is not None:
            self.update(oracle.answer(pending.indices, pending.keypoints[pending.indices]))
        return self.results()

    # ----------------------------------------------------------------------------------------- end
    def _finish_with_final_pass(self) -> None:
        """Schedule done but samples left unlabeled (partial answers): one last pass with the final model."""
        result = estimate(self.model, self.video, (), batch_size=self.config.batch_size)
        self._finish("schedule complete", result.keypoints)

    def _finish(self, reason: str, keypoints: np.ndarray | None = None,
                evaluation: dict[str, Any] | None = None) -> None:
        """End the run; ``evaluation`` of ``keypoints`` with the current labels, when already computed."""
        kp = keypoints if keypoints is not None else self._last_keypoints
        final = {"reason": reason, "num_labeled": len(self.labels),
                 "labeled_percent": 100.0 * len(self.labels) / self.video.num_samples}
        if kp is not None:
            evaluation = evaluation or self._evaluate(kp)
            final.update({"AP@0.6": evaluation["with_labels"][MAIN_AP], "AP": evaluation["with_labels"]["AP"],
                          "ap_with_labels": evaluation["with_labels"], "ap_raw": evaluation["raw"]})
            self._export(kp)
        self.final = final
        self._save_state()
        self.progress("finished", final)

    def _export(self, keypoints: np.ndarray) -> None:
        """Poses of every sample in the input's format: labels where labeled, predictions elsewhere."""
        from vatl.data.formats import save_video

        merged = self.labels.merged_with(Predictions.from_keypoints(keypoints))
        fmt = self.video.source.get("format", "posetrack21")
        save_video(self.video, self.store.root / f"poses_{fmt}.json", keypoints=merged.keypoints,
                   scores=merged.scores)

    def _evaluate(self, keypoints: np.ndarray) -> dict[str, dict[str, float | None]]:
        """AP raw and with the labels counted correct; all None for a video without ground truth."""
        if not self.video.has_ground_truth:
            return {"raw": dict.fromkeys(AP_KEYS), "with_labels": dict.fromkeys(AP_KEYS)}
        return evaluate_video(self.video, Predictions.from_keypoints(keypoints), self.labels)

    def _oks(self, keypoints: np.ndarray, indices: np.ndarray) -> np.ndarray:
        if len(indices) == 0:
            return np.zeros(0)
        labels = np.stack([self.labels[int(i)].keypoints for i in indices])
        return oks(keypoints[indices], labels, box_areas(self.video.boxes[indices]),
                   self.video.keypoint_set.sigma_array)

    def _true_oks_min(self, keypoints: np.ndarray) -> float | None:
        """The lowest OKS over all samples of the predictions with the labels so far, against ground truth
        (for the "actual" column of the stopping table: when does every sample truly exceed θ?); None
        without ground truth."""
        has_gt = self.video.visible.any(axis=1)
        if not has_gt.any():
            return None
        merged = self.labels.merged_with(Predictions.from_keypoints(keypoints))
        return float(oks(merged.keypoints[has_gt], self.video.keypoints[has_gt], box_areas(self.video.boxes[has_gt]),
                         self.video.keypoint_set.sigma_array).min())

    def results(self) -> dict[str, Any]:
        """Per-cycle records, the learning curve, ALC (when the curve reaches 100 %) and the stop."""
        curve = [(r["labeled_percent"], r["AP@0.6"]) for r in self.records if r["AP@0.6"] is not None]
        if self.final is not None and self.final.get("AP@0.6") is not None:
            curve.append((self.final["labeled_percent"], self.final["AP@0.6"]))
        summary: dict[str, Any] = {"curve_labeled_percent": [p for p, _ in curve],
                                   "curve_ap60": [a for _, a in curve]}
        points = dict(curve)
        if 0.0 in points and 100.0 in points:
            summary["ALC"] = alc(list(points), list(points.values()))
        else:
            summary["ALC"] = None
            summary["ALC_note"] = "the curve does not span 0-100 % labeled (stopped early or unfinished)"
        return {"video": self.video.name, "num_samples": self.video.num_samples, "config": self.config.to_dict(),
                "cycles": self.records, "final": self.final, "stop": self.stop, "summary": summary}


def _with_max_gap(config: ATLConfig) -> dict[str, Any]:
    """The criterion's options, with the run's neighbour ``max_gap`` for criteria that take one."""
    options = dict(config.criterion_options)
    if "max_gap" in criterion_options(config.criterion):
        options.setdefault("max_gap", config.max_gap)
    return options


def _check_video(video: Video, model: PoseModel) -> None:
    if video.num_samples == 0:
        raise ValueError(f"video {video.name!r} has no person instances: nothing to estimate or select")
    if video.keypoint_set.keypoints != model.keypoint_set.keypoints:
        raise ValueError(f"video {video.name!r} uses keypoint set {video.keypoint_set.name!r} but the model "
                         f"predicts {model.keypoint_set.name!r}; use a checkpoint trained on the video's set")
