"""CVAT's "COCO Keypoints 1.0": written for import into a task, its export read back as answers.

CVAT imports and exports skeletons as COCO keypoints with the track in each annotation's custom
``attributes`` (``track_id``; CVAT's documentation of the format: "Tracks: supported (via the track_id
custom attribute)"); its export archive holds ``annotations/person_keypoints_<subset>.json`` beside
``images/<subset>/``. Written (:func:`write_cvat`; every image needs a known size)::

    {"info": {...}, "licenses": [], "categories": [{"id": 1, "name": <skeleton label>, "supercategory": "",
      "keypoints": [names], "skeleton": [[a, b], ...] (1-based)}],
     "images": [{"id", "file_name" (the task's image name: the path under the image root), "width", "height"}],
     "annotations": [{"id", "image_id", "category_id": 1, "bbox", "area", "iscrowd": 0, "segmentation": [],
      "keypoints": [x, y, v, ...], "num_keypoints", "attributes": {"track_id", "occluded": false,
      "keyframe": true}}]}

v is COCO's: 0 not labeled, 1 labeled but occluded, 2 visible (predicted joints are written as v = 2,
unpredictable ones as 0). Read back (:func:`read_cvat_answers`): each annotation is matched to a sample by
(image ``file_name``, ``track_id``); keypoints are taken by name from the category (CVAT may order them
otherwise) and keep the v the annotator gave; a skeleton with no point labeled returns its sample to the
pool. An annotation that matches no queried sample, a second skeleton for the same (image, track), a
field of the wrong type, or a file without a keypoint category, is an error naming the record; the answers then go through the session's
validation (:func:`vatl.atl.answers.check_answers`). A full CVAT export of the clip can also be read as a
video with :func:`vatl.data.formats.coco.read_coco` (its layout is recognised).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from vatl.data.formats._files import load_json
from vatl.data.formats._records import parse_numbers, record_error, require_int, require_list
from vatl.data.formats._tools import SampleMatcher, frame_size
from vatl.data.formats._tools import image_name as _relative_image_name
from vatl.data.formats._writing import num, numbers
from vatl.data.video import Video
from vatl.fileio import write_json


def _image_name(video: Video, frame: int, image_root: str | os.PathLike | None) -> str:
    """The frame's path under the image root; its file name when it lies outside (CVAT's task was then
    made from the images' folder); ``000123.jpg`` for a frame without an image file."""
    rel = _relative_image_name(video, frame, image_root)
    return rel if rel is not None else Path(str(video.frames[frame].path)).name


def write_cvat(video: Video, path: str | os.PathLike, indices: Iterable[int] | None = None,
               keypoints: np.ndarray | None = None, image_root: str | os.PathLike | None = None,
               label: str | None = None) -> Path:
    """A COCO Keypoints 1.0 file for CVAT with the samples ``indices`` (default: all).

    keypoints: (N, K, 3) poses (default: the video's): a third value in {0, 1, 2} is kept as v, any other
    (a prediction's confidence) becomes v = 2 where > 0. image_root: what image names are relative to (the
    folder the CVAT task was made from; default: the video's image root). label: the skeleton's label name
    in the CVAT task (default: the keypoint set's name).
    """
    kp = video.keypoints if keypoints is None else np.asarray(keypoints, dtype=np.float64)
    idx = np.arange(video.num_samples) if indices is None else np.asarray(list(indices), dtype=np.int64)
    ks = video.keypoint_set
    frames = sorted({int(video.frame_index[i]) for i in idx.tolist()})
    images = []
    for pos, frame in enumerate(frames, start=1):
        w, h = frame_size(video, frame, "CVAT's image records")
        images.append({"id": pos, "file_name": _image_name(video, frame, image_root), "width": int(w),
                       "height": int(h), "license": 0, "flickr_url": "", "coco_url": "", "date_captured": 0})
    image_id = {frame: pos for pos, frame in enumerate(frames, start=1)}
    annotations = []
    for n, i in enumerate(idx.tolist(), start=1):
        pose = kp[i].copy()
        v = pose[:, 2]
        if not np.isin(v, (0.0, 1.0, 2.0)).all():  # confidences: a point is shown where one was predicted
            pose[:, 2] = np.where(v > 0, 2.0, 0.0)
        pose[pose[:, 2] == 0, :2] = 0.0
        box = video.boxes[i]
        annotations.append({"id": n, "image_id": image_id[int(video.frame_index[i])], "category_id": 1,
                            "segmentation": [], "area": num(box[2] * box[3]), "bbox": numbers(box), "iscrowd": 0,
                            "attributes": {"track_id": int(video.track_id[i]), "occluded": False, "keyframe": True},
                            "keypoints": numbers(pose), "num_keypoints": int((pose[:, 2] > 0).sum())})
    doc = {"licenses": [{"name": "", "id": 0, "url": ""}],
           "info": {"contributor": "", "date_created": "", "description": f"vatl: {video.name}", "url": "",
                    "version": "", "year": "", "video": video.name},
           "categories": [{"id": 1, "name": label or ks.name, "supercategory": "", "keypoints": list(ks.keypoints),
                           "skeleton": [[a + 1, b + 1] for a, b in ks.skeleton]}],
           "images": images, "annotations": annotations}
    return write_json(path, doc, indent=None)


