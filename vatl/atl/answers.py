"""The answers an annotator gives to a query, and their validation.

For each queried sample an annotator (the simulated oracle, a person through files or the browser) gives
one of:

* a **label**: (K, 3) keypoints x, y (image pixels), v (0 = not labeled, 1 = labeled but occluded,
  2 = labeled and visible), at least one joint labeled;
* ``"accept"``: the model's prediction is right as shown; it becomes the label (v = 2 on every joint the
  keypoint set can annotate whose predicted point lies in the image; v = 0 elsewhere);
* ``"skip"``: not now; the sample returns to the unlabeled pool (also what an unanswered sample does);
* ``"reject"``: not a person / a wrong box; the sample leaves the pool for good and is recorded.

:func:`check_answers` validates every answer before the session changes anything and raises one
:class:`AnswerError` listing each problem with the sample and the joint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from vatl.data.bounds import VISIBILITY_VALUES, allowed_region, describe_region, outside
from vatl.data.video import Video

LABEL, SKIP, REJECT, ACCEPT = "label", "skip", "reject", "accept"
KINDS = (LABEL, SKIP, REJECT)
MAX_SHOWN = 10


class AnswerError(ValueError):
    """Answers that cannot be taken; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        shown = "; ".join(self.problems[:MAX_SHOWN])
        more = f"; and {len(self.problems) - MAX_SHOWN} more" if len(self.problems) > MAX_SHOWN else ""
        super().__init__(f"{len(self.problems)} answer problem(s), nothing was taken: {shown}{more}")


@dataclass(frozen=True)
class Answer:
    """One checked answer: ``kind`` in :data:`KINDS`; ``keypoints`` (K, 3) for labels, else None."""

    kind: str
    keypoints: np.ndarray | None = None

    @classmethod
    def label(cls, keypoints: np.ndarray) -> Answer:
        return cls(LABEL, np.asarray(keypoints, dtype=np.float64))

    @classmethod
    def skip(cls) -> Answer:
        return cls(SKIP)

    @classmethod
    def reject(cls) -> Answer:
        return cls(REJECT)


def sample_key(key: Any) -> int | None:
    """A sample index from an answer's key (int, numpy integer or a decimal string), or None."""
    if isinstance(key, bool):
        return None
    if isinstance(key, (int, np.integer)):
        return int(key)
    if isinstance(key, str) and key.strip().lstrip("-").isdigit():
        return int(key.strip())
    return None


def accepted_label(prediction: np.ndarray, video: Video, index: int) -> np.ndarray:
    """The label an "accept" gives: the prediction (K, 3) with v = 2 where it can be a label, else 0."""
    kp = np.asarray(prediction, dtype=np.float64).copy()
    frame = video.frames[int(video.frame_index[index])]
    region = allowed_region(frame.width, frame.height, video.boxes[index])
    inside = ~outside(kp[:, :2], region) & np.isfinite(kp[:, :2]).all(axis=1)
    if frame.width > 0 and frame.height > 0:
        inside &= ~outside(kp[:, :2], (0, frame.width, 0, frame.height))
    keep = video.keypoint_set.annotated_slots & inside
    kp[:, 2] = np.where(keep, 2.0, 0.0)
    kp[~keep, :2] = 0.0
    return kp


def check_answers(answers: Mapping[Any, Any], query: np.ndarray, predictions: np.ndarray,
                  video: Video, cycle: int) -> dict[int, Answer]:
    """Validate ``answers`` to the query ``query`` (indices) of cycle ``cycle``.

    answers: sample index -> (K, 3) label, ``"accept"``, ``"skip"``, ``"reject"`` or an :class:`Answer`.
    predictions: (N, K, 3) the predictions shown for the query (for "accept").
    Returns the checked answers in query order (unanswered samples are left out: they return to the pool).
    Raises :class:`AnswerError` naming every bad sample and joint; then nothing may be taken.
    """
    if not isinstance(answers, Mapping):
        raise AnswerError([f"answers must map sample indices to answers, got {type(answers).__name__}"])
    queried = [int(i) for i in np.asarray(query).tolist()]
    wanted = set(queried)
    problems: list[str] = []
    checked: dict[int, Answer] = {}
    for key, value in answers.items():
        index = sample_key(key)
        if index is None:
            problems.append(f"answer key {key!r} is not a sample index")
            continue
        if index not in wanted:
            shown = ", ".join(map(str, queried[:8])) + (", …" if len(queried) > 8 else "")
            problems.append(f"sample {index} was not queried in cycle {cycle} (the query: {shown})")
            continue
        if index in checked:
            problems.append(f"sample {index} is answered twice")
            continue
        answer = _coerce(index, value, predictions, video, problems)
        if answer is not None:
            checked[index] = answer
    if problems:
        raise AnswerError(problems)
    return {i: checked[i] for i in queried if i in checked}


def _coerce(index: int, value: Any, predictions: np.ndarray, video: Video, problems: list[str]) -> Answer | None:
    if isinstance(value, Answer):
        if value.kind not in KINDS:
            problems.append(f"sample {index}: unknown answer kind {value.kind!r}; known: {', '.join(KINDS)}")
            return None
        if value.kind != LABEL:
            return value
        value = value.keypoints
    if isinstance(value, str):
        word = value.strip().lower()
        if word == ACCEPT:
            return Answer.label(accepted_label(predictions[index], video, index))
        if word in (SKIP, REJECT):
            return Answer(word)
        problems.append(f"sample {index}: unknown answer {value!r}; expected a label [[x, y, v], …], "
                        f"'{ACCEPT}', '{SKIP}' or '{REJECT}'")
        return None
    label = _label_problems(index, value, video, problems)
    return None if label is None else Answer.label(label)


def _label_problems(index: int, value: Any, video: Video, problems: list[str]) -> np.ndarray | None:
    """The (K, 3) label of sample ``index``, or None after adding its problems."""
    ks = video.keypoint_set
    try:
        kp = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        problems.append(f"sample {index}: a label must be {ks.num_keypoints} rows of [x, y, v] numbers")
        return None
    if kp.shape != (ks.num_keypoints, 3):
        problems.append(f"sample {index}: a label needs {ks.num_keypoints} rows of [x, y, v] "
                        f"(keypoint set {ks.name}), got shape {kp.shape}")
        return None
    frame = video.frames[int(video.frame_index[index])]
    region = allowed_region(frame.width, frame.height, video.boxes[index])
    before = len(problems)
    for j in range(ks.num_keypoints):
        joint = f"sample {index}, joint {j} ({ks.keypoints[j]})"
        x, y, v = kp[j]
        if not np.isfinite(kp[j]).all():
            problems.append(f"{joint}: [x, y, v] = [{x}, {y}, {v}] holds a value that is not a finite number")
        elif v not in VISIBILITY_VALUES:
            problems.append(f"{joint}: v = {v:g}; expected 0 (not labeled), 1 (labeled, occluded) or "
                            "2 (labeled, visible)")
        elif v > 0 and outside(kp[j:j + 1, :2], region)[0]:
            problems.append(f"{joint}: ({x:g}, {y:g}) lies outside "
                            f"{describe_region(region, frame.width, frame.height)}")
    if len(problems) > before:
        return None
    if not (kp[:, 2] > 0).any():
        problems.append(f"sample {index}: the label marks no joint as labeled (every v = 0); answer "
                        f"'{SKIP}' to return it to the pool or '{REJECT}' if it is not a person")
        return None
    return kp
