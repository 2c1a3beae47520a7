"""Settings of one ATL run (all JSON-able, stored with the run so that a resume can check them)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from vatl.atl.schedule import DEFAULT_SCHEDULE, validate_schedule
from vatl.atl.stopping import STOP_MODES, STOPPING_CRITERIA


@dataclass
class ATLConfig:
    """One run's settings.

    criterion: a name of :mod:`vatl.criteria` (e.g. ``thc+wpu+duw``, ``random``) and its options.
    schedule: cumulative labeled percentages, one per cycle.
    alpha: E_c = floor(alpha·(1 − G_c)) retraining epochs (Eq. 1); ``max_epochs`` caps E_c (None: no cap).
    theta, margin: the user's OKS target θ and the margin m of R = {x ∈ L : OKS(x) < θ + m} (Eq. 3).
    stop_criterion, stop_mode: ``sc_all``/``sc_min``; ``off`` (not evaluated), ``report`` (recorded only),
        ``stop`` (ends the loop when met).
    max_gap: the largest frame gap between temporal neighbours of one track.
    keep_models: how many per-cycle model checkpoints to keep (the newest ones).
    finetune: overrides of the estimator's fine-tuning settings (:class:`vatl.estimator.train.TrainConfig`
        fields: lr, lr_multipliers, weight_decay, gamma, batch_size); empty = the model's defaults (for the
        built-in models the published ones: AdamW lr 2.5e-4, ×5 head, ×10 final layer, wd 0.7, γ 0.99).
    """

    criterion: str = "thc+wpu+duw"
    criterion_options: dict[str, Any] = field(default_factory=dict)
    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    alpha: float = 250.0
    max_epochs: int | None = None
    theta: float = 0.6
    margin: float = 0.05
    stop_criterion: str = "sc_all"
    stop_mode: str = "report"
    seed: int = 0
    max_gap: int = 1
    batch_size: int = 64
    keep_models: int = 2
    finetune: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("alpha", "theta", "margin"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
        for name in ("seed", "max_gap", "batch_size", "keep_models"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} must be an integer, got {value!r}")
        self.schedule = validate_schedule(self.schedule)
        if self.stop_mode not in STOP_MODES:
            raise ValueError(f"unknown stopping mode {self.stop_mode!r}; known: {', '.join(STOP_MODES)}")
        if self.stop_criterion not in STOPPING_CRITERIA:
            raise ValueError(f"unknown stopping criterion {self.stop_criterion!r}; "
                             f"known: {', '.join(STOPPING_CRITERIA)}")
        if not 0 < self.theta < 1:
            raise ValueError(f"theta must be an OKS in (0, 1), got {self.theta}")
        if not 0 <= self.margin < 1:
            raise ValueError(f"margin must be in [0, 1), got {self.margin}")
        if self.alpha < 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}")
        if self.max_epochs is not None and (isinstance(self.max_epochs, bool) or not isinstance(self.max_epochs, int)
                                            or self.max_epochs < 0):
            raise ValueError(f"max_epochs must be an integer >= 0, got {self.max_epochs!r}")
        if self.max_gap < 1 or self.batch_size < 1:
            raise ValueError(f"max_gap and batch_size must be >= 1, got {self.max_gap} and {self.batch_size}")
        if self.keep_models < 2:
            # the previous cycle's model must survive until the new state is written (resume safety)
            raise ValueError("keep_models must be >= 2")

    def epochs_for(self, g: float | None) -> int:
        """E_c = floor(α(1 − G_c)), capped at ``max_epochs``; 0 when no label came back (G undefined).

        E_c = 0 (G_c = 1, or α = 0) means the model is not retrained in that cycle.
        """
        if g is None:
            return 0
        epochs = int(self.alpha * (1.0 - min(max(g, 0.0), 1.0)))  # as published: 250·(1 − 0.9) gives 24
        return epochs if self.max_epochs is None else min(epochs, self.max_epochs)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["schedule"] = list(self.schedule)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ATLConfig:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"run config has unknown fields: {', '.join(sorted(unknown))}")
        return cls(**{**d, "schedule": tuple(d.get("schedule", DEFAULT_SCHEDULE))})


# Fields older run folders hold that are no longer settings of a run ("device": where the model runs is
# the caller's choice and may change between a run and its resume).
LEGACY_FIELDS = ("device",)


def without_legacy_fields(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k not in LEGACY_FIELDS}
