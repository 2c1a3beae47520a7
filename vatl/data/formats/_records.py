"""Validation of JSON records: every error names the file, the record (``annotations[12] (id=7)``)
and the field, so that a user can open the file and fix it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from vatl.data.bounds import VISIBILITY_VALUES, allowed_region, describe_region, outside


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


def check_plausible(path: Path, index: int, record: Mapping[str, Any], kp: np.ndarray, box: np.ndarray | None,
                    width: int = 0, height: int = 0) -> None:
    """Visibility flags in {0, 1, 2} and labeled joints and the box inside the plausible region of the image
    (:mod:`vatl.data.bounds`); a ValueError naming the record, the field and the joint otherwise.

    A prediction record (one with a ``score``, as vatl and COCO results write them) carries a confidence
    (any number: a heatmap maximum) in place of v.
    """
    v = kp[:, 2]
    allowed = np.isfinite(v) if "score" in record else np.isin(v, VISIBILITY_VALUES)
    bad = np.flatnonzero(~allowed)
    if len(bad):
        j = int(bad[0])
        raise record_error(path, "annotations", index, record, "keypoints",
                           f"keypoint {j}: visibility v = {v[j]:g}; expected 0 (not labeled), 1 (occluded) or 2 (visible)")
    region = allowed_region(width, height)
    far = np.flatnonzero(outside(kp[:, :2], region) & (v > 0))
    if len(far):
        j = int(far[0])
        raise record_error(path, "annotations", index, record, "keypoints",
                           f"keypoint {j} at ({kp[j, 0]:g}, {kp[j, 1]:g}) lies outside "
                           f"{describe_region(region, width, height)}")
    if box is not None:  # a box must overlap the region and be no larger than it
        x0, x1, y0, y1 = region
        overlaps = box[0] < x1 and box[0] + box[2] > x0 and box[1] < y1 and box[1] + box[3] > y0
        if not overlaps or box[2] > x1 - x0 or box[3] > y1 - y0:
            raise record_error(path, "annotations", index, record, "bbox",
                               f"{box.tolist()} does not fit {describe_region(region, width, height)}")


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
