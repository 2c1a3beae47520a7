"""Oracles answer queries with labels. The simulated oracle reveals ground truth; a person answers the
same way through files (:class:`FileOracle`) or any object with ``answer``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import numpy as np

from vatl.data.video import Video


class Oracle(Protocol):
    def answer(self, indices: np.ndarray, predictions: np.ndarray) -> dict[int, np.ndarray]:
        """Labels (K, 3) for some or all of ``indices``; ``predictions`` (len(indices), K, 3) are shown to
        the annotator. Samples left out return to the unlabeled pool."""
        ...


class SimulatedOracle:
    """Answers from the video's ground truth (the paper's simulated annotation)."""

    def __init__(self, video: Video) -> None:
        if not video.has_ground_truth:
            raise ValueError(f"video {video.name!r} has no ground-truth keypoints: the simulated oracle "
                             "cannot answer; use a file oracle (a person) instead")
        self.video = video

    def answer(self, indices: np.ndarray, predictions: np.ndarray) -> dict[int, np.ndarray]:
        return {int(i): self.video.keypoints[int(i)].copy() for i in indices}


class SilentOracle:
    """Answers nothing (an annotator who skipped the whole query)."""

    def answer(self, indices: np.ndarray, predictions: np.ndarray) -> dict[int, np.ndarray]:
        return {}


def write_query_file(path: Path, video: Video, indices: np.ndarray, predictions: np.ndarray) -> None:
    """The samples to annotate with their current predictions, for a person to correct.

    Answers come back as JSON ``{"labels": {"<sample index>": [[x, y, v], ... K rows]}}``.
    """
    records = []
    for i, pred in zip(indices, predictions):
        i = int(i)
        frame = video.frames[video.frame_index[i]]
        records.append({
            "sample": i,
            "image": None if frame.path is None else str(frame.path),
            "track_id": int(video.track_id[i]),
            "bbox": video.boxes[i].round(2).tolist(),
            "prediction": np.asarray(pred).round(2).tolist(),
        })
    doc = {"video": video.name, "keypoints": list(video.keypoint_set.keypoints), "query": records}
    Path(path).write_text(json.dumps(doc, indent=1))


def read_answer_file(path: Path, num_keypoints: int) -> dict[int, np.ndarray]:
    """Labels from a person's answer file (see :func:`write_query_file`)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"answer file {path} does not exist") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"answer file {path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("labels"), dict):
        raise ValueError(f"answer file {path}: expected an object with a 'labels' object "
                         '{"<sample index>": [[x, y, v], ...]}')
    labels = {}
    for key, rows in doc["labels"].items():
        try:
            kp = np.asarray(rows, dtype=np.float64)
            index = int(key)
        except (TypeError, ValueError):
            raise ValueError(f"answer file {path}: labels[{key!r}] must be a sample index with [[x, y, v], ...]") from None
        if kp.shape != (num_keypoints, 3):
            raise ValueError(f"answer file {path}: labels[{key!r}] has shape {kp.shape}, expected ({num_keypoints}, 3)")
        labels[index] = kp
    return labels


class FileOracle:
    """A person's answers read from a JSON file (see :func:`read_answer_file`)."""

    def __init__(self, path: Path, num_keypoints: int) -> None:
        self.labels = read_answer_file(path, num_keypoints)

    def answer(self, indices: np.ndarray, predictions: np.ndarray) -> dict[int, np.ndarray]:
        return {int(i): self.labels[int(i)] for i in indices if int(i) in self.labels}
