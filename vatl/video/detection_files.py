"""Person boxes from another detector's output file, as detectors of the registry (``needs_pixels`` False).

- ``coco-results``: a COCO detection results JSON: a list of ``{"image_id", "category_id", "bbox":
  [x, y, w, h], "score"}``. ``image_id`` is the frame index (0-based; ``first_image_id=1`` for files that
  count from 1). An object with ``images`` and ``annotations`` (a COCO dataset file of detections) is read
  too: its images are the frames, ordered by ``frame_index``/``frame_id`` when every image has one, else by
  ``file_name`` in natural order, else by ``id``.
- ``mot``: a MOTChallenge ``det.txt`` (CSV, one box a line: ``frame, id, x, y, w, h, conf, ...``, frames
  counted from 1; the id column is ignored).

Only the person category is read (``category_id`` 1 unless told; records without a category count as
persons); with ``min_score`` boxes scoring below it are left out and counted in ``skipped`` (default: every
box is kept). Scores are clipped to [0, 1] for the tracker (MOT files may hold any detector's scale). A malformed record
(no finite box with w, h > 0, a frame outside the clip) is a ValueError naming the file and record.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from vatl.data.formats._files import natural_key
from vatl.video.detection import PersonBoxes


class _FileDetections:
    """Boxes per frame read from a file; ``detect(frame, None)`` returns frame ``frame``'s."""

    name = "file"
    needs_pixels = False

    def __init__(self, path: str | Path, min_score: float | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"{self.path}: no such detections file")
        self.min_score = None if min_score is None else float(min_score)
        self.skipped: Counter[str] = Counter()
        rows = self._read()  # (frame, x, y, w, h, score, where)
        self._by_frame: dict[int, list[tuple[float, ...]]] = {}
        for frame, x, y, w, h, score, where in rows:
            values = (x, y, w, h, score)
            if not all(math.isfinite(v) for v in values) or w <= 0 or h <= 0:
                raise ValueError(f"{self.path}: {where}: expected a finite box with w, h > 0 and a finite score, "
                                 f"got bbox {[x, y, w, h]}, score {score}")
            if frame < 0:
                raise ValueError(f"{self.path}: {where}: frame {frame} is before the clip's first frame")
            if self.min_score is not None and score < self.min_score:
                self.skipped["below_min_score"] += 1
                continue
            self._by_frame.setdefault(int(frame), []).append(values)

    def _read(self) -> list[tuple]:
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        stat = self.path.stat()
        return {"path": str(self.path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                "min_score": self.min_score}

    def reset(self) -> None:
        return None

    def check_frames(self, num_frames: int) -> None:
        outside = sorted(f for f in self._by_frame if f >= num_frames)
        if outside:
            raise ValueError(f"{self.path}: boxes for frame {outside[0]} (0-based) and {len(outside) - 1} more frames "
                             f"beyond the clip's {num_frames} frames (frames of another video?)")

    def detect(self, frame: int, image: np.ndarray | None) -> PersonBoxes:
        rows = self._by_frame.get(int(frame))
        if not rows:
            return PersonBoxes.empty()
        a = np.asarray(rows, dtype=np.float64)
        return PersonBoxes(a[:, :4], np.clip(a[:, 4], 0.0, 1.0))


def _number(path: Path, where: str, record: dict, key: str) -> float:
    value = record.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{path}: {where}: field {key!r} must be a number, got {value!r}")
    return float(value)


class CocoResultsDetections(_FileDetections):
    """Boxes from a COCO detection results JSON (see the module docstring)."""

    name = "coco-results"

    def __init__(self, path: str | Path, min_score: float | None = None, category_id: int = 1,
                 first_image_id: int = 0) -> None:
        self.category_id, self.first_image_id = int(category_id), int(first_image_id)
        super().__init__(path, min_score)

    def settings(self) -> dict[str, Any]:
        return {**super().settings(), "category_id": self.category_id, "first_image_id": self.first_image_id}

    def _read(self) -> list[tuple]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"{self.path}: not valid JSON ({exc})") from None
        if isinstance(data, list):
            records, frame_of = data, None
        elif isinstance(data, dict) and isinstance(data.get("annotations"), list) and isinstance(data.get("images"), list):
            records, frame_of = data["annotations"], _frames_of_images(self.path, data["images"])
        else:
            raise ValueError(f"{self.path}: expected a COCO detection results list, or an object with 'images' and "
                             "'annotations'")
        rows = []
        for i, rec in enumerate(records):
            where = f"record {i}"
            if not isinstance(rec, dict):
                raise ValueError(f"{self.path}: {where}: expected an object, got {type(rec).__name__}")
            if rec.get("category_id", self.category_id) != self.category_id:
                self.skipped["other_category"] += 1
                continue
            image_id = rec.get("image_id")
            if isinstance(image_id, bool) or not isinstance(image_id, int):
                raise ValueError(f"{self.path}: {where}: field 'image_id' must be an integer, got {image_id!r}")
            if frame_of is None:
                frame = image_id - self.first_image_id
            elif image_id in frame_of:
                frame = frame_of[image_id]
            else:
                raise ValueError(f"{self.path}: {where}: image_id {image_id} is not in 'images'")
            box = rec.get("bbox")
            if not isinstance(box, list) or len(box) != 4:
                raise ValueError(f"{self.path}: {where}: field 'bbox' must be [x, y, w, h], got {box!r}")
            x, y, w, h = (_number(self.path, where, {"bbox": v}, "bbox") for v in box)
            score = _number(self.path, where, rec, "score") if "score" in rec else 1.0
            rows.append((frame, x, y, w, h, score, where))
        return rows


def _frames_of_images(path: Path, images: list) -> dict[int, int]:
    """image id -> frame index for the ``images`` of a COCO file (see the module docstring)."""
    if not all(isinstance(im, dict) and isinstance(im.get("id"), int) for im in images):
        raise ValueError(f"{path}: every entry of 'images' needs an integer 'id'")
    for key in ("frame_index", "frame_id"):
        if images and all(isinstance(im.get(key), int) for im in images):
            order = sorted(range(len(images)), key=lambda i: images[i][key])
            break
    else:
        if images and all(isinstance(im.get("file_name"), str) for im in images):
            order = sorted(range(len(images)), key=lambda i: natural_key(images[i]["file_name"]))
        else:
            order = sorted(range(len(images)), key=lambda i: images[i]["id"])
    return {images[i]["id"]: pos for pos, i in enumerate(order)}


class MotDetections(_FileDetections):
    """Boxes from a MOTChallenge ``det.txt`` (see the module docstring)."""

    name = "mot"

    def _read(self) -> list[tuple]:
        rows = []
        for n, line in enumerate(self.path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.replace(" ", ",").split(",") if p.strip()]
            where = f"line {n}"
            if len(parts) < 6:
                raise ValueError(f"{self.path}: {where}: expected frame, id, x, y, w, h[, conf, ...], got {line!r}")
            try:
                values = [float(p) for p in parts[:7]]
            except ValueError:
                raise ValueError(f"{self.path}: {where}: not numbers: {line!r}") from None
            frame = values[0]
            if not frame.is_integer():
                raise ValueError(f"{self.path}: {where}: the frame {parts[0]!r} is not an integer")
            score = values[6] if len(values) > 6 else 1.0
            rows.append((int(frame) - 1, *values[2:6], score, where))
        return rows
