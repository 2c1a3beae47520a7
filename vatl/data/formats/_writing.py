"""What the writers share: exact JSON numbers, checks of the arrays given, updating original records."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from vatl.data.video import Video


def num(x: float) -> int | float:
    """A JSON number: integral values as int (compact), others as the exact float."""
    f = float(x)
    if not math.isfinite(f):
        raise ValueError(f"cannot write non-finite number {f} to JSON")
    return int(f) if f.is_integer() and abs(f) < 2 ** 53 else f


def numbers(values: np.ndarray) -> list[int | float]:
    return [num(v) for v in np.asarray(values, dtype=np.float64).ravel()]


def check_outputs(video: Video, keypoints: np.ndarray | None, scores: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate the arrays a writer was given; default keypoints = the video's."""
    n, k = video.num_samples, video.keypoint_set.num_keypoints
    kp = video.keypoints if keypoints is None else np.asarray(keypoints, dtype=np.float64)
    if kp.shape != (n, k, 3):
        raise ValueError(f"keypoints must be (N, K, 3) = ({n}, {k}, 3) for video {video.name!r}, got {kp.shape}")
    if not np.isfinite(kp).all():
        bad = int(np.argwhere(~np.isfinite(kp))[0, 0])
        raise ValueError(f"keypoints of sample {bad} contain a non-finite value (video {video.name!r})")
    sc = None
    if scores is not None:
        sc = np.asarray(scores, dtype=np.float64)
        if sc.shape != (n,):
            raise ValueError(f"scores must be (N,) = ({n},) for video {video.name!r}, got {sc.shape}")
        if not np.isfinite(sc).all():
            raise ValueError(f"scores of video {video.name!r} contain a non-finite value")
    ids = video.annotation_ids
    if len(np.unique(ids)) != len(ids):
        raise ValueError(f"video {video.name!r}: annotation_ids are not unique; cannot write records")
    return kp, sc


def update_records(annotations: list[dict], video: Video, keypoints: np.ndarray, scores: np.ndarray | None,
                   make_record: Callable[[int], dict]) -> list[dict]:
    """Copies of the original records with the samples' keypoints (and scores) written in.

    Records of other instances stay as they were; samples without a record (new ids) are appended,
    built by ``make_record(i)``. A box is written only where it differs from the record's own (or the
    record had one); boxes a reader derived are not added.
    """
    pos_of_id = {}
    for j, rec in enumerate(annotations):
        rid = rec.get("id")
        if isinstance(rid, (int, float)) and not isinstance(rid, bool) and float(rid).is_integer():
            pos_of_id.setdefault(int(rid), j)
    out = [dict(rec) for rec in annotations]
    appended = []
    for i, aid in enumerate(video.annotation_ids.tolist()):
        j = pos_of_id.get(aid)
        if j is None:
            appended.append(make_record(i))
            continue
        rec = out[j]
        rec["keypoints"] = numbers(keypoints[i])
        if "num_keypoints" in rec:
            rec["num_keypoints"] = int((keypoints[i, :, 2] > 0).sum())
        old = rec.get("bbox")
        box_changed = isinstance(old, list) and len(old) == 4 and not np.array_equal(
            np.asarray(old, dtype=np.float64), video.boxes[i])
        if box_changed:
            rec["bbox"] = numbers(video.boxes[i])
        add_scores(rec, keypoints[i], None if scores is None else scores[i])
    return out + appended


def unique_image_ids(video: Video, path: Path) -> list[int]:
    """The frames' image ids, which a written file needs to be unique."""
    ids = [int(f.image_id) for f in video.frames]
    if len(set(ids)) != len(ids):
        raise ValueError(f"video {video.name!r}: frame image ids are not unique; cannot write {path}")
    return ids


def add_scores(record: dict, keypoints: np.ndarray, score: float | None) -> None:
    """Prediction fields of a record: per-keypoint ``scores`` (= keypoints (K, 3)[:, 2]) and ``score``."""
    if score is not None:
        record["scores"] = numbers(keypoints[:, 2])
        record["score"] = num(score)


def write_format(video: Video, json_path: str | os.PathLike, fmt: str, keypoints: np.ndarray | None,
                 scores: np.ndarray | None, make_record: Callable[[int, np.ndarray, np.ndarray | None], dict],
                 build: Callable[..., dict], *, keypoint_scores: np.ndarray | None = None,
                 image_root: Callable[[Path], Path] | None = None, absolute_paths: bool = False) -> Path:
    """What every writer does: validate the arrays; if ``video.source`` holds an original JSON of format
    ``fmt``, update its records (:func:`update_records`, new samples made by ``make_record(i, kp, sc)``),
    else build a complete file with ``build(video, path, kp, sc, absolute_paths)``; write it
    deterministically (:func:`vatl.fileio.write_atomic`: the permissions of vatl's other outputs).

    keypoint_scores: (N, K) per-keypoint ``scores`` of a prediction file, when they differ from
    ``keypoints[..., 2]`` (e.g. labels that keep their visibility v in ``keypoints``).
    image_root: the writer's image root of a file at a path (its reader's default). The ``file_name``s of
    an updated original are rewritten to resolve from it (relative inside it, absolute outside, or
    absolute everywhere with ``absolute_paths``), so that the written file reads back wherever it is.
    """
    from vatl.data.formats._files import dump_json

    kp, sc = check_outputs(video, keypoints, scores)
    ks = None
    if keypoint_scores is not None:
        ks = np.asarray(keypoint_scores, dtype=np.float64)
        if ks.shape != kp.shape[:2] or not np.isfinite(ks).all():
            raise ValueError(f"keypoint_scores must be finite (N, K) = {kp.shape[:2]} for video {video.name!r}")
    path = Path(json_path)
    src = video.source.get("json") if video.source.get("format") == fmt else None
    if isinstance(src, dict) and isinstance(src.get("annotations"), list):
        data = dict(src)
        data["annotations"] = update_records(src["annotations"], video, kp, sc, lambda i: make_record(i, kp, sc))
        if image_root is not None and isinstance(src.get("images"), list):
            data["images"] = _rebased_images(src["images"], video, image_root(path), absolute_paths)
    else:
        data = build(video, path, kp, sc, absolute_paths)
    if ks is not None and sc is not None:
        row_of_id = {aid: i for i, aid in enumerate(video.annotation_ids.tolist())}
        for rec in data["annotations"]:
            i = row_of_id.get(rec.get("id")) if isinstance(rec, dict) else None
            if i is not None and "scores" in rec:
                rec["scores"] = numbers(ks[i])
    return dump_json(data, path)


def _rebased_images(images: list, video: Video, root: Path, absolute: bool) -> list:
    """Copies of image records whose ``file_name`` resolves from ``root`` (see :func:`write_format`); frames
    take their read path, other images their name joined to the original image root."""
    from vatl.data.formats._files import join_image_path, written_file_name

    by_id = {int(f.image_id): f for f in video.frames}
    old_root = video.source.get("image_root")
    out = []
    for im in images:
        name = im.get("file_name") if isinstance(im, dict) else None
        if isinstance(name, str) and name:
            frame = by_id.get(im.get("id")) if isinstance(im.get("id"), int) else None
            where = frame.path if frame is not None else None
            if where is None and old_root is not None:
                try:
                    where = join_image_path(Path(old_root), name)
                except ValueError:
                    where = None  # a name outside the original root was never read: kept as it was
            if where is not None:
                im = {**im, "file_name": written_file_name(where, root, name, absolute)}
        out.append(im)
    return out
