"""JRDB-Pose per-scene COCO-style JSON (``labels/labels_2d_pose_stitched_coco/<scene>.json``).

What the released files hold (checked against ``pose_eval/labels_2d_pose_stitched_coco/*.json`` and
``pose_eval/posetrack/datasets/jrdbpose.py`` of the JRDB toolkit):

- ``images``: ``id`` (1-based, in frame order), ``file_name`` (``image_stitched/<scene>/000000.jpg``,
  relative to ``<root>/images``), ``width``/``height`` (the stitched panorama is 3760 × 480 even where
  ``width`` says otherwise), COCO extras (``license``, ``coco_url``, …);
- ``annotations``: ``id``, ``track_id``, ``image_id``, ``category_id``, ``is_crowd``, ``keypoints``
  (x, y, v × 17 in JRDB-Pose's order), ``num_keypoints``; a ``bbox`` is not always present (the
  toolkit takes person boxes from a separate file);
- ``categories``: one ``person`` entry whose names are ``head``, ``right eye``, …, ``center shoulder``,
  ``center hip``, ``right wrist``, … (the toolkit calls them neck/tailbone/right hand) and a 0-based
  skeleton.

Visibility follows COCO: 0 = not labeled/invisible, 1 = occluded, 2 = visible; v > 0 counts as labeled
(v is stored as given). A missing box is derived from the labeled joints (padded, not clipped: the
``width`` field is unreliable for stitched images); a derived box wider than half the panorama (a
person across its seam, x wrapping from 3760 to 0) is skipped as ``wraps_panorama_seam``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from vatl.data.formats._categories import is_jrdb_names
from vatl.data.formats._files import check_frames_exist, image_path, load_json, video_name, written_file_name
from vatl.data.formats._records import record_error, require_int, require_list
from vatl.data.formats._samples import SKIP_CROWD, build_video, collect_samples, image_index_by_id
from vatl.data.formats._writing import add_scores, numbers, write_format
from vatl.data.video import Frame, Video
from vatl.skeletons import JRDB

FORMAT = "jrdb"
PANORAMA_WIDTH = 3760
# Names as the released stitched COCO files spell them (same order as vatl.skeletons.JRDB).
RELEASE_NAMES = ("head", "right eye", "left eye", "right shoulder", "center shoulder", "left shoulder",
                 "right elbow", "left elbow", "center hip", "right wrist", "right hip", "left hip",
                 "left wrist", "right knee", "left knee", "right foot", "left foot")


def default_image_root(json_path: str | os.PathLike) -> Path:
    """``<root>/images`` for ``<root>/labels/labels_2d_pose*/<scene>.json``, else the JSON's folder."""
    p = Path(json_path).absolute()
    if len(p.parents) >= 3 and p.parent.name.startswith("labels_2d_pose") and p.parents[1].name == "labels":
        return p.parents[2] / "images"
    return p.parent


def read_jrdb(json_path: str | os.PathLike, image_root: str | os.PathLike | None = None,
              max_frames: int | None = None, count_frames: str = "annotated",
              annotated_frames_only: bool = False, derive_boxes: bool = True, box_padding: float = 0.1,
              panorama_width: int = PANORAMA_WIDTH, check_images: bool = False) -> Video:
    """Read one JRDB-Pose scene.

    Args:
        image_root: folder ``file_name`` is relative to (default: :func:`default_image_root`).
        max_frames: keep only the first n frames (the ATL paper uses the first 150). Instances after
            them are counted in ``skipped['after_max_frames']``.
        count_frames: what ``max_frames`` counts: ``"annotated"`` (images holding at least one
            annotation; JRDB-Pose annotates every second image of the stream) or ``"all"`` images.
        annotated_frames_only: drop images without annotations from ``video.frames``, so that
            consecutive annotated frames are neighbours at gap 1.
        derive_boxes: derive a missing ``bbox`` from the labeled joints (padded by ``box_padding`` of
            the extent per side); otherwise such instances are skipped as ``missing_box``.
        panorama_width: width of the stitched panorama for the seam check (0 disables it).
        check_images: raise FileNotFoundError if a frame image is missing.
    """
    path = Path(json_path)
    return jrdb_from_dict(load_json(path), path, image_root, max_frames, count_frames, annotated_frames_only,
                          derive_boxes, box_padding, panorama_width, check_images)


def jrdb_from_dict(data: Mapping[str, Any], path: Path, image_root: str | os.PathLike | None = None,
                   max_frames: int | None = None, count_frames: str = "annotated",
                   annotated_frames_only: bool = False, derive_boxes: bool = True, box_padding: float = 0.1,
                   panorama_width: int = PANORAMA_WIDTH, check_images: bool = False) -> Video:
    """:func:`read_jrdb` on an already parsed JSON object (``path`` names it in errors)."""
    path = Path(path)
    if count_frames not in ("annotated", "all"):
        raise ValueError(f"count_frames must be 'annotated' or 'all', got {count_frames!r}")
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"max_frames must be >= 1 or None, got {max_frames}")
    images = require_list(path, data, "images")
    annotations = require_list(path, data, "annotations")
    _check_category(path, require_list(path, data, "categories", required=False))
    root = Path(image_root) if image_root is not None else default_image_root(path)

    ids = [require_int(path, "images", i, im, "id") for i, im in enumerate(images)]
    order = sorted(range(len(images)), key=lambda i: ids[i])
    position = image_index_by_id(path, images, order)
    annotated_ids = {rec.get("image_id") for rec in annotations}
    annotated = [ids[i] in annotated_ids for i in order]

    keep = list(range(len(order)))
    if annotated_frames_only:
        keep = [p for p in keep if annotated[p]]
    if max_frames is not None:
        if count_frames == "all":
            keep = keep[:max_frames]
        else:
            # up to and including the n-th annotated image; unannotated images after it are dropped
            counted = np.cumsum([annotated[p] for p in keep])
            keep = [p for p, c in zip(keep, counted) if c < max_frames or (c == max_frames and annotated[p])]
    new_pos = {p: j for j, p in enumerate(keep)}
    # images dropped by the options map to -1: their instances are counted, not read
    frame_of_image = {iid: new_pos.get(p, -1) for iid, p in position.items()}
    frames = [_frame(path, order[p], images[order[p]], root, annotated[p]) for p in keep]

    def crowd(i: int, rec: Mapping[str, Any], frame: int) -> str | None:
        return SKIP_CROWD if rec.get("is_crowd", rec.get("iscrowd", 0)) == 1 else None

    samples = collect_samples(
        path, annotations, frame_of_image, frames, JRDB,
        track_id_of=lambda i, rec: require_int(path, "annotations", i, rec, "track_id"),
        accept=crowd, derive_missing_box=derive_boxes, box_padding=box_padding,
        clip_derived_boxes=False, panorama_width=panorama_width)
    source = {"format": FORMAT, "path": str(path), "image_root": str(root), "json": data}
    video = build_video(video_name(path, data, frames), JRDB, frames, samples, source)
    if check_images:
        check_frames_exist(video, path)
    return video