def read_cvat_answers(path: str | os.PathLike, video: Video, image_root: str | os.PathLike | None = None
                      ) -> dict[int, Any]:
    """Answers ``{sample: (K, 3) label}`` from CVAT's COCO Keypoints 1.0 export (or any COCO keypoints file
    with ``track_id``): annotations matched to samples by image name and track id (see the module
    docstring)."""
    p = Path(path)
    data = load_json(p)
    images = require_list(p, data, "images")
    annotations = require_list(p, data, "annotations")
    cat_slots: dict[int, list[int | None]] = {}
    ks = video.keypoint_set
    for n, c in enumerate(require_list(p, data, "categories")):
        if c.get("keypoints") is None:
            continue  # a category without keypoints (e.g. boxes)
        names = c["keypoints"]
        if not isinstance(names, list) or not all(isinstance(x, str) for x in names):
            raise record_error(p, "categories", n, c, "keypoints", "expected a list of keypoint names")
        order = [ks.keypoints.index(x) if x in ks.keypoints else None for x in names]
        if not any(o is not None for o in order):
            raise ValueError(f"{p}: category {c.get('name')!r} names none of the keypoints of {ks.name!r}")
        cat_slots[require_int(p, "categories", n, c, "id")] = order
    if not cat_slots:
        raise ValueError(f"{p}: no category with 'keypoints' (not a COCO Keypoints export)")
    names_of = {require_int(p, "images", i, im, "id"): str(im.get("file_name", "")) for i, im in enumerate(images)}
    matcher = SampleMatcher(video, image_root)
    answered: dict[int, int] = {}  # sample -> the annotation that answered it
    answers: dict[int, Any] = {}
    for n, rec in enumerate(annotations):
        order = cat_slots.get(require_int(p, "annotations", n, rec, "category_id"))
        if order is None:
            continue  # another category (e.g. boxes)
        attributes = rec.get("attributes") if isinstance(rec.get("attributes"), dict) else {}
        field = "track_id" if "track_id" in rec else "attributes.track_id"
        raw = rec["track_id"] if "track_id" in rec else attributes.get("track_id")
        if raw is None:
            raise record_error(p, "annotations", n, rec, field,
                               "missing: every person needs its track id (CVAT's track_id attribute)")
        track = require_int(p, "annotations", n, {"id": rec.get("id"), field: raw}, field)
        name = names_of.get(require_int(p, "annotations", n, rec, "image_id"))
        if name is None:
            raise record_error(p, "annotations", n, rec, "image_id", f"image id {rec.get('image_id')!r} is not in 'images'")
        sample = matcher.find(name, track)
        if sample is None:
            raise record_error(p, "annotations", n, rec, "image_id/track_id",
                               f"no sample of video {video.name!r} on image {name!r} with track {track}")
        if sample in answered:
            raise record_error(p, "annotations", n, rec, "image_id/track_id",
                               f"a second skeleton on image {name!r} with track {track} (the first is "
                               f"annotations[{answered[sample]}]); keep one per person")
        answered[sample] = n
        if rec.get("keypoints") is None:
            raise record_error(p, "annotations", n, rec, "keypoints",
                               f"missing (expected {3 * len(order)} numbers: x, y, v for {len(order)} keypoints)")
        values = parse_numbers(p, "annotations", n, rec, "keypoints", 3 * len(order),
                               f"x, y, v for {len(order)} keypoints").reshape(-1, 3)
        label = np.zeros((ks.num_keypoints, 3))
        for src, dst in enumerate(order):
            if dst is not None:
                label[dst] = values[src]
        label[label[:, 2] == 0, :2] = 0.0
        if (label[:, 2] > 0).any():  # a skeleton with every point outside: not answered, back to the pool
            answers[sample] = label
    return answers

