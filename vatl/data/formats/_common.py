"""Helpers shared by the format readers and writers: JSON I/O, record validation, sample collection.

Every error names the file, the record (``annotations[12] (id=7)``) and the field, so that a user can
open the file and fix it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from vatl.data.video import Frame, Video
from vatl.skeletons import COCO17, JRDB, POSETRACK21, KeypointSet

log = logging.getLogger(__name__)

# Reasons an instance is left out of a video (keys of ``Video.skipped``).
SKIP_UNLABELED_FRAME = "unlabeled_frame"  # on a frame whose keypoints were not annotated
SKIP_NO_JOINT = "no_annotated_joint"  # every v == 0
SKIP_MISSING_BOX = "missing_box"  # no bbox (or an empty list) and none could be derived
SKIP_EMPTY_BOX = "empty_box"  # w <= 0 or h <= 0
SKIP_CROWD = "crowd"  # iscrowd / is_crowd = 1
SKIP_OTHER_CATEGORY = "other_category"  # category without keypoints of the chosen set
SKIP_AFTER_MAX_FRAMES = "after_max_frames"  # beyond the first n frames kept
SKIP_WRAPS_SEAM = "wraps_panorama_seam"  # derived box would span a 360° panorama's seam


# ---------------------------------------------------------------------------------------------- I/O

def load_json(path: str | os.PathLike) -> dict[str, Any]:
    """The top-level JSON object of ``path``.

    Raises FileNotFoundError (missing file), IsADirectoryError (a folder was given) or ValueError
    (not JSON, or not an object at the top level), each naming the path.
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file")
    if p.is_dir():
        raise IsADirectoryError(f"{p}: is a directory; expected an annotation JSON file")
    try:
        with p.open("r", encoding="utf-8") as f:
            data = json.load(f)
    except UnicodeDecodeError as e:
        raise ValueError(f"{p}: not a JSON file (not UTF-8 text: {e.reason})") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{p}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{p}: expected a JSON object at the top level, got {type(data).__name__}")
    return data


def dump_json(data: Any, path: str | os.PathLike) -> Path:
    """Write ``data`` to ``path`` deterministically (same input, same bytes) and atomically.

    Parent folders are created. Non-finite numbers are refused (JSON has none).
    """
    p = Path(path)
    if p.is_dir():
        raise IsADirectoryError(f"{p}: is a directory; give the path of the JSON file to write")
    text = json.dumps(data, allow_nan=False, ensure_ascii=False) + "\n"
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return p


def natural_key(text: str) -> tuple:
    """Sort key in which digit runs compare as numbers (``img2`` < ``img10``)."""
    return tuple(int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text))


def relative_file_name(path: Path | None, root: Path, fallback: str) -> str:
    """``path`` relative to ``root`` with forward slashes (``..`` allowed); ``fallback`` if no path."""
    if path is None:
        return fallback
    return Path(os.path.relpath(Path(path).absolute(), Path(root).absolute())).as_posix()


def join_image_path(root: Path, file_name: str) -> Path:
    return Path(os.path.normpath(Path(root) / file_name))


def missing_frames(video: Video) -> list[Path]:
    """Frame image paths that do not exist (frames without a path are ignored)."""
    return [f.path for f in video.frames if f.path is not None and not Path(f.path).is_file()]


def check_frames_exist(video: Video, source: str | os.PathLike) -> None:
    """Raise FileNotFoundError naming the first missing images of ``video``."""
    missing = missing_frames(video)
    if missing:
        shown = ", ".join(str(m) for m in missing[:3])
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise FileNotFoundError(f"{source}: {len(missing)} of {len(video.frames)} frame images are missing: "
                                f"{shown}{more} (check image_root)")


# ------------------------------------------------------------------------------------- validation

def where(kind: str, index: int, record: Mapping[str, Any]) -> str:
    """``annotations[12] (id=7)`` — how errors name a record."""
    rid = record.get("id") if isinstance(record, Mapping) else None
    return f"{kind}[{index}]" + (f" (id={rid!r})" if rid is not None else "")


def record_error(path: Path, kind: str, index: int, record: Mapping[str, Any], field_name: str,
                 problem: str) -> ValueError:
    return ValueError(f"{path}: {where(kind, index, record)}: field '{field_name}': {problem}")


