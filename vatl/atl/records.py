"""The record of one ATL cycle: what was selected and measured, and what the answers and retraining gave.

A :class:`CycleRecord` is made by :meth:`ATLSession.query` (selection, AP of M_c) and completed by
:meth:`ATLSession.update` (answers, G_c, stopping, retraining). In ``state.json`` and ``results.json`` it
is a JSON object whose keys are the field names, except those listed in :data:`JSON_KEYS` (``AP@0.6``…);
:meth:`CycleRecord.from_dict` reads it back, also from files written before a field existed (the field
takes its default) or after one was dropped (:data:`LEGACY_KEYS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

APDict = dict[str, Any]  # AP@0.5 … AP@0.95 and "AP" (mean), values in % or None


@dataclass
class CycleRecord:
    """One cycle c. Percentages are of the samples that are people (N − rejected); times in seconds."""

    # --- query(): the model M_c, its evaluation and the selection
    cycle: int
    num_labeled: int = 0
    labeled_percent: float = 0.0
    ap60_raw: float | None = None  # AP@0.6 of M_c alone
    ap60: float | None = None  # AP@0.6 with the labels so far counted correct (the learning curve)
    ap_mean_raw: float | None = None  # AP (mean over OKS 0.5…0.95) of M_c alone
    ap_mean: float | None = None  # the same with the labels counted correct
    ap_raw: APDict = field(default_factory=dict)
    ap_with_labels: APDict = field(default_factory=dict)
    correct_raw: float | None = None  # % of samples with OKS > θ, M_c alone (ground truth only)
    correct: float | None = None  # the same with the labels counted correct
    true_oks_min: float | None = None  # lowest true OKS over all samples (ground truth only)
    num_queried: int = 0
    selected: list[int] = field(default_factory=list)
    t_estimate: float = 0.0
    t_evaluate: float = 0.0
    t_select: float = 0.0
    # --- update(): the answers
    num_answered: int = 0  # labels taken (accepted ones included)
    num_skipped: int = 0  # skipped or left unanswered: back to the pool
    num_rejected: int = 0  # not a person: out of the pool for good
    skipped: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    num_labeled_after: int | None = None
    labeled_percent_after: float | None = None
    ap_after_labels: APDict | None = None  # AP of M_c with the new labels counted correct
    correct_after: float | None = None  # % with OKS > θ of M_c with the new labels counted correct
    true_oks_min_after: float | None = None
    G: float | None = None  # mean OKS of M_c on the new labels (Eq. 2)
    # --- stopping (both criteria recorded; the chosen one may end the run)
    stop: dict[str, Any] | None = None
    stop_value: float | None = None
    stop_met: bool | None = None
    sc_min_value: float | None = None
    sc_min_met: bool | None = None
    sc_all_value: float | None = None
    sc_all_met: bool | None = None
    # --- retraining (ACFT)
    epochs: int = 0
    epochs_planned: int = 0
    num_retrained_R: int = 0
    num_trained: int = 0
    loss_first: float | None = None
    loss_last: float | None = None
    t_annotate: float = 0.0
    t_evaluate_after: float = 0.0  # AP with the new labels (the stopping table's point)
    t_retrain: float = 0.0
    t_total: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (keys as in :data:`JSON_KEYS`)."""
        return {JSON_KEYS.get(f.name, f.name): getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CycleRecord:
        """A record from its JSON form; unknown keys are an error naming them."""
        names = {JSON_KEYS.get(f.name, f.name): f.name for f in fields(cls)}
        d = {k: v for k, v in d.items() if k not in LEGACY_KEYS}
        unknown = sorted(set(d) - set(names))
        if unknown:
            raise ValueError(f"cycle record has unknown fields {unknown}")
        if "cycle" not in d:
            raise ValueError("cycle record has no field 'cycle'")
        return cls(**{names[k]: v for k, v in d.items()})

    def get(self, key: str, default: Any = None) -> Any:
        """A field by its JSON key (e.g. ``"AP@0.6"`` or ``"t_total"``)."""
        return getattr(self, FIELD_OF_KEY.get(key, key), default)

    @property
    def phase_times(self) -> dict[str, float]:
        """Seconds per phase: estimate, evaluate, select, annotate, evaluate_after, retrain."""
        return {name: getattr(self, f"t_{name}") for name in PHASES}


PHASES = ("estimate", "evaluate", "select", "annotate", "evaluate_after", "retrain")
JSON_KEYS = {"ap60_raw": "AP@0.6_raw", "ap60": "AP@0.6", "ap_mean_raw": "AP_raw", "ap_mean": "AP"}
FIELD_OF_KEY = {v: k for k, v in JSON_KEYS.items()}
LEGACY_KEYS = ("oks_query_mean",)  # in records of older runs (= G); read and ignored


def cycle_records(result: Mapping[str, Any]) -> list[CycleRecord]:
    """The cycles of a run's results (``results.json`` or :meth:`ATLSession.results`) as records."""
    return [c if isinstance(c, CycleRecord) else CycleRecord.from_dict(c) for c in result.get("cycles", [])]
