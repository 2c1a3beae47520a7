"""PoseTrack21 per-video JSON (the PoseTrack18 layout): read a :class:`Video`, write labels/predictions.

Layout: ``<root>/posetrack_data/<split>/<video>.json`` with

- ``images``: ``id``, ``frame_id``, ``vid_id``, ``file_name`` (relative to ``<root>``), ``is_labeled``,
  ``nframes``, optionally ``width``/``height``, ``ignore_regions_x/y``;
- ``annotations``: ``id``, ``image_id``, ``track_id``, ``bbox`` (x, y, w, h), ``keypoints`` (x, y, v × 17),
  ``bbox_head``, ``person_id``, ``category_id``; prediction files add ``scores`` (one per keypoint) and
  ``score``;
- ``categories``: the keypoint names and a 1-based skeleton.

Frames are all images sorted by ``frame_id``. Only instances on labeled frames become samples; those
without any annotated joint (all v = 0) or without a usable box (missing, w ≤ 0 or h ≤ 0) are left out
and counted in ``Video.skipped`` (keys: ``unlabeled_frame``, ``no_annotated_joint``, ``missing_box``,
``empty_box``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from vatl.data.formats._categories import builtin_set_for_names, category_dict, keypoint_set_from_category
from vatl.data.formats._files import check_frames_exist, image_path, load_json, video_name, written_file_name
from vatl.data.formats._records import record_error, require_int, require_list
from vatl.data.formats._samples import SKIP_UNLABELED_FRAME, build_video, collect_samples, image_index_by_id
from vatl.data.formats._writing import add_scores, numbers, unique_image_ids, write_format
from vatl.data.video import Frame, Video
from vatl.skeletons import POSETRACK21, KeypointSet

FORMAT = "posetrack21"


def default_image_root(json_path: str | os.PathLike) -> Path:
    """``<root>`` for ``<root>/posetrack_data/<split>/<video>.json``, else the JSON's own folder."""
    p = Path(json_path).absolute()
    if len(p.parents) >= 3 and p.parents[1].name == "posetrack_data":
        return p.parents[2]
    return p.parent


def read_posetrack21(json_path: str | os.PathLike, image_root: str | os.PathLike | None = None,
                     check_images: bool = False) -> Video:
    """Read one PoseTrack21 video.

    Args:
        json_path: the per-video annotation file.
        image_root: folder the images' ``file_name`` is relative to (default: :func:`default_image_root`).
        check_images: raise FileNotFoundError if any frame image is missing (default: not checked;
            frames are decoded lazily).
    Returns:
        The video; ``video.source`` keeps the parsed JSON so that :func:`write_posetrack21` can
        preserve everything it does not model.
    """
    path = Path(json_path)
    return posetrack21_from_dict(load_json(path), path, image_root, check_images)


def posetrack21_from_dict(data: Mapping[str, Any], path: Path, image_root: str | os.PathLike | None = None,
                          check_images: bool = False) -> Video:
    """:func:`read_posetrack21` on an already parsed JSON object (``path`` names it in errors)."""
    path = Path(path)
    images = require_list(path, data, "images")
    annotations = require_list(path, data, "annotations")
    keypoint_set = _keypoint_set(path, require_list(path, data, "categories", required=False))
    root = Path(image_root) if image_root is not None else default_image_root(path)

    frame_ids = [require_int(path, "images", i, im, "frame_id") for i, im in enumerate(images)]
    order = sorted(range(len(images)), key=lambda i: frame_ids[i])
    for a, b in zip(order, order[1:]):
        if frame_ids[a] == frame_ids[b]:
            raise record_error(path, "images", b, images[b], "frame_id",
                               f"duplicate frame_id {frame_ids[b]} (also images[{a}])")
    frame_of_image = image_index_by_id(path, images, order)
    frames = [_frame(path, i, images[i], root) for i in order]

    samples = collect_samples(
        path, annotations, frame_of_image, frames, keypoint_set,
        track_id_of=lambda i, rec: require_int(path, "annotations", i, rec, "track_id"),
        accept=lambda i, rec, frame: None if frames[frame].is_labeled else SKIP_UNLABELED_FRAME,
    )
    source = {"format": FORMAT, "path": str(path), "image_root": str(root), "json": data}
    vid_ids = {im.get("vid_id") for im in images if im.get("vid_id") is not None}
    name = video_name(path, data, frames, vid_id=next(iter(vid_ids)) if len(vid_ids) == 1 else None)
    video = build_video(name, keypoint_set, frames, samples, source)
    if check_images:
        check_frames_exist(video, path)
    return video