def require_list(path: Path, data: Mapping[str, Any], key: str, required: bool = True) -> list:
    if key not in data:
        if required:
            raise ValueError(f"{path}: missing top-level field '{key}' (expected a list)")
        return []
    value = data[key]
    if not isinstance(value, list):
        raise ValueError(f"{path}: top-level field '{key}' must be a list, got {type(value).__name__}")
    for i, rec in enumerate(value):
        if not isinstance(rec, dict):
            raise ValueError(f"{path}: {key}[{i}] must be an object, got {type(rec).__name__}")
    return value


def require_int(path: Path, kind: str, index: int, record: Mapping[str, Any], key: str) -> int:
    if key not in record:
        raise record_error(path, kind, index, record, key, "missing")
    value = record[key]
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise record_error(path, kind, index, record, key, f"expected an integer, got {value!r}")
    try:
        as_float = float(value)
    except ValueError:
        raise record_error(path, kind, index, record, key, f"expected an integer, got {value!r}") from None
    if not math.isfinite(as_float) or as_float != int(as_float):
        raise record_error(path, kind, index, record, key, f"expected an integer, got {value!r}")
    return int(as_float) if not isinstance(value, int) else value


def parse_numbers(path: Path, kind: str, index: int, record: Mapping[str, Any], key: str,
                  length: int, what: str) -> np.ndarray:
    """A numeric list field of a given length as float64 (errors name the record and the field)."""
    value = record[key]
    if not isinstance(value, list):
        raise record_error(path, kind, index, record, key, f"expected a list of {what}, got {type(value).__name__}")
    if len(value) != length:
        raise record_error(path, kind, index, record, key, f"expected {length} numbers ({what}), got {len(value)}")
    bad = next((i for i, v in enumerate(value) if isinstance(v, bool) or not isinstance(v, (int, float))), None)
    if bad is not None:
        raise record_error(path, kind, index, record, key, f"element {bad} is not a number: {value[bad]!r}")
    arr = np.asarray(value, dtype=np.float64)
    if not np.isfinite(arr).all():
        raise record_error(path, kind, index, record, key, "contains a non-finite number")
    return arr


def parse_keypoints(path: Path, index: int, record: Mapping[str, Any], k: int) -> np.ndarray:
    """(K, 3) keypoints of ``annotations[index]``."""
    if "keypoints" not in record or record["keypoints"] is None:
        raise record_error(path, "annotations", index, record, "keypoints",
                           f"missing (expected {3 * k} numbers: x, y, v for {k} keypoints)")
    flat = parse_numbers(path, "annotations", index, record, "keypoints", 3 * k, f"x, y, v for {k} keypoints")
    return flat.reshape(k, 3)


def parse_bbox(path: Path, index: int, record: Mapping[str, Any]) -> np.ndarray | None:
    """(4,) xywh box of ``annotations[index]``, or None when the record has none (absent, null or [])."""
    value = record.get("bbox")
    if value is None or (isinstance(value, list) and len(value) == 0):
        return None
    return parse_numbers(path, "annotations", index, record, "bbox", 4, "x, y, width, height")


def box_from_keypoints(kp: np.ndarray, pad: float = 0.1, width: int = 0, height: int = 0) -> np.ndarray:
    """(4,) xywh extent of the labeled joints of ``kp`` (K, 3), padded by ``pad`` × size per side.

    Clipped to the image when its size is known. All-unlabeled → zeros.
    """
    labeled = kp[:, 2] > 0
    if not labeled.any():
        return np.zeros(4)
    xy = kp[labeled, :2]
    x0, y0 = xy.min(axis=0)
    x1, y1 = xy.max(axis=0)
    w, h = x1 - x0, y1 - y0
    x0, x1 = x0 - pad * w, x1 + pad * w
    y0, y1 = y0 - pad * h, y1 + pad * h
    if width > 0:
        x0, x1 = max(x0, 0.0), min(x1, float(width))
    if height > 0:
        y0, y1 = max(y0, 0.0), min(y1, float(height))
    return np.array([x0, y0, x1 - x0, y1 - y0], dtype=np.float64)


# ------------------------------------------------------------------------------------- collection

