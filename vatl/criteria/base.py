"""What every selection criterion sees (:class:`SelectionContext`) and the two roles a criterion plays.

A criterion is used in two steps of an ATL cycle:

1. before the estimator pass, :meth:`Criterion.pass_consumers` returns the :class:`ScoreConsumer` objects
   that accumulate heatmap-based scores (LC, MPE, THC) while the pass streams; after the pass,
   :func:`collect_scores` turns them into the ``scores`` dict of the context;
2. :meth:`Criterion.select` returns the indices to annotate.

Scores are "higher = more uncertain"; selection returns distinct unlabeled sample indices in the order
they were chosen (best first), ties broken by the smaller sample index.

Before a run starts, :meth:`Criterion.check` says whether the criterion can work on a video at all (WPU
needs joint angles of the keypoint set): it raises :class:`UnsuitableCriterion` with the reason, so a run
is refused (or falls back to another criterion) before cycle 0 rather than failing in cycle 1.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from vatl.data.annotations import LabelStore
from vatl.data.video import Video
from vatl.estimator.interface import PassBatch

log = logging.getLogger(__name__)


@runtime_checkable
class ScoreConsumer(Protocol):
    """A :class:`~vatl.estimator.interface.PassConsumer` that ends as one (N,) score per sample."""

    name: str

    def consume(self, batch: PassBatch) -> None: ...

    def scores(self) -> np.ndarray:
        """(N,) float64 scores, higher = more uncertain."""
        ...


class UnsuitableCriterion(ValueError):
    """A criterion cannot work on a video (e.g. WPU on a keypoint set without joint angles); the message
    says why and what to do."""


def collect_scores(consumers: Iterable[ScoreConsumer]) -> dict[str, np.ndarray]:
    """``{consumer.name: consumer.scores()}`` after a pass."""
    return {c.name: c.scores() for c in consumers}


@dataclass(kw_only=True)
class SelectionContext:
    """Everything a criterion may use in one cycle (keyword-only).

    video: the query video (N samples, K keypoint slots).
    unlabeled: (N,) bool, the pool U.
    labeled: (N,) bool, the labeled set L (default: the complement of ``unlabeled``).
    budget: number of samples to select, k >= 0.
    keypoints: (N, K, 3) predictions of this cycle's model: x, y (image pixels), confidence.
    features: (N, D) float32 pooled features of this cycle's model.
    rng: the only source of randomness.
    scores: per-sample scores streamed from the pass, name -> (N,) (see :func:`collect_scores`).
    cycle: ATL cycle index c (0 = first).
    G: G of the previous cycle (mean OKS of its query), None at cycle 0.
    labeled_fraction: |L| / |L ∪ U| (default: computed from the masks).
    label_keypoints: (N, K, 3) x, y, v; rows of labeled samples hold their labels (WPU fine-tuning).
    """

    video: Video
    unlabeled: np.ndarray
    budget: int
    keypoints: np.ndarray
    features: np.ndarray
    rng: np.random.Generator
    labeled: np.ndarray | None = None
    scores: dict[str, np.ndarray] = field(default_factory=dict)
    cycle: int = 0
    G: float | None = None
    labeled_fraction: float | None = None
    label_keypoints: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = self.video.num_samples
        self.unlabeled = np.asarray(self.unlabeled, dtype=bool).reshape(-1)
        if self.unlabeled.shape != (n,):
            raise ValueError(f"unlabeled mask has {self.unlabeled.shape[0]} entries for {n} samples")
        self.labeled = (~self.unlabeled if self.labeled is None
                        else np.asarray(self.labeled, dtype=bool).reshape(-1))
        if self.labeled.shape != (n,):
            raise ValueError(f"labeled mask has {self.labeled.shape[0]} entries for {n} samples")
        if (self.labeled & self.unlabeled).any():
            both = np.flatnonzero(self.labeled & self.unlabeled)[:5].tolist()
            raise ValueError(f"samples {both} are both labeled and unlabeled")
        if int(self.budget) < 0:
            raise ValueError(f"budget must be >= 0, got {self.budget}")
        self.budget = int(self.budget)
        self.keypoints = np.asarray(self.keypoints, dtype=np.float64)
        k = self.video.keypoint_set.num_keypoints
        if self.keypoints.shape != (n, k, 3):
            raise ValueError(f"predicted keypoints must be ({n}, {k}, 3), got {self.keypoints.shape}")
        self.features = np.asarray(self.features, dtype=np.float32)
        if self.features.ndim != 2 or self.features.shape[0] != n:
            raise ValueError(f"features must be ({n}, D), got {self.features.shape}")
        for name, s in self.scores.items():
            if np.shape(s) != (n,):
                raise ValueError(f"score {name!r} must be ({n},), got {np.shape(s)}")
        if self.labeled_fraction is None:  # of the samples in play (excluded ones are neither)
            in_play = int((self.labeled | self.unlabeled).sum())
            self.labeled_fraction = float(self.labeled.sum() / in_play) if in_play else 0.0
        if self.label_keypoints is not None:
            self.label_keypoints = np.asarray(self.label_keypoints, dtype=np.float64)
            if self.label_keypoints.shape != (n, k, 3):
                raise ValueError(f"label keypoints must be ({n}, {k}, 3), got {self.label_keypoints.shape}")

    @classmethod
    def from_labels(cls, video: Video, labels: LabelStore, keypoints: np.ndarray, features: np.ndarray,
                    budget: int, rng: np.random.Generator, excluded: np.ndarray | None = None,
                    **kwargs) -> SelectionContext:
        """A context whose masks and label keypoints come from a :class:`LabelStore`.

        excluded: (N,) bool, samples neither labeled nor in the pool (rejected: not a person).
        """
        n = video.num_samples
        labeled = labels.mask(n)
        label_kp = np.zeros((n, video.keypoint_set.num_keypoints, 3))
        for i, label in labels.labels.items():
            label_kp[i] = label.keypoints
        unlabeled = ~labeled if excluded is None else ~labeled & ~np.asarray(excluded, dtype=bool)
        return cls(video=video, unlabeled=unlabeled, labeled=labeled, budget=budget, keypoints=keypoints,
                   features=features, rng=rng, label_keypoints=label_kp, **kwargs)

    @property
    def pool(self) -> np.ndarray:
        """(U,) unlabeled sample indices, ascending."""
        return np.flatnonzero(self.unlabeled)

    @property
    def k(self) -> int:
        """The number of samples that will actually be returned: min(budget, |U|)."""
        return min(self.budget, int(self.unlabeled.sum()))


class Scorer(ABC):
    """An uncertainty score per sample (higher = more uncertain)."""

    name: str

    def pass_consumers(self, video: Video) -> list[ScoreConsumer]:
        """Fresh consumers to stream through the estimator pass (none if the score needs no heatmaps)."""
        return []

    def check(self, video: Video) -> None:
        """Raise :class:`UnsuitableCriterion` (the reason) when this score cannot be computed on ``video``;
        by default every video is fine."""
        return None

    @abstractmethod
    def score(self, ctx: SelectionContext) -> np.ndarray:
        """(N,) float64 scores; only the entries of the pool are used."""

    def _streamed(self, ctx: SelectionContext) -> np.ndarray:
        try:
            return np.asarray(ctx.scores[self.name], dtype=np.float64)
        except KeyError:
            raise ValueError(
                f"score {self.name!r} is computed from heatmaps while the estimator pass streams, but the "
                f"selection context has only {sorted(ctx.scores) or 'no scores'}: stream "
                f"criterion.pass_consumers(video) through the pass and set "
                f"SelectionContext.scores = collect_scores(consumers)") from None


class Criterion(ABC):
    """A selection criterion. Subclasses implement :meth:`select`; heatmap scores come via :attr:`scorers`."""

    name: str = "criterion"
    scorers: tuple[Scorer, ...] = ()

    def pass_consumers(self, video: Video) -> list[ScoreConsumer]:
        """Fresh consumers (one per heatmap-based score) to stream through this cycle's pass."""
        return [c for scorer in self.scorers for c in scorer.pass_consumers(video)]

    def check(self, video: Video) -> None:
        """Raise :class:`UnsuitableCriterion` naming the criterion and the reason when it cannot work on
        ``video`` (called when a session is created, before cycle 0); checks every scorer."""
        for scorer in self.scorers:
            try:
                scorer.check(video)
            except UnsuitableCriterion as exc:
                raise UnsuitableCriterion(f"criterion {self.name!r} cannot run on video {video.name!r}: {exc}") from None

    @abstractmethod
    def select(self, ctx: SelectionContext) -> np.ndarray:
        """(min(k, |U|),) int64 distinct unlabeled indices, in the order chosen."""

    def __repr__(self) -> str:
        return f"<criterion {self.name}>"


def rank_descending(scores: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """``indices`` ordered by score, highest first, ties by the smaller index; NaN counts as lowest.

    scores: (M,) scores of ``indices`` (M,).
    """
    s = np.asarray(scores, dtype=np.float64)
    if np.isnan(s).any():
        log.warning("%d NaN scores ranked last", int(np.isnan(s).sum()))
        s = np.where(np.isnan(s), -np.inf, s)
    return indices[np.lexsort((indices, -s))]


def top_k(scores: np.ndarray, ctx: SelectionContext) -> np.ndarray:
    """The k pool samples with the highest scores (N,), best first, ties by index."""
    pool = ctx.pool
    return rank_descending(np.asarray(scores)[pool], pool)[: ctx.k].astype(np.int64)



class UncertaintyCriterion(Criterion):
    """Top-k of one uncertainty score over the pool (ties by the smaller index)."""

    def __init__(self, scorer: Scorer, name: str | None = None):
        self.scorer = scorer
        self.scorers = (scorer,)
        self.name = name or scorer.name

    def select(self, ctx: SelectionContext) -> np.ndarray:
        if ctx.k == 0:
            return np.zeros(0, dtype=np.int64)
        return top_k(self.scorer.score(ctx), ctx)
