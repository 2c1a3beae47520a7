"""Predictions and labels, kept apart. A label remembers the prediction it replaced and its cycle."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Predictions:
    """An estimator's output for every sample of a video.

    keypoints: (N, K, 3) x, y in image pixels and per-joint confidence (heatmap maximum).
    scores: (N,) instance scores (see :func:`instance_scores` unless the estimator says otherwise).
    """

    keypoints: np.ndarray
    scores: np.ndarray

    def __post_init__(self) -> None:
        self.keypoints = np.asarray(self.keypoints, dtype=np.float64)
        self.scores = np.asarray(self.scores, dtype=np.float64).reshape(len(self.keypoints))
        if self.keypoints.ndim != 3 or self.keypoints.shape[2] != 3:
            raise ValueError(f"prediction keypoints must be (N, K, 3), got {self.keypoints.shape}")

    @classmethod
    def from_keypoints(cls, keypoints: np.ndarray) -> Predictions:
        """Scores from the joint confidences (:func:`instance_scores`)."""
        kp = np.asarray(keypoints, dtype=np.float64)
        return cls(kp, instance_scores(kp))

    def __len__(self) -> int:
        return len(self.keypoints)


def instance_scores(keypoints: np.ndarray) -> np.ndarray:
    """(N,) instance scores of (N, K, 3) predictions as the published ATL evaluation computes them:
    mean + 1.25 · max of the joint confidences (heatmap maxima)."""
    conf = np.asarray(keypoints, dtype=np.float64)[..., 2]
    if conf.ndim != 2 or conf.shape[1] == 0:
        return np.zeros(len(conf))
    return conf.mean(axis=1) + 1.25 * conf.max(axis=1)


@dataclass
class Label:
    """A sample's annotation.

    keypoints: (K, 3) x, y, v (v = 0: joint not annotated).
    cycle: the ATL cycle in which it was given.
    replaced: (K, 3) the prediction shown to the annotator, or None.
    """

    keypoints: np.ndarray
    cycle: int
    replaced: np.ndarray | None = None


@dataclass
class LabelStore:
    """Labels by sample index, in the order they were given."""

    labels: dict[int, Label] = field(default_factory=dict)

    def add(self, index: int, keypoints: np.ndarray, cycle: int, replaced: np.ndarray | None = None) -> None:
        kp = np.asarray(keypoints, dtype=np.float64)
        if kp.ndim != 2 or kp.shape[1] != 3:
            raise ValueError(f"label for sample {index} must be (K, 3), got {kp.shape}")
        if index in self.labels:
            raise ValueError(f"sample {index} is labeled already (cycle {self.labels[index].cycle})")
        self.labels[int(index)] = Label(kp.copy(), int(cycle), None if replaced is None else np.array(replaced))

    def __contains__(self, index: object) -> bool:
        return index in self.labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> Label:
        return self.labels[index]

    @property
    def indices(self) -> np.ndarray:
        """(L,) labeled sample indices in labeling order."""
        return np.fromiter(self.labels.keys(), dtype=np.int64, count=len(self.labels))

    def mask(self, num_samples: int) -> np.ndarray:
        """(N,) bool: labeled samples."""
        m = np.zeros(num_samples, dtype=bool)
        m[self.indices] = True
        return m

    def merged_with(self, predictions: Predictions) -> Predictions:
        """Predictions where unlabeled; on labeled samples each annotated joint (v > 0) takes the label's
        position with confidence 1 (joints the annotator left out keep the prediction). Scores stay the
        model's, as the published evaluation keeps them (a score of 1 would rank labels first and raise
        AP)."""
        kp = predictions.keypoints.copy()
        for i, label in self.labels.items():
            annotated = label.keypoints[:, 2] > 0
            kp[i, annotated, :2] = label.keypoints[annotated, :2]
            kp[i, annotated, 2] = 1.0
        return Predictions(kp, predictions.scores.copy())

    def to_dict(self) -> dict:
        """JSON-able form (for resumable runs)."""
        return {str(i): {"keypoints": l.keypoints.tolist(), "cycle": l.cycle,
                         "replaced": None if l.replaced is None else l.replaced.tolist()}
                for i, l in self.labels.items()}

    @classmethod
    def from_dict(cls, d: dict) -> LabelStore:
        store = cls()
        for i, rec in d.items():
            store.add(int(i), np.asarray(rec["keypoints"]), rec["cycle"],
                      None if rec.get("replaced") is None else np.asarray(rec["replaced"]))
        return store