def _keypoint_set(path: Path, categories: list[dict]) -> KeypointSet:
    with_names = [(i, c) for i, c in enumerate(categories) if "keypoints" in c]
    if not with_names:
        return POSETRACK21
    index, category = next(((i, c) for i, c in with_names if c.get("id") == 1), with_names[0])
    return keypoint_set_from_category(path, category, index)


def _frame(path: Path, index: int, image: Mapping[str, Any], root: Path) -> Frame:
    file_name = image.get("file_name")
    if not isinstance(file_name, str) or not file_name:
        raise record_error(path, "images", index, image, "file_name", "missing (expected the image path)")
    if "is_labeled" not in image:
        raise record_error(path, "images", index, image, "is_labeled", "missing (expected true/false)")
    labeled = image["is_labeled"]
    if not isinstance(labeled, (bool, int)):
        raise record_error(path, "images", index, image, "is_labeled", f"expected true/false, got {labeled!r}")
    size = {k: require_int(path, "images", index, image, k) if image.get(k) is not None else 0
            for k in ("width", "height")}
    return Frame(path=image_path(path, index, image, root, file_name),
                 image_id=require_int(path, "images", index, image, "id"),
                 width=size["width"], height=size["height"], is_labeled=bool(labeled))


def write_posetrack21(video: Video, json_path: str | os.PathLike, keypoints: np.ndarray | None = None,
                      scores: np.ndarray | None = None, keypoint_scores: np.ndarray | None = None,
                      absolute_paths: bool = False) -> Path:
    """Write ``video`` as a PoseTrack21 JSON (labels, or predictions when ``scores`` is given).

    Args:
        keypoints: (N, K, 3) written in place of the samples' keypoints (default ``video.keypoints``).
        scores: (N,) instance scores; adds ``score`` and per-keypoint ``scores`` (= keypoints[..., 2])
            as PoseTrack prediction files carry them.
    If ``video.source`` holds a PoseTrack21 JSON, every other field and record is kept as it was
    (skipped instances, ``bbox_head``, ignore regions, unlabeled frames), the ``file_name``s rewritten to
    resolve from where the file is written. Otherwise a complete file is built from the video; ``file_name``
    is relative to :func:`default_image_root` of ``json_path`` when the image lies inside it, else absolute
    (all absolute with ``absolute_paths``). ``keypoint_scores`` (N, K): per-keypoint ``scores`` when they
    differ from ``keypoints[..., 2]``. Output is deterministic. Returns the written path.
    """
    return write_format(video, json_path, FORMAT, keypoints, scores,
                        lambda i, kp, sc: _annotation(video, i, kp, sc), _build,
                        keypoint_scores=keypoint_scores, image_root=default_image_root,
                        absolute_paths=absolute_paths)


def _annotation(video: Video, i: int, kp: np.ndarray, sc: np.ndarray | None,
                image_ids: list[int] | None = None) -> dict:
    fi = int(video.frame_index[i])
    track = int(video.track_id[i])
    rec: dict[str, Any] = {
        "bbox": numbers(video.boxes[i]),
        "category_id": 1,
        "id": int(video.annotation_ids[i]),
        "image_id": image_ids[fi] if image_ids is not None else int(video.frames[fi].image_id),
        "keypoints": numbers(kp[i]),
        "person_id": track,
        "track_id": track,
    }
    add_scores(rec, kp[i], None if sc is None else sc[i])
    return rec


def _build(video: Video, path: Path, kp: np.ndarray, sc: np.ndarray | None, absolute: bool = False) -> dict:
    root = default_image_root(path)
    ids = unique_image_ids(video, path)
    # frame_id must sort like the frames; keep the image ids when they do.
    increasing = all(a < b for a, b in zip(ids, ids[1:]))
    frame_ids = ids if increasing else list(range(len(ids)))
    has_samples = np.zeros(len(video.frames), dtype=bool)
    has_samples[video.frame_index] = True
    images = []
    for pos, frame in enumerate(video.frames):
        images.append({
            "is_labeled": bool(frame.is_labeled or has_samples[pos]),
            "nframes": len(video.frames),
            "frame_id": frame_ids[pos],
            "id": ids[pos],
            "vid_id": str(video.name),
            "file_name": written_file_name(frame.path, root, f"images/{video.name}/{pos:06d}.jpg", absolute),
            "width": int(frame.width),
            "height": int(frame.height),
        })
    ks = video.keypoint_set
    return {
        "images": images,
        "annotations": [_annotation(video, i, kp, sc, ids) for i in range(video.num_samples)],
        "categories": [category_dict(ks, one_based=True,
                                     with_sigmas=builtin_set_for_names(ks.keypoints) is None)],
    }
