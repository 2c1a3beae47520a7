"""Dataset formats: read a :class:`~vatl.data.video.Video` from annotation JSON, write labels/predictions back.

``load_video(path)`` detects the format from the file's content; ``save_video(video, path)`` writes in
the format the video was read from. One module per format:

- ``posetrack21``: PoseTrack21 per-video JSON (:mod:`vatl.data.formats.posetrack21`);
- ``jrdb``: JRDB-Pose per-scene stitched COCO-style JSON (:mod:`vatl.data.formats.jrdb`);
- ``coco``: generic COCO keypoints with ``track_id`` (:mod:`vatl.data.formats.coco`; CVAT's "COCO
  Keypoints 1.0" export too);
- ``slp`` / ``dlc``: SLEAP ``.slp`` and DeepLabCut ``CollectedData_*.csv|.h5`` through sleap-io (optional
  extra ``formats``; :mod:`vatl.data.formats.sleap`), recognised by the file name. They have no JSON
  writer: :func:`save_video` writes such a video as COCO keypoints (:func:`json_format`), and ``vatl export
  --to slp|dlc`` writes the tools' own files.

Exchange with annotation tools (queries out, answers back): :mod:`~vatl.data.formats.labelstudio`
(Label Studio tasks JSON / export), :mod:`~vatl.data.formats.cvat` (COCO Keypoints 1.0),
:mod:`~vatl.data.formats.sleap` (SLEAP, DeepLabCut).

Adding a format: a module with ``read_<name>(json_path, **options) -> Video``, a ``<name>_from_dict``
twin on parsed JSON, ``write_<name>(video, json_path, keypoints=None, scores=None) -> Path``, a line in
:data:`FORMATS` and, if it can be recognised, a rule in :func:`detect_format`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from vatl.data.formats._categories import is_jrdb_names
from vatl.data.formats._files import load_json, missing_frames
from vatl.data.formats._samples import require_samples
from vatl.data.formats.coco import coco_from_dict, read_coco, write_coco
from vatl.data.formats.jrdb import jrdb_from_dict, read_jrdb, write_jrdb
from vatl.data.formats.posetrack21 import posetrack21_from_dict, read_posetrack21, write_posetrack21
from vatl.data.video import Video

FORMATS: tuple[str, ...] = ("posetrack21", "jrdb", "coco")

_FROM_DICT: dict[str, Callable[..., Video]] = {
    "posetrack21": posetrack21_from_dict,
    "jrdb": jrdb_from_dict,
    "coco": coco_from_dict,
}
_WRITERS: dict[str, Callable[..., Path]] = {
    "posetrack21": write_posetrack21,
    "jrdb": write_jrdb,
    "coco": write_coco,
}


def _check_format(format: str) -> str:
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; known: {', '.join(FORMATS)}")
    return format


def detect_format(data: Mapping[str, Any]) -> str:
    """``posetrack21`` (images with ``is_labeled`` and ``vid_id``/``frame_id``), ``jrdb`` (a category
    with JRDB-Pose's keypoint names) or ``coco``."""
    images = data.get("images")
    if isinstance(images, list) and any(
            isinstance(im, dict) and "is_labeled" in im and ("vid_id" in im or "frame_id" in im) for im in images):
        return "posetrack21"
    categories = data.get("categories")
    if isinstance(categories, list) and any(
            isinstance(c, dict) and isinstance(c.get("keypoints"), list) and is_jrdb_names(c["keypoints"])
            for c in categories):
        return "jrdb"
    return "coco"


def load_video(path: str | os.PathLike, format: str = "auto", **options: Any) -> Video:
    """Read a video from an annotation JSON, a SLEAP ``.slp`` or a DeepLabCut ``CollectedData_*`` file.

    Args:
        path: the file (one video / scene).
        format: ``"auto"`` (the tools' files by name, JSON formats by content), one of :data:`FORMATS`
            or of :data:`TOOL_FORMATS`.
        options: passed to the reader (e.g. ``image_root``, ``check_images``; ``max_frames`` for jrdb;
            ``frames_dir``, ``video_index``, ``image_root`` for slp).
    Raises:
        FileNotFoundError / IsADirectoryError / ValueError naming the file (and record and field).
    A file without any usable instance gives a video with N = 0 (see ``video.skipped``);
    :func:`require_samples` turns that into an error that says why.
    """
    p = Path(path)
    tool = format if format in TOOL_FORMATS else tool_format(p) if format == "auto" else None
    if tool == "slp":
        from vatl.data.formats.sleap import read_slp

        return read_slp(p, **{k: v for k, v in options.items() if k in ("frames_dir", "video_index", "image_root")})
    if tool == "dlc":
        from vatl.data.formats.sleap import read_dlc

        return read_dlc(p)
    if format != "auto":
        _check_format(format)
    data = load_json(p)
    fmt = detect_format(data) if format == "auto" else format
    return _FROM_DICT[fmt](data, p, **options)


TOOL_FORMATS: tuple[str, ...] = ("slp", "dlc")


def tool_format(path: str | os.PathLike) -> str | None:
    """``slp`` for a ``.slp`` file, ``dlc`` for DeepLabCut's ``CollectedData*.csv|.h5``, else None."""
    p = Path(path)
    if p.suffix.lower() == ".slp":
        return "slp"
    if p.suffix.lower() in (".csv", ".h5") and p.name.lower().startswith("collecteddata"):
        return "dlc"
    return None


def json_format(video: Video) -> str:
    """The JSON format :func:`save_video` writes ``video`` in by default: its source's, or ``coco`` for a
    video read from a format without a JSON writer (SLEAP, DeepLabCut)."""
    fmt = video.source.get("format", "posetrack21")
    return fmt if fmt in FORMATS else "coco"


def save_video(video: Video, path: str | os.PathLike, keypoints: np.ndarray | None = None,
               scores: np.ndarray | None = None, format: str | None = None,
               keypoint_scores: np.ndarray | None = None, absolute_paths: bool = False) -> Path:
    """Write ``video`` (or predictions for its samples) as JSON.

    The format is ``format`` if given, else ``video.source['format']``, else ``posetrack21``.
    ``keypoints`` (N, K, 3) replaces the samples' keypoints; ``scores`` (N,) marks a prediction file, whose
    per-keypoint ``scores`` are ``keypoint_scores`` (N, K) when given, else ``keypoints[..., 2]``. Image
    paths resolve from where the file is written (relative to its reader's default image root when the
    image lies inside it, else absolute), or are all absolute with ``absolute_paths``.
    """
    fmt = _check_format(format or json_format(video))
    return _WRITERS[fmt](video, path, keypoints=keypoints, scores=scores, keypoint_scores=keypoint_scores,
                         absolute_paths=absolute_paths)


__all__ = [
    "FORMATS", "TOOL_FORMATS", "detect_format", "json_format", "load_video", "save_video", "tool_format",
    "missing_frames", "require_samples",
    "read_posetrack21", "write_posetrack21", "read_jrdb", "write_jrdb", "read_coco", "write_coco",
]