def _check_category(path: Path, categories: list[dict]) -> None:
    for i, cat in enumerate(categories):
        names = cat.get("keypoints")
        if isinstance(names, list) and names:
            if not is_jrdb_names(names):
                raise record_error(path, "categories", i, cat, "keypoints",
                                   f"not JRDB-Pose's 17 keypoints in its order (got {len(names)} names "
                                   f"starting {names[:3]}); read other layouts with read_coco")
            return


def _frame(path: Path, index: int, image: Mapping[str, Any], root: Path, annotated: bool) -> Frame:
    """One stitched image; its width is at least :data:`PANORAMA_WIDTH` (the released ``width`` fields say
    752 for the 3760-pixel panoramas)."""
    file_name = image.get("file_name")
    if not isinstance(file_name, str) or not file_name:
        raise record_error(path, "images", index, image, "file_name", "missing (expected the image path)")
    size = {k: require_int(path, "images", index, image, k) if image.get(k) is not None else 0
            for k in ("width", "height")}
    return Frame(path=image_path(path, index, image, root, file_name),
                 image_id=require_int(path, "images", index, image, "id"),
                 width=max(size["width"], PANORAMA_WIDTH) if size["width"] else 0, height=size["height"],
                 is_labeled=annotated)


def write_jrdb(video: Video, json_path: str | os.PathLike, keypoints: np.ndarray | None = None,
               scores: np.ndarray | None = None, keypoint_scores: np.ndarray | None = None,
               absolute_paths: bool = False) -> Path:
    """Write ``video`` as a JRDB-Pose JSON (labels, or predictions with ``scores``).

    ``keypoints`` (N, 17, 3) replaces the samples' keypoints; ``scores`` (N,) adds ``score`` and
    per-keypoint ``scores``. With the original JSON in ``video.source`` every other field and record
    is kept (no ``bbox`` is added where the file had none; ``file_name``s resolve from where the file is
    written). Otherwise a file is built with the released names, a 0-based skeleton, 1-based image ids in
    frame order and a ``bbox`` per instance. ``keypoint_scores`` and ``absolute_paths`` as for
    :func:`~vatl.data.formats.coco.write_coco`.
    """
    if video.keypoint_set.keypoints != JRDB.keypoints:
        raise ValueError(f"write_jrdb needs a video in JRDB-Pose's keypoint set, got {video.keypoint_set.name!r}")
    return write_format(video, json_path, FORMAT, keypoints, scores,
                        lambda i, kp, sc: _annotation(video, i, kp, sc), _build,
                        keypoint_scores=keypoint_scores, image_root=default_image_root,
                        absolute_paths=absolute_paths)


def _annotation(video: Video, i: int, kp: np.ndarray, sc: np.ndarray | None,
                image_ids: list[int] | None = None) -> dict:
    fi = int(video.frame_index[i])
    rec: dict[str, Any] = {
        "id": int(video.annotation_ids[i]),
        "track_id": int(video.track_id[i]),
        "image_id": image_ids[fi] if image_ids is not None else int(video.frames[fi].image_id),
        "category_id": 1,
        "is_crowd": 0,
        "keypoints": numbers(kp[i]),
        "num_keypoints": int((kp[i, :, 2] > 0).sum()),
        "bbox": numbers(video.boxes[i]),
    }
    add_scores(rec, kp[i], None if sc is None else sc[i])
    return rec


def _build(video: Video, path: Path, kp: np.ndarray, sc: np.ndarray | None, absolute: bool = False) -> dict:
    root = default_image_root(path)
    ids = [int(f.image_id) for f in video.frames]
    if len(set(ids)) != len(ids) or not all(a < b for a, b in zip(ids, ids[1:])):
        ids = list(range(1, len(ids) + 1))  # the reader orders frames by id
    images = [{"id": ids[pos], "width": int(f.width), "height": int(f.height),
               "file_name": written_file_name(f.path, root, f"image_stitched/{video.name}/{pos:06d}.jpg", absolute)}
              for pos, f in enumerate(video.frames)]
    category = {"id": 1, "name": "person", "keypoints": list(RELEASE_NAMES),
                "skeleton": [[a, b] for a, b in JRDB.skeleton]}
    return {
        "info": {"description": "JRDB-Pose"},
        "categories": [category],
        "images": images,
        "annotations": [_annotation(video, i, kp, sc, ids) for i in range(video.num_samples)],
    }
