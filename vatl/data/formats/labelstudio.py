"""Label Studio: tasks with pre-annotations for import, and its JSON export read back as answers.

Written (:func:`write_labelstudio_tasks`): a JSON list of tasks, one per frame holding samples to show::

    {"data": {"image": "/data/local-files/?d=<path under the image root>", "vatl": {"video", "frame",
              "samples": [{"sample", "track_id", "bbox"}]}},
     "predictions": [{"model_version": "vatl", "score": s, "result": [
        {"id": "s12", "type": "rectanglelabels", "from_name": "person", "to_name": "image",
         "original_width": W, "original_height": H, "image_rotation": 0,
         "value": {"x", "y", "width", "height" (percent of the image), "rotation": 0, "rectanglelabels": ["person"]}},
        {"id": "s12-3", "parentID": "s12", "type": "keypointlabels", "from_name": "keypoints", "to_name": "image",
         "original_width": W, "original_height": H, "image_rotation": 0,
         "value": {"x", "y" (percent), "width": 0.5, "keypointlabels": ["left_knee"]}}, ...]}]}

one RectangleLabels box per person groups its points (``parentID``); a labeled point with v = 1 carries
``"meta": {"text": ["occluded"]}`` (region meta text, which Label Studio keeps and shows); :func:`labeling_config` is the
matching labeling interface (a ``person`` / ``not a person`` box and one key point label per slot).
Percent coordinates follow Label Studio's documentation of ``keypointlabels`` / ``rectanglelabels``
results: x, y in percent of ``original_width`` / ``original_height``. ``image_prefix`` makes the image
reference (default: Label Studio's local-files storage, paths relative to the image root).

Read back (:func:`read_labelstudio_answers`): the export (JSON list of tasks with ``annotations``; the
last annotation of a task that was not cancelled counts). A point belongs to a person by its
``parentID``, else to the one person box that contains it, else to the task's only sample. A box keeps
its sample through its id (``s<sample>``); a box the annotator drew anew is matched to the sample whose
box it overlaps most (IoU ≥ 0.5). Per sample: its labeled points → a label (v = 2; v = 1 for a point whose
region ``meta.text`` says ``occluded``); a box labeled ``not a person`` → ``"reject"``; a sample whose box
was removed or holds no point → left out (it returns to the pool). Points and boxes that cannot be placed,
fields of the wrong type (a null frame, sample or coordinate, a ``value`` that is not an object) and a
keypoint given twice for one person are errors naming the task and region (nothing is dropped or
overwritten silently). The answers then go through the
session's validation (:func:`vatl.atl.answers.check_answers`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import numpy as np

from vatl.data.boxes import box_iou
from vatl.data.formats._files import relative_file_name
from vatl.data.formats._tools import frame_size, image_root_of
from vatl.data.video import Video
from vatl.fileio import write_atomic, write_json

PERSON, NOT_PERSON = "person", "not a person"
BOX_TAG, POINT_TAG, IMAGE_TAG = "person", "keypoints", "image"
LOCAL_FILES = "/data/local-files/?d="
POINT_SIZE = 0.5  # percent of the image: the drawn point's size


def _sample_id(i: int) -> str:
    return f"s{i}"


def _frame_size(video: Video, frame: int) -> tuple[int, int]:
    return frame_size(video, frame, "Label Studio's percent coordinates")


def image_reference(video: Video, frame: int, image_root: str | os.PathLike | None, prefix: str) -> str:
    """``prefix`` + the frame's path relative to ``image_root`` (default: the video's), forward slashes (its
    absolute path when it lies outside the root)."""
    path = video.frames[frame].path
    if path is None:
        raise ValueError(f"video {video.name!r}: frame {frame} has no image file to show in Label Studio")
    return prefix + relative_file_name(Path(path), image_root_of(video, frame, image_root), "")


def labeling_config(video: Video) -> str:
    """The Label Studio labeling interface (XML) the tasks are made for."""
    labels = "\n".join(f"    <Label value={quoteattr(n)}/>" for n in video.keypoint_set.keypoints)
    return (f'<View>\n  <Image name="{IMAGE_TAG}" value="$image" zoom="true"/>\n'
            f'  <RectangleLabels name="{BOX_TAG}" toName="{IMAGE_TAG}">\n    <Label value="{PERSON}"/>\n'
            f'    <Label value="{NOT_PERSON}"/>\n  </RectangleLabels>\n'
            f'  <KeyPointLabels name="{POINT_TAG}" toName="{IMAGE_TAG}">\n{labels}\n  </KeyPointLabels>\n</View>\n')


def write_labelstudio_tasks(video: Video, path: str | os.PathLike, indices: Iterable[int] | None = None,
                            keypoints: np.ndarray | None = None, scores: np.ndarray | None = None,
                            image_root: str | os.PathLike | None = None, image_prefix: str = LOCAL_FILES) -> Path:
    """Tasks (one per frame) with the samples ``indices`` (default: all) and their poses as predictions.

    keypoints: (N, K, 3) x, y, confidence (or v) per sample (default: the video's); joints with a third
    value ≤ 0 are left out. scores: (N,) per-task score (default: the mean joint value). Also writes the
    labeling interface beside it (``<name>.xml``). Returns the tasks file.
    """
    kp = video.keypoints if keypoints is None else np.asarray(keypoints, dtype=np.float64)
    idx = np.arange(video.num_samples) if indices is None else np.asarray(list(indices), dtype=np.int64)
    names = video.keypoint_set.keypoints
    by_frame: dict[int, list[int]] = {}
    for i in idx.tolist():
        by_frame.setdefault(int(video.frame_index[i]), []).append(int(i))
    tasks = []
    for frame in sorted(by_frame):
        w, h = _frame_size(video, frame)
        result, samples, task_scores = [], [], []
        for i in by_frame[frame]:
            x, y, bw, bh = (float(v) for v in video.boxes[i])
            common = {"to_name": IMAGE_TAG, "original_width": w, "original_height": h, "image_rotation": 0}
            result.append({"id": _sample_id(i), "type": "rectanglelabels", "from_name": BOX_TAG, **common,
                           "value": {"x": 100 * x / w, "y": 100 * y / h, "width": 100 * bw / w,
                                     "height": 100 * bh / h, "rotation": 0, "rectanglelabels": [PERSON]}})
            is_label = np.isin(kp[i, :, 2], (0.0, 1.0, 2.0)).all()  # v, not confidences: occlusion is kept
            for j, name in enumerate(names):
                if kp[i, j, 2] > 0:
                    point = {"id": f"{_sample_id(i)}-{j}", "parentID": _sample_id(i), "type": "keypointlabels",
                             "from_name": POINT_TAG, **common,
                             "value": {"x": 100 * float(kp[i, j, 0]) / w, "y": 100 * float(kp[i, j, 1]) / h,
                                       "width": POINT_SIZE, "keypointlabels": [name]}}
                    if is_label and kp[i, j, 2] == 1:
                        point["meta"] = {"text": ["occluded"]}
                    result.append(point)
            samples.append({"sample": i, "track_id": int(video.track_id[i]),
                            "bbox": [round(float(v), 3) for v in video.boxes[i]]})
            task_scores.append(float(scores[i]) if scores is not None else float(np.clip(kp[i, :, 2], 0, None).mean()))
        tasks.append({"data": {"image": image_reference(video, frame, image_root, image_prefix),
                               "vatl": {"video": video.name, "frame": frame, "samples": samples}},
                      "predictions": [{"model_version": "vatl", "score": float(np.mean(task_scores)),
                                       "result": result}]})
    out = write_json(path, tasks)
    write_atomic(Path(path).with_suffix(".xml"), labeling_config(video))
    return out


def _corners(xywh: np.ndarray) -> np.ndarray:
    """(..., 4) x, y, w, h -> x0, y0, x1, y1."""
    xywh = np.asarray(xywh, dtype=np.float64)
    return np.concatenate([xywh[..., :2], xywh[..., :2] + xywh[..., 2:]], axis=-1)


class _RegionError(ValueError):
    """One region (or task field) that cannot be read: collected, the others are still checked."""


def _number(value: dict, key: str, what: str) -> float:
    v = value.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise _RegionError(f"{what}: value.{key} must be a number, got {v!r}")
    return float(v)


def _labels(value: dict, key: str, what: str) -> list:
    labels = value.get(key)
    if labels is None:
        return []
    if not isinstance(labels, list):
        raise _RegionError(f"{what}: value.{key} must be a list of labels, got {labels!r}")
    return labels


def _task_samples(meta: dict) -> tuple[int, list[int]]:
    """(frame, sample indices) of a task's ``data.vatl``; _RegionError when either is not integers."""
    frame = meta.get("frame")
    if isinstance(frame, bool) or not isinstance(frame, int):
        raise _RegionError(f"data.vatl.frame must be an integer, got {frame!r}")
    samples = []
    for n, s in enumerate(meta["samples"]):
        i = s.get("sample") if isinstance(s, dict) else None
        if isinstance(i, bool) or not isinstance(i, int):
            raise _RegionError(f"data.vatl.samples[{n}].sample must be an integer, got {i!r}")
        samples.append(i)
    return frame, samples


def _size(region: dict, video: Video, frame: int) -> tuple[float, float]:
    w, h = region.get("original_width"), region.get("original_height")
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0 for v in (w, h)):
        return float(w), float(h)
    return tuple(float(v) for v in _frame_size(video, frame))  # type: ignore[return-value]