@dataclass
class SampleArrays:
    """Samples gathered from annotation records (aligned lists) and what was left out."""

    frame_index: list[int] = field(default_factory=list)
    track_id: list[int] = field(default_factory=list)
    boxes: list[np.ndarray] = field(default_factory=list)
    keypoints: list[np.ndarray] = field(default_factory=list)
    annotation_ids: list[int] = field(default_factory=list)
    derived_box: list[bool] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def image_index_by_id(path: Path, images: Sequence[Mapping[str, Any]], order: Sequence[int]) -> dict[int, int]:
    """image id → position in the ordered frame list; duplicate ids are an error."""
    by_id: dict[int, int] = {}
    for pos, i in enumerate(order):
        iid = require_int(path, "images", i, images[i], "id")
        if iid in by_id:
            raise record_error(path, "images", i, images[i], "id", f"duplicate image id {iid}")
        by_id[iid] = pos
    return by_id


def collect_samples(path: Path, annotations: Sequence[Mapping[str, Any]], frame_of_image: Mapping[int, int],
                    frames: Sequence[Frame], keypoint_set: KeypointSet,
                    track_id_of: Callable[[int, Mapping[str, Any]], int],
                    accept: Callable[[int, Mapping[str, Any], int], str | None] | None = None,
                    derive_missing_box: bool = False, box_padding: float = 0.1,
                    clip_derived_boxes: bool = True, panorama_width: int = 0) -> SampleArrays:
    """Turn annotation records into samples, skipping (and counting) unusable instances.

    ``accept(index, record, frame)`` may return a skip reason checked before the keypoints are parsed
    (unlabeled frame, other category, crowd, …). Kept instances need ≥ 1 joint with v > 0 and a box
    with w > 0 and h > 0; a missing box is derived from the joints when ``derive_missing_box`` (clipped
    to the frame's ``width``/``height`` when ``clip_derived_boxes`` and the size is known).
    With ``panorama_width`` > 0, a derived box wider than half the panorama (a person across the
    seam of a 360° image) is skipped.
    """
    out = SampleArrays()
    k = keypoint_set.num_keypoints
    seen_ids: dict[int, int] = {}
    for i, rec in enumerate(annotations):
        image_id = require_int(path, "annotations", i, rec, "image_id")
        if image_id not in frame_of_image:
            raise record_error(path, "annotations", i, rec, "image_id",
                               f"image id {image_id} is not in 'images'")
        frame = frame_of_image[image_id]
        if frame < 0:  # image dropped (after max_frames)
            out.skip(SKIP_AFTER_MAX_FRAMES)
            continue
        if accept is not None:
            reason = accept(i, rec, frame)
            if reason is not None:
                out.skip(reason)
                continue
        ann_id = require_int(path, "annotations", i, rec, "id")
        if ann_id in seen_ids:
            raise record_error(path, "annotations", i, rec, "id",
                               f"duplicate annotation id {ann_id} (also annotations[{seen_ids[ann_id]}])")
        seen_ids[ann_id] = i
        track = track_id_of(i, rec)
        kp = parse_keypoints(path, i, rec, k)
        box = parse_bbox(path, i, rec)
        if not (kp[:, 2] > 0).any():
            out.skip(SKIP_NO_JOINT)
            continue
        derived = False
        if box is None:
            if not derive_missing_box:
                out.skip(SKIP_MISSING_BOX)
                continue
            fr = frames[frame]
            box = (box_from_keypoints(kp, box_padding, fr.width, fr.height) if clip_derived_boxes
                   else box_from_keypoints(kp, box_padding))
            derived = True
            if panorama_width > 0 and box[2] > panorama_width / 2:
                out.skip(SKIP_WRAPS_SEAM)
                continue
        if box[2] <= 0 or box[3] <= 0:
            out.skip(SKIP_EMPTY_BOX)
            continue
        out.frame_index.append(frame)
        out.track_id.append(track)
        out.boxes.append(box)
        out.keypoints.append(kp)
        out.annotation_ids.append(ann_id)
        out.derived_box.append(derived)
    return out


