"""Person detectors: the contract, the registry, and the boxes they return.

A detector is called once per frame, in increasing frame order, after :meth:`~PersonDetector.reset` at
the start of a clip (so it may carry state from frame to frame, as BlazePose's re-detection does).

Detectors (:data:`DETECTORS`):

- ``blazepose``: BlazePose's person detector from the mediapipe wheel, with tiling and re-detection from
  the previous frame's pose (:mod:`vatl.video.blazepose_detector`);
- ``coco-results``: boxes from another detector's COCO detection results JSON (``--detections FILE``);
- ``mot``: boxes from a MOTChallenge ``det.txt`` (:mod:`vatl.video.detection_files`).

Adding a new detector:

1. write a class satisfying :class:`PersonDetector` (``name``, ``needs_pixels``, ``reset()``,
   ``check_frames(num_frames)``, ``detect(frame, image) -> PersonBoxes``); import heavy modules inside it;
2. register it: add ``"<name>": factory`` to :data:`DETECTORS` (``factory(**options) -> detector``), or call
   :func:`register_detector`;
3. add an example to ``tests/video/detector_examples.py``: the template test
   ``tests/video/test_detector_template.py`` runs every registered detector through the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass
class PersonBoxes:
    """The people found in one frame: ``boxes`` (M, 4) x, y, w, h in image pixels (w, h > 0) and ``scores``
    (M,) in [0, 1] (higher is more certain)."""

    boxes: np.ndarray
    scores: np.ndarray

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        self.scores = np.asarray(self.scores, dtype=np.float64).reshape(-1)
        if len(self.boxes) != len(self.scores):
            raise ValueError(f"{len(self.boxes)} boxes but {len(self.scores)} scores")

    def __len__(self) -> int:
        return len(self.scores)

    @classmethod
    def empty(cls) -> PersonBoxes:
        return cls(np.zeros((0, 4)), np.zeros(0))

    def xyxy(self) -> np.ndarray:
        """(M, 4) x0, y0, x1, y1."""
        return np.concatenate([self.boxes[:, :2], self.boxes[:, :2] + self.boxes[:, 2:]], axis=1)

    @classmethod
    def from_xyxy(cls, boxes: np.ndarray, scores: np.ndarray) -> PersonBoxes:
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        return cls(np.concatenate([b[:, :2], b[:, 2:] - b[:, :2]], axis=1), scores)

    def to_dict(self) -> dict[str, list]:
        return {"boxes": np.round(self.boxes, 3).tolist(), "scores": np.round(self.scores, 5).tolist()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PersonBoxes:
        return cls(np.asarray(d["boxes"], dtype=np.float64).reshape(-1, 4), d["scores"])


@runtime_checkable
class PersonDetector(Protocol):
    """Finds people in the frames of one clip, called in increasing frame order after :meth:`reset`."""

    name: str
    needs_pixels: bool  # False: ``detect`` is called with image=None (boxes come from a file)

    def reset(self) -> None:
        """Forget everything about the previous clip."""
        ...

    def check_frames(self, num_frames: int) -> None:
        """Raise ValueError (naming the source) if the detector refers to frames outside 0..num_frames-1."""
        ...

    def detect(self, frame: int, image: np.ndarray | None) -> PersonBoxes:
        """The people in frame ``frame``; ``image`` (H, W, 3) uint8 RGB (None if not ``needs_pixels``)."""
        ...


def clip_boxes(boxes: PersonBoxes, width: int, height: int, min_size: float = 1.0) -> tuple[PersonBoxes, int]:
    """Boxes clipped to the width×height image; boxes left smaller than ``min_size`` pixels on a side are
    dropped. Returns the clipped boxes and how many were dropped."""
    b = boxes.xyxy()
    b[:, [0, 2]] = b[:, [0, 2]].clip(0, width)
    b[:, [1, 3]] = b[:, [1, 3]].clip(0, height)
    keep = ((b[:, 2] - b[:, 0]) >= min_size) & ((b[:, 3] - b[:, 1]) >= min_size)
    return PersonBoxes.from_xyxy(b[keep], boxes.scores[keep]), int((~keep).sum())


def _blazepose(**options: Any) -> PersonDetector:
    from vatl.video.blazepose_detector import BlazePosePersonDetector

    return BlazePosePersonDetector(**options)


def _coco_results(**options: Any) -> PersonDetector:
    from vatl.video.detection_files import CocoResultsDetections

    return CocoResultsDetections(**options)


def _mot(**options: Any) -> PersonDetector:
    from vatl.video.detection_files import MotDetections

    return MotDetections(**options)


DETECTORS: dict[str, Callable[..., PersonDetector]] = {
    "blazepose": _blazepose,
    "coco-results": _coco_results,
    "mot": _mot,
}
DEFAULT_DETECTOR = "blazepose"
FILE_DETECTORS = ("coco-results", "mot")  # read boxes from a file (``path=``) instead of the pixels


def register_detector(name: str, factory: Callable[..., PersonDetector]) -> None:
    if name in DETECTORS:
        raise ValueError(f"person detector {name!r} is already registered")
    DETECTORS[name] = factory


def detector_names() -> tuple[str, ...]:
    return tuple(DETECTORS)


def get_detector(name: str, **options: Any) -> PersonDetector:
    """A new detector of the registered kind ``name`` with ``options``; ValueError for unknown names or options."""
    if name not in DETECTORS:
        raise ValueError(f"unknown person detector {name!r}; known: {', '.join(DETECTORS)}")
    try:
        return DETECTORS[name](**options)
    except TypeError as exc:
        raise ValueError(f"person detector {name!r}: {exc}") from None


def detector_for_file(path: str, **options: Any) -> PersonDetector:
    """The file detector for boxes from another detector: ``.txt`` -> ``mot`` (MOTChallenge det.txt), otherwise
    ``coco-results`` (COCO detection results JSON)."""
    name = "mot" if str(path).lower().endswith(".txt") else "coco-results"
    return get_detector(name, path=path, **options)