def _latest_annotation(task: dict) -> dict | None:
    given = task.get("annotations") or task.get("completions") or []
    if not isinstance(given, list):
        raise _RegionError(f"'annotations' must be a list, got {type(given).__name__}")
    annotations = [a for a in given if isinstance(a, dict) and not a.get("was_cancelled")]
    return annotations[-1] if annotations else None


def read_labelstudio_answers(path: str | os.PathLike, video: Video) -> dict[int, Any]:
    """Answers ``{sample: (K, 3) label | "reject"}`` from a Label Studio JSON export of tasks written by
    :func:`write_labelstudio_tasks` (see the module docstring). Errors name the file, task and region."""
    p = Path(path)
    try:
        tasks = json.loads(p.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{p}: not valid JSON ({exc})") from None
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise ValueError(f"{p}: expected Label Studio's JSON export (a list of tasks)")
    names = {n: j for j, n in enumerate(video.keypoint_set.keypoints)}
    k = video.keypoint_set.num_keypoints
    answers: dict[int, Any] = {}
    problems: list[str] = []
    for t, task in enumerate(tasks):
        where = f"{p}: task {t}" + (f" (id={task.get('id')})" if isinstance(task, dict) and "id" in task else "")
        data = task.get("data") if isinstance(task, dict) else None
        meta = data.get("vatl") if isinstance(data, dict) else None
        if not isinstance(meta, dict) or not isinstance(meta.get("samples"), list):
            problems.append(f"{where}: no data.vatl.samples (not a task written by vatl export --to labelstudio)")
            continue
        try:
            frame, samples = _task_samples(meta)
        except _RegionError as exc:
            problems.append(f"{where}: {exc}")
            continue
        bad = [i for i in samples if not 0 <= i < video.num_samples or int(video.frame_index[i]) != frame]
        if bad or not 0 <= frame < len(video.frames):
            problems.append(f"{where}: samples {bad or samples} are not on frame {frame} of video {video.name!r}")
            continue
        try:
            annotation = _latest_annotation(task)
        except _RegionError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if annotation is None:
            continue  # not annotated: its samples return to the pool
        owner: dict[str, int] = {}  # box region id -> sample
        rejected: set[int] = set()
        boxes: dict[str, np.ndarray] = {}
        points: list[tuple[dict, dict, str]] = []
        result = annotation.get("result") or []
        if not isinstance(result, list):
            problems.append(f"{where}: its annotation's 'result' must be a list of regions")
            continue
        for n, r in enumerate(result):
            if not isinstance(r, dict):
                problems.append(f"{where}: result[{n}] must be an object (a region), got {type(r).__name__}")
                continue
            rid = str(r.get("id", f"result[{n}]"))
            kind = r.get("type")
            what = f"{'box' if kind == 'rectanglelabels' else 'point'} {rid}"
            value = r.get("value")
            try:
                if kind not in ("rectanglelabels", "keypointlabels"):
                    continue  # other tools' regions (e.g. a text area) say nothing about poses
                if not isinstance(value, dict):
                    raise _RegionError(f"{what}: 'value' must be an object, got {value!r}")
                if kind == "keypointlabels":
                    points.append((r, value, what))
                    continue
                w, h = _size(r, video, frame)
                box = np.array([_number(value, c, what) for c in ("x", "y", "width", "height")]) \
                    * np.array([w, h, w, h]) / 100
                names_of_box = _labels(value, "rectanglelabels", what)
            except _RegionError as exc:
                problems.append(f"{where}: {exc}")
                continue
            sample = next((i for i in samples if _sample_id(i) == rid), None)
            if sample is None:  # a box drawn anew: the sample it overlaps most
                iou = box_iou(_corners(box), _corners(video.boxes[samples]))[0] if samples else np.zeros(0)
                if not len(iou) or iou.max() < 0.5:
                    problems.append(f"{where}: box {rid} overlaps no queried person (IoU < 0.5)")
                    continue
                sample = samples[int(iou.argmax())]
            owner[rid] = sample
            boxes[rid] = box
            if NOT_PERSON in names_of_box:
                rejected.add(sample)
        labels = {i: np.zeros((k, 3)) for i in samples}
        placed: dict[tuple[int, int], str] = {}  # (sample, keypoint) -> the point that gave it
        for r, value, what in points:
            try:
                w, h = _size(r, video, frame)
                label = (_labels(value, "keypointlabels", what) or [None])[0]
                if not isinstance(label, str) or label not in names:
                    raise _RegionError(f"{what} has label {label!r}, not a keypoint of {video.keypoint_set.name!r}")
                xy = np.array([_number(value, "x", what) * w / 100, _number(value, "y", what) * h / 100])
            except _RegionError as exc:
                problems.append(f"{where}: {exc}")
                continue
            parent = r.get("parentID")
            sample = owner.get(str(parent)) if parent is not None else None
            if sample is None:
                inside = [rid for rid, b in boxes.items()
                          if b[0] <= xy[0] <= b[0] + b[2] and b[1] <= xy[1] <= b[1] + b[3]]
                if len(inside) == 1:
                    sample = owner[inside[0]]
                elif len(samples) == 1:
                    sample = samples[0]
                else:
                    problems.append(f"{where}: {what} ({label}) belongs to no person box "
                                    f"({'inside several' if inside else 'inside none'}); draw it inside one box")
                    continue
            if (sample, names[label]) in placed:
                problems.append(f"{where}: person {_sample_id(sample)} (sample {sample}) has keypoint {label!r} "
                                f"twice ({placed[sample, names[label]]} and {what}); keep one")
                continue
            placed[sample, names[label]] = what
            meta_text = (r.get("meta") or {}).get("text") if isinstance(r.get("meta"), dict) else None
            occluded = "occluded" in " ".join(str(x) for x in (meta_text if isinstance(meta_text, list) else [])).lower()
            labels[sample][names[label]] = [xy[0], xy[1], 1.0 if occluded else 2.0]
        for i in samples:
            if i in rejected:
                answers[i] = "reject"
            elif (labels[i][:, 2] > 0).any():
                answers[i] = labels[i]
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ValueError(f"{len(problems)} problem(s) in the Label Studio export: {shown}")
    return answers
