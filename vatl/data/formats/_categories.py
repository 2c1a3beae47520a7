"""Keypoint sets from COCO ``categories`` entries: built-in sets recognised by their names."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from vatl.data.formats._records import record_error
from vatl.skeletons import COCO17, JRDB, POSETRACK21, KeypointSet

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
    """A built-in set when the names are known, else one read from the category
    (:meth:`~vatl.skeletons.KeypointSet.from_coco_category`: flip pairs from the names' sides, WPU's angles
    from the limb names or the skeleton's edges, sigmas from the ``sigmas`` field — positive numbers — or
    by joint name).

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
    if sigmas is not None:
        bad = next((j for j, v in enumerate(sigmas) if isinstance(v, bool) or not isinstance(v, (int, float))
                    or not math.isfinite(v) or v <= 0), None)
        if bad is not None:
            raise record_error(path, "categories", index, category, "sigmas",
                               f"sigma {bad} ({names[bad]}) is {sigmas[bad]!r}; expected a number > 0")
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
