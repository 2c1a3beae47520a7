"""Optional hooks a criterion may offer the ATL loop (:class:`vatl.atl.session.ATLSession` calls them).

- :class:`PredictionRefiner`: after every estimator pass, the model's predictions are corrected with the
  labels so far (e.g. label-anchored propagation along tracks, :mod:`vatl.atl.propagation`). The corrected
  predictions are what the run delivers: they are shown to the annotator (and taken by ``accept``), judged
  by the stopping criteria, evaluated ("with labels") and exported; "raw" AP and G_c (hence E_c and DUW's
  weight) stay those of the model alone.
- :class:`TrainingExtender`: samples and pseudo-labels added to each retraining set Q ∪ R.

Both see only the method's inputs: the :class:`~vatl.atl.propagation.TrackLayout` (frames, tracks, person
boxes — no ground truth), the model's predictions and the labels.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from vatl.atl.propagation import TrackLayout
from vatl.data.annotations import LabelStore


@runtime_checkable
class PredictionRefiner(Protocol):
    def refine_predictions(self, layout: TrackLayout, keypoints: np.ndarray, labels: LabelStore) -> np.ndarray:
        """(N, K, 3) corrected predictions from the model's (N, K, 3) and the labels; labeled samples keep
        the model's prediction (the loop merges the labels)."""
        ...


@runtime_checkable
class TrainingExtender(Protocol):
    def training_extension(self, layout: TrackLayout, keypoints: np.ndarray, labels: LabelStore
                           ) -> tuple[np.ndarray, np.ndarray]:
        """(M,) unlabeled sample indices and (M, K, 3) pseudo-labels (x, y, v) to train on besides Q ∪ R,
        from the model's predictions (N, K, 3) and the labels."""
        ...


def refined(criterion: object, layout: TrackLayout, keypoints: np.ndarray, labels: LabelStore) -> np.ndarray:
    """The criterion's corrected predictions, or ``keypoints`` itself when it refines nothing."""
    if isinstance(criterion, PredictionRefiner):
        return np.asarray(criterion.refine_predictions(layout, keypoints, labels), dtype=np.float64)
    return keypoints


def training_extension(criterion: object, layout: TrackLayout, keypoints: np.ndarray, labels: LabelStore
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The criterion's extra training samples and pseudo-labels, or none."""
    if isinstance(criterion, TrainingExtender):
        indices, pseudo = criterion.training_extension(layout, keypoints, labels)
        return np.asarray(indices, dtype=np.int64), np.asarray(pseudo, dtype=np.float64)
    return np.zeros(0, dtype=np.int64), np.zeros((0, keypoints.shape[1], 3))