def build_video(name: str, keypoint_set: KeypointSet, frames: list[Frame], samples: SampleArrays,
                source: dict[str, Any]) -> Video:
    k = keypoint_set.num_keypoints
    n = len(samples.frame_index)
    if n:
        pairs = np.stack([samples.track_id, samples.frame_index], axis=1)
        duplicates = n - len(np.unique(pairs, axis=0))
        if duplicates:
            log.warning("%s: %d instance(s) share a track id with another instance of the same frame; "
                        "temporal neighbours of that track are ambiguous", source.get("path", name), duplicates)
    return Video(
        name=name,
        keypoint_set=keypoint_set,
        frames=frames,
        frame_index=np.asarray(samples.frame_index, dtype=np.int64),
        track_id=np.asarray(samples.track_id, dtype=np.int64),
        boxes=np.asarray(samples.boxes, dtype=np.float64).reshape(n, 4),
        keypoints=np.asarray(samples.keypoints, dtype=np.float64).reshape(n, k, 3),
        annotation_ids=np.asarray(samples.annotation_ids, dtype=np.int64),
        skipped=dict(sorted(samples.skipped.items())),
        source=source,
    )


# --------------------------------------------------------------------------------- keypoint sets

_JRDB_ALIASES = {"center_shoulder": "neck", "center_hip": "tailbone", "right_wrist": "right_hand",
                 "left_wrist": "left_hand"}


def normalise_name(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def is_jrdb_names(names: Sequence[str]) -> bool:
    """True for JRDB-Pose's 17 names in its order, spelled as in its releases.

    The stitched COCO files say ``right eye``/``center shoulder``/``center hip``/``right wrist``, the
    evaluation toolkit ``neck``/``tailbone``/``right hand``; both are accepted.
    """
    mapped = tuple(_JRDB_ALIASES.get(normalise_name(n), normalise_name(n)) for n in names)
    return mapped == JRDB.keypoints


def builtin_set_for_names(names: Sequence[str]) -> KeypointSet | None:
    """The built-in set whose names these are (PoseTrack21, COCO-17 or JRDB-Pose), else None."""
    normalised = tuple(normalise_name(n) for n in names)
    for ks in (POSETRACK21, COCO17):
        if normalised == ks.keypoints:
            return ks
    if is_jrdb_names(names):
        return JRDB
    return None


def keypoint_set_from_category(path: Path, category: Mapping[str, Any], index: int) -> KeypointSet:
    """A built-in set when the names are known, else one read from the category.

    A ``skeleton`` that uses index 0 is taken as 0-based (JRDB-Pose's files are), otherwise 1-based as
    COCO specifies.
    """
    names = category.get("keypoints")
    if not isinstance(names, list) or not names:
        raise record_error(path, "categories", index, category, "keypoints",
                           "missing or empty (expected the list of keypoint names)")
    known = builtin_set_for_names(names)
    if known is not None:
        return known
    cat = dict(category)
    skeleton = cat.get("skeleton") or []
    try:
        edges = [(int(a), int(b)) for a, b in skeleton]
    except (TypeError, ValueError):
        raise record_error(path, "categories", index, category, "skeleton",
                           "expected a list of [a, b] index pairs") from None
    if any(min(e) == 0 for e in edges):
        edges = [(a + 1, b + 1) for a, b in edges]
    cat["skeleton"] = edges
    sigmas = cat.get("sigmas")
    if sigmas is not None and (not isinstance(sigmas, list) or len(sigmas) != len(names)):
        raise record_error(path, "categories", index, category, "sigmas",
                           f"expected {len(names)} numbers (one per keypoint)")
    try:
        return KeypointSet.from_coco_category(cat)
    except ValueError as e:
        raise record_error(path, "categories", index, category, "keypoints/skeleton", str(e)) from None


def category_dict(keypoint_set: KeypointSet, one_based: bool = True, with_sigmas: bool = False) -> dict:
    """A COCO ``categories`` entry for ``keypoint_set`` (id 1, person)."""
    off = 1 if one_based else 0
    cat: dict[str, Any] = {
        "supercategory": "person",
        "id": 1,
        "name": "person",
        "keypoints": list(keypoint_set.keypoints),
        "skeleton": [[a + off, b + off] for a, b in keypoint_set.skeleton],
    }
    if with_sigmas:
        cat["sigmas"] = [float(s) for s in keypoint_set.sigmas]
    return cat


# ------------------------------------------------------------------------------------- writing

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
        if isinstance(old, list) and len(old) == 4:
            if not np.array_equal(np.asarray(old, dtype=np.float64), video.boxes[i]):
                rec["bbox"] = numbers(video.boxes[i])
        if scores is not None:
            rec["scores"] = numbers(keypoints[i, :, 2])
            rec["score"] = num(scores[i])
    return out + appended
