"""What a run on a clip leaves for its user: the poses as files and an overlay video to look at.

* ``poses_coco.json`` (COCO keypoints with ``track_id``: every person instance with its pose, labels where
  a person labeled, predictions elsewhere; written by the session at the end of the run, or by
  :func:`write_zero_shot` when nobody annotates) and ``poses_posetrack21.json`` (the same in the
  PoseTrack21 layout, for the PoseTrack21 keypoint set);
* ``overlay.mp4``: every frame with each person's box, skeleton and track id; instances a person labeled
  are marked "labeled" (thick white box), instances the annotator rejected are not drawn;
* ``query_cycle_XX/sample_<i>.jpg``: for a person answering query files, each queried sample's frame
  region with its box and current prediction drawn (a video's frames have no image files to open).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vatl.data.annotations import Predictions
from vatl.data.video import Video
from vatl.fileio import write_atomic
from vatl.video.writer import Mp4Writer

log = logging.getLogger(__name__)

Progress = Callable[[str, Any], None]
COCO_POSES = "poses_coco.json"
POSETRACK_POSES = "poses_posetrack21.json"
OVERLAY = "overlay.mp4"
MIN_JOINT_CONFIDENCE = 0.2  # joints drawn when their confidence (heatmap maximum) reaches this


def track_colour(track: int) -> tuple[int, int, int]:
    """A distinct RGB colour per track id (golden-ratio hues)."""
    import colorsys

    r, g, b = colorsys.hsv_to_rgb((track * 0.618034) % 1.0, 0.85, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


def draw_poses(image: np.ndarray, video: Video, samples: np.ndarray, keypoints: np.ndarray,
               labeled: np.ndarray) -> np.ndarray:
    """``image`` (H, W, 3) uint8 RGB with the given samples drawn: box, skeleton and joints of keypoints
    (N, K, 3) (rows by sample index), track id; ``labeled`` (N,) bool samples get a thick white box and a
    "labeled" tag."""
    import cv2

    out = np.ascontiguousarray(image.copy())
    scale = max(1.0, max(out.shape[:2]) / 640)
    thick, font = max(1, int(round(2 * scale))), 0.5 * scale
    edges = video.keypoint_set.skeleton
    for i in np.asarray(samples, dtype=np.int64):
        colour = track_colour(int(video.track_id[i]))
        x, y, w, h = video.boxes[i]
        p0, p1 = (int(round(x)), int(round(y))), (int(round(x + w)), int(round(y + h)))
        if labeled[i]:
            cv2.rectangle(out, p0, p1, (255, 255, 255), 3 * thick)
        cv2.rectangle(out, p0, p1, colour, thick)
        kp = keypoints[i]
        ok = (kp[:, 2] >= MIN_JOINT_CONFIDENCE) & np.isfinite(kp[:, :2]).all(axis=1)
        pts = np.round(kp[:, :2]).astype(int) if ok.any() else np.zeros((len(kp), 2), dtype=int)
        for a, b in edges:
            if ok[a] and ok[b]:
                cv2.line(out, tuple(pts[a]), tuple(pts[b]), colour, thick, cv2.LINE_AA)
        for j in np.flatnonzero(ok):
            cv2.circle(out, tuple(pts[j]), thick + 1, (255, 255, 255), -1, cv2.LINE_AA)
        tag = f"id {int(video.track_id[i])}" + (" labeled" if labeled[i] else "")
        (tw, th), _ = cv2.getTextSize(tag, cv2.FONT_HERSHEY_SIMPLEX, font, thick)
        origin = (int(np.clip(p0[0], 0, max(out.shape[1] - tw, 0))), int(max(p0[1] - 4, th + 2)))
        cv2.putText(out, tag, origin, cv2.FONT_HERSHEY_SIMPLEX, font, colour, thick, cv2.LINE_AA)
    return out


def write_overlay(video: Video, keypoints: np.ndarray, path: Path, shown: np.ndarray | None = None,
                  labeled: np.ndarray | None = None, fps: float | None = None,
                  progress: Progress | None = None) -> Path:
    """Every frame of ``video`` with the ``shown`` samples (default all) drawn, as an mp4 at ``path``.
    Frames are decoded in order, one at a time. ``progress`` gets ``("overlay", {"done", "total"})``."""
    n = video.num_samples
    shown = np.ones(n, dtype=bool) if shown is None else np.asarray(shown, dtype=bool)
    labeled = np.zeros(n, dtype=bool) if labeled is None else np.asarray(labeled, dtype=bool)
    by_frame: dict[int, list[int]] = {}
    for i in np.flatnonzero(shown):
        by_frame.setdefault(int(video.frame_index[i]), []).append(int(i))
    total = len(video.frames)
    with Mp4Writer(path, fps or video.source.get("fps") or 25.0) as writer:
        for f, frame in enumerate(video.frames):
            samples = np.asarray(by_frame.get(f, []), dtype=np.int64)
            writer.write(draw_poses(frame.load(), video, samples, keypoints, labeled))
            if progress is not None:
                progress("overlay", {"done": f + 1, "total": total})
    log.info("wrote %s (%d frames)", path, total)
    return Path(path)


def read_exported_poses(path: Path, video: Video) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The poses of a ``poses_coco.json`` written for ``video``: keypoints (N, K, 3), scores (N,) and
    present (N,) bool (rejected samples are not in the file), matched by annotation id."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        records = {int(r["id"]): r for r in doc["annotations"]}
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: not the poses file of this run ({type(exc).__name__}: {exc})") from None
    n, k = video.num_samples, video.keypoint_set.num_keypoints
    keypoints, scores, present = np.zeros((n, k, 3)), np.zeros(n), np.zeros(n, dtype=bool)
    for i, aid in enumerate(video.annotation_ids.tolist()):
        rec = records.get(aid)
        if rec is None:
            continue
        keypoints[i] = np.asarray(rec["keypoints"], dtype=np.float64).reshape(k, 3)  # x, y, confidence
        scores[i] = float(rec.get("score", 0.0))
        present[i] = True
    return keypoints, scores, present


def write_clip_outputs(video: Video, run_dir: Path, labeled: np.ndarray | None = None, overlay: bool = True,
                       progress: Progress | None = None) -> list[Path]:
    """After a finished run on a clip: ``poses_posetrack21.json`` (PoseTrack21 set) from the run's
    ``poses_coco.json``, and ``overlay.mp4``. Returns the files written (the COCO file first)."""
    from vatl.data.formats import save_video

    run_dir = Path(run_dir)
    coco = run_dir / COCO_POSES
    keypoints, scores, present = read_exported_poses(coco, video)
    written = [coco]
    keep = np.flatnonzero(present)
    if video.keypoint_set.name == "posetrack21" and len(keep):
        written.append(save_video(video.subset(keep), run_dir / POSETRACK_POSES, keypoints=keypoints[keep],
                                  scores=scores[keep], format="posetrack21"))
    if overlay:
        written.append(write_overlay(video, keypoints, run_dir / OVERLAY, shown=present, labeled=labeled,
                                     progress=progress))
    return written


def write_zero_shot(video: Video, model: Any, run_dir: Path, overlay: bool = True, batch_size: int = 32,
                    progress: Progress | None = None) -> list[Path]:
    """Nobody annotates: one estimator pass over every sample, then the poses files and the overlay.
    ``progress`` gets ``("estimate", {"done", "total"})`` per batch."""
    from vatl.data.formats import save_video
    from vatl.estimator.estimate import estimate

    class _Count:
        done = 0

        def consume(self, batch: Any) -> None:
            self.done += len(batch.indices)
            if progress is not None:
                progress("estimate", {"done": self.done, "total": video.num_samples})

    run_dir = Path(run_dir)
    kp = estimate(model, video, [_Count()], batch_size=batch_size).keypoints
    predictions = Predictions.from_keypoints(kp)
    save_video(video, run_dir / COCO_POSES, keypoints=kp, scores=predictions.scores, format="coco")
    return write_clip_outputs(video, run_dir, overlay=overlay, progress=progress)


def write_query_images(video: Video, indices: np.ndarray, predictions: np.ndarray, folder: Path,
                       context: float = 1.5) -> list[Path]:
    """For each queried sample, ``folder/sample_<i>.jpg``: its frame region (the box grown by ``context``)
    with the box and the current prediction drawn. Frames are decoded in increasing order."""
    import cv2

    folder = Path(folder)
    indices = np.asarray(indices, dtype=np.int64)
    kp = np.zeros((video.num_samples,) + predictions.shape[1:])
    kp[indices] = predictions
    written = []
    for i in indices[np.argsort(video.frame_index[indices], kind="stable")]:
        image = video.frames[int(video.frame_index[i])].load()
        drawn = draw_poses(image, video, np.array([i]), kp, np.zeros(video.num_samples, dtype=bool))
        x, y, w, h = video.boxes[i]
        cx, cy, half = x + w / 2, y + h / 2, max(w, h) * context / 2
        x0, y0 = int(max(cx - half, 0)), int(max(cy - half, 0))
        x1, y1 = int(min(cx + half, image.shape[1])), int(min(cy + half, image.shape[0]))
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(drawn[y0:y1, x0:x1], cv2.COLOR_RGB2BGR))
        if not ok:
            raise OSError(f"cannot encode the image of sample {i}")
        written.append(write_atomic(folder / f"sample_{int(i)}.jpg", data.tobytes()))
    return written
