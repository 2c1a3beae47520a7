"""Oracles answer queries. The simulated oracle reveals ground truth; a person answers the same way
through files (:class:`FileOracle`) or any object with ``answer`` (the browser annotator, an exchange
format). What an answer may be, and how it is checked, is in :mod:`vatl.atl.answers`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vatl.atl.answers import sample_key
from vatl.data.video import Video
from vatl.fileio import write_json


class Oracle(Protocol):
    def answer(self, indices: np.ndarray, predictions: np.ndarray) -> dict[int, Any]:
        """Answers for some or all of ``indices`` (see :mod:`vatl.atl.answers`: a (K, 3) label,
        ``"accept"``, ``"skip"`` or ``"reject"``); ``predictions`` (len(indices), K, 3) are shown to the
        annotator. Samples left out return to the unlabeled pool."""
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


ANSWER_FORMAT = ('{"labels": {"<sample>": [[x, y, v], ... one row per keypoint] or "accept" | "skip" | "reject"}}; '
                 'v: 0 not labeled, 1 occluded, 2 visible')


def write_query_file(path: Path, video: Video, indices: np.ndarray, predictions: np.ndarray) -> None:
    """The samples to annotate with their current predictions, for a person to correct (written atomically).

    Answers come back as JSON (:data:`ANSWER_FORMAT`): per sample a label, ``"accept"`` (the prediction is
    right), ``"skip"`` (not now) or ``"reject"`` (not a person); samples left out return to the pool.
    """
    records = []
    for i, pred in zip(indices, predictions):
        i = int(i)
        frame = video.frames[video.frame_index[i]]
        records.append({
            "sample": i,
            "frame": int(video.frame_index[i]),
            "image": None if frame.path is None else str(frame.path),
            "track_id": int(video.track_id[i]),
            "bbox": video.boxes[i].round(2).tolist(),
            "prediction": np.asarray(pred).round(2).tolist(),
        })
    doc = {"video": video.name, "keypoints": list(video.keypoint_set.keypoints), "answer_format": ANSWER_FORMAT,
           "query": records}
    write_json(path, doc)


def read_answer_file(path: Path) -> dict[int, Any]:
    """Answers from a person's answer file (see :func:`write_query_file`): sample index -> the answer as
    written (rows of [x, y, v] or a word). Only the file's form is checked here; each answer is validated
    by the session (:func:`vatl.atl.answers.check_answers`)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"answer file {path} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"answer file {path}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("labels"), dict):
        raise ValueError(f"answer file {path}: expected an object with a 'labels' object {ANSWER_FORMAT}")
    answers = {}
    for key, value in doc["labels"].items():
        index = sample_key(key)
        if index is None:
            raise ValueError(f"answer file {path}: labels[{key!r}]: the key must be a sample index")
        answers[index] = value
    return answers


class FileOracle:
    """A person's answers read from a JSON file (see :func:`read_answer_file`); every answer in the file is
    handed to the session, which refuses answers for samples it did not ask for."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.answers = read_answer_file(path)

    def answer(self, indices: np.ndarray, predictions: np.ndarray) -> dict[int, Any]:
        return dict(self.answers)
