"""Generic COCO keypoints JSON with a track id per instance, as annotation tools export it.

- ``images``: ``id``, ``file_name``, optional ``width``/``height`` and a frame number ``frame_id`` or
  ``frame_index``. Frames are ordered by that number when every image has it, else by ``file_name``
  in natural order (``frame_2`` before ``frame_10``), else by ``id``.
- ``annotations``: ``id``, ``image_id``, ``category_id``, ``bbox`` (x, y, w, h), ``keypoints``
  (x, y, v × K) and the track id: ``track_id`` on the record, or ``attributes.track_id`` (CVAT's
  COCO export). A record without either is an error naming it (a video needs tracks); there is no
  silent fallback.
- ``categories``: the keypoint category (``keypoints`` names, ``skeleton`` 1-based as COCO says; a
  skeleton that uses index 0 is taken as 0-based; optional ``sigmas``). Names of a built-in set
  (PoseTrack21, COCO-17, JRDB-Pose) give that set; other names give a set built from the category
  (sigmas from the category, else :data:`vatl.skeletons.DEFAULT_SIGMA`).

Skipped and counted in ``Video.skipped``: ``other_category``, ``crowd`` (``iscrowd`` = 1),
``no_annotated_joint``, ``missing_box``, ``empty_box``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from vatl.data.formats._categories import builtin_set_for_names, category_dict, keypoint_set_from_category
from vatl.data.formats._files import (
    check_frames_exist,
    image_path,
    load_json,
    natural_key,
    video_name,
    written_file_name,
)
from vatl.data.formats._records import record_error, require_int, require_list
from vatl.data.formats._samples import SKIP_CROWD, SKIP_OTHER_CATEGORY, build_video, collect_samples, image_index_by_id
from vatl.data.formats._writing import add_scores, num, numbers, unique_image_ids, write_format
from vatl.data.video import Frame, Video
from vatl.skeletons import KeypointSet, get_keypoint_set

FORMAT = "coco"
_FRAME_FIELDS = ("frame_id", "frame_index")


def default_image_root(json_path: str | os.PathLike) -> Path:
    """The JSON's folder; for ``<root>/annotations/person_keypoints_<subset>.json`` (CVAT's export
    layout) ``<root>/images/<subset>`` when it exists, else ``<root>/images``."""
    p = Path(json_path).absolute()
    if p.parent.name == "annotations":
        images = p.parents[1] / "images"
        subset = p.stem[len("person_keypoints_"):] if p.stem.startswith("person_keypoints_") else ""
        return images / subset if subset and (images / subset).is_dir() else images
    return p.parent


def read_coco(json_path: str | os.PathLike, image_root: str | os.PathLike | None = None,
              keypoint_set: KeypointSet | str | None = None, category_id: int | None = None,
              derive_boxes: bool = False, box_padding: float = 0.1, check_images: bool = False) -> Video:
    """Read a COCO keypoints file holding one video.

    Args:
        image_root: folder ``file_name`` is relative to (default: :func:`default_image_root`).
        keypoint_set: use this set (or built-in name) instead of the one read from the category; it
            must have the category's number of keypoints.
        category_id: the keypoint category to read when the file has several.
        derive_boxes: derive a missing ``bbox`` from the labeled joints (else the instance is skipped).
        check_images: raise FileNotFoundError if a frame image is missing.
    """
    path = Path(json_path)
    return coco_from_dict(load_json(path), path, image_root, keypoint_set, category_id, derive_boxes,
                          box_padding, check_images)


def coco_from_dict(data: Mapping[str, Any], path: Path, image_root: str | os.PathLike | None = None,
                   keypoint_set: KeypointSet | str | None = None, category_id: int | None = None,
                   derive_boxes: bool = False, box_padding: float = 0.1, check_images: bool = False) -> Video:
    """:func:`read_coco` on an already parsed JSON object (``path`` names it in errors)."""
    path = Path(path)
    images = require_list(path, data, "images")
    annotations = require_list(path, data, "annotations")
    categories = require_list(path, data, "categories")
    cat_id, ks = _category(path, categories, annotations, category_id)
    if keypoint_set is not None:
        override = get_keypoint_set(keypoint_set) if isinstance(keypoint_set, str) else keypoint_set
        if override.num_keypoints != ks.num_keypoints:
            raise ValueError(f"{path}: keypoint set {override.name!r} has {override.num_keypoints} keypoints, "
                             f"the category id={cat_id} has {ks.num_keypoints}")
        ks = override
    root = Path(image_root) if image_root is not None else default_image_root(path)

    order = _frame_order(path, images)
    frame_of_image = image_index_by_id(path, images, order)
    frames = [_frame(path, i, images[i], root) for i in order]

    def accept(i: int, rec: Mapping[str, Any], frame: int) -> str | None:
        if rec.get("category_id", cat_id) != cat_id:
            return SKIP_OTHER_CATEGORY
        if rec.get("iscrowd", rec.get("is_crowd", 0)) == 1:
            return SKIP_CROWD
        return None

    samples = collect_samples(path, annotations, frame_of_image, frames, ks,
                              track_id_of=lambda i, rec: _track_id(path, i, rec), accept=accept,
                              derive_missing_box=derive_boxes, box_padding=box_padding)
    source = {"format": FORMAT, "path": str(path), "image_root": str(root), "json": data,
              "category_id": cat_id}
    video = build_video(video_name(path, data, frames), ks, frames, samples, source)
    if check_images:
        check_frames_exist(video, path)
    return video


def _category(path: Path, categories: list[dict], annotations: list[dict],
              category_id: int | None) -> tuple[int, KeypointSet]:
    with_kp = [(i, c) for i, c in enumerate(categories) if "keypoints" in c]
    if category_id is not None:
        match = [(i, c) for i, c in with_kp if c.get("id") == category_id]
        if not match:
            raise ValueError(f"{path}: no keypoint category with id={category_id} in 'categories' "
                             f"(keypoint categories: {[c.get('id') for _, c in with_kp]})")
        chosen = match[0]
    elif len(with_kp) == 1:
        chosen = with_kp[0]
    elif not with_kp:
        raise ValueError(f"{path}: no entry of 'categories' has a 'keypoints' field (not a keypoint file)")
    else:
        used = {rec.get("category_id") for rec in annotations}
        match = [(i, c) for i, c in with_kp if c.get("id") in used]
        if len(match) != 1:
            raise ValueError(f"{path}: several keypoint categories ({[c.get('id') for _, c in with_kp]}); "
                             f"choose one with category_id=")
        chosen = match[0]
    index, cat = chosen
    cid = require_int(path, "categories", index, cat, "id")
    return cid, keypoint_set_from_category(path, cat, index)


def _frame_order(path: Path, images: list[dict]) -> list[int]:
    for key in _FRAME_FIELDS:
        if images and all(key in im for im in images):
            numbers_ = [require_int(path, "images", i, im, key) for i, im in enumerate(images)]
            order = sorted(range(len(images)), key=lambda i: numbers_[i])
            for a, b in zip(order, order[1:]):
                if numbers_[a] == numbers_[b]:
                    raise record_error(path, "images", b, images[b], key,
                                       f"duplicate {key} {numbers_[b]} (also images[{a}])")
            return order
    if images and all(isinstance(im.get("file_name"), str) for im in images):
        return sorted(range(len(images)), key=lambda i: natural_key(images[i]["file_name"]))
    ids = [require_int(path, "images", i, im, "id") for i, im in enumerate(images)]
    return sorted(range(len(images)), key=lambda i: ids[i])


def _frame(path: Path, index: int, image: Mapping[str, Any], root: Path) -> Frame:
    file_name = image.get("file_name")
    size = {k: require_int(path, "images", index, image, k) if image.get(k) is not None else 0
            for k in ("width", "height")}
    return Frame(path=image_path(path, index, image, root, file_name) if isinstance(file_name, str) and file_name
                 else None,
                 image_id=require_int(path, "images", index, image, "id"),
                 width=size["width"], height=size["height"], is_labeled=True)


def _track_id(path: Path, index: int, rec: Mapping[str, Any]) -> int:
    if rec.get("track_id") is not None:
        return require_int(path, "annotations", index, rec, "track_id")
    attributes = rec.get("attributes")
    if isinstance(attributes, dict) and attributes.get("track_id") is not None:
        try:
            return require_int(path, "annotations", index, attributes, "track_id")
        except ValueError as e:
            raise record_error(path, "annotations", index, rec, "attributes.track_id", str(e).rsplit(": ", 1)[-1]) \
                from None
    raise record_error(path, "annotations", index, rec, "track_id",
                       "missing (also no 'attributes.track_id'); every person instance needs a track id "
                       "(export the annotation as tracks, e.g. CVAT's track_id attribute)")


def write_coco(video: Video, json_path: str | os.PathLike, keypoints: np.ndarray | None = None,
               scores: np.ndarray | None = None, keypoint_scores: np.ndarray | None = None,
               absolute_paths: bool = False) -> Path:
    """Write ``video`` as a COCO keypoints JSON with ``track_id`` (labels, or predictions with ``scores``).

    ``keypoints`` (N, K, 3) replaces the samples' keypoints; ``scores`` (N,) adds ``score`` and
    per-keypoint ``scores``. With the original COCO JSON in ``video.source`` every other field and
    record is kept (image ``file_name``s rewritten to resolve from where the file is written). Otherwise a
    file is built: images with ``frame_index`` (the frame order), ``file_name`` relative to the JSON's
    folder when the image lies inside it, else absolute (all absolute with ``absolute_paths``); per-keypoint
    ``scores`` are ``keypoint_scores`` (N, K) when given; annotations with ``area`` = w·h, ``iscrowd`` 0; the
    category with a 1-based skeleton (plus ``sigmas`` for a set that is not built in).
    """
    cat_id = int(video.source.get("category_id", 1))
    return write_format(video, json_path, FORMAT, keypoints, scores,
                        lambda i, kp, sc: _annotation(video, i, kp, sc, cat_id), _build,
                        keypoint_scores=keypoint_scores, image_root=default_image_root,
                        absolute_paths=absolute_paths)


def _annotation(video: Video, i: int, kp: np.ndarray, sc: np.ndarray | None, category_id: int = 1) -> dict:
    box = video.boxes[i]
    rec: dict[str, Any] = {
        "id": int(video.annotation_ids[i]),
        "image_id": int(video.frames[int(video.frame_index[i])].image_id),
        "category_id": category_id,
        "track_id": int(video.track_id[i]),
        "bbox": numbers(box),
        "area": num(box[2] * box[3]),
        "iscrowd": 0,
        "num_keypoints": int((kp[i, :, 2] > 0).sum()),
        "keypoints": numbers(kp[i]),
    }
    add_scores(rec, kp[i], None if sc is None else sc[i])
    return rec


def _build(video: Video, path: Path, kp: np.ndarray, sc: np.ndarray | None, absolute: bool = False) -> dict:
    root = default_image_root(path)
    ids = unique_image_ids(video, path)
    images = [{"id": ids[pos], "file_name": written_file_name(f.path, root, f"{video.name}/{pos:06d}.jpg", absolute),
               "width": int(f.width), "height": int(f.height), "frame_index": pos}
              for pos, f in enumerate(video.frames)]
    ks = video.keypoint_set
    return {
        "images": images,
        "annotations": [_annotation(video, i, kp, sc) for i in range(video.num_samples)],
        "categories": [category_dict(ks, one_based=True, with_sigmas=builtin_set_for_names(ks.keypoints) is None)],
    }
