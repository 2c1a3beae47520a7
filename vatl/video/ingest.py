"""A clip (video file or folder of frames) -> a :class:`~vatl.data.video.Video` whose samples are the
detected and tracked people: ``boxes`` and ``track_id`` from the detector and tracker, ``keypoints`` all
zero (no ground truth: a person or nobody annotates).

:func:`ingest` streams the frames once through the detector (frame order, one frame in memory), tracks the
boxes (:func:`vatl.video.tracking.track_clip`) and builds the video, whose frames decode from the clip on
demand (:class:`vatl.video.reader.VideoFile`). With ``cache_dir`` (a run folder) the detections and tracks
are kept there as JSON (``ingest/detections.json``, ``ingest/tracks.json``, each with the settings that
made it; boxes rounded to 0.001 pixel, and a fresh run uses the rounded values too, so that it sees the same
samples as its resumption), so a resumed run neither detects nor tracks again; a cache made with other settings or another
clip is refused (the run's labels refer to its samples).

:func:`load_input` is the one entry point of ``vatl run``: clips go through :func:`ingest`, annotation JSONs
through :func:`vatl.data.formats.load_video`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vatl.data.video import Frame, Video
from vatl.fileio import write_json
from vatl.skeletons import KeypointSet, get_keypoint_set
from vatl.video.detection import (
    DEFAULT_DETECTOR,
    PersonBoxes,
    PersonDetector,
    clip_boxes,
    detector_for_file,
    get_detector,
)
from vatl.video.reader import FrameSource, VideoFile, is_media, open_frames
from vatl.video.tracking import DEFAULT_TRACKER, Tracks, get_tracker, track_clip

if TYPE_CHECKING:
    from vatl.estimator.contract import PoseEstimator

log = logging.getLogger(__name__)

Progress = Callable[[str, Any], None]
INGEST_DIR = "ingest"
DETECTIONS_FILE = "detections.json"
TRACKS_FILE = "tracks.json"
KEYPOINT_SETS = ("posetrack21", "coco17")
COCO_FORMAT = "coco"
__all__ = ["VideoOptions", "default_clip_estimator", "ingest", "is_media", "load_input"]


@dataclass(frozen=True)
class VideoOptions:
    """How a clip becomes samples (plain data: :class:`~vatl.atl.runner.RunSpec` carries it as a dict).

    detector: a registered detector (:mod:`vatl.video.detection`); detections: a file of boxes from another
    detector (COCO detection results JSON or MOTChallenge det.txt) used instead; tracker: a registered
    tracker (:mod:`vatl.video.tracking`); keypoints: the keypoint set to estimate (posetrack21, coco17);
    max_gap: a track's missing frames filled by interpolation up to this many (0, the default: none; on the
    Bonn video the filled boxes missed the occluded person they were for, docs/results/video_bonn.md); overlay: write
    ``overlay.mp4`` with the poses at the end; detector_options / tracker_options: passed to their factories.
    """

    detector: str = DEFAULT_DETECTOR
    detections: str | None = None
    tracker: str = DEFAULT_TRACKER
    keypoints: str = "posetrack21"
    max_gap: int = 0
    overlay: bool = True
    detector_options: dict[str, Any] = field(default_factory=dict, hash=False)
    tracker_options: dict[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.keypoints not in KEYPOINT_SETS:
            raise ValueError(f"keypoint set {self.keypoints!r} for a clip: choose one of {', '.join(KEYPOINT_SETS)}")
        if int(self.max_gap) < 0:
            raise ValueError(f"max_gap must be >= 0, got {self.max_gap}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> VideoOptions:
        d = dict(d or {})
        unknown = sorted(set(d) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown video options {unknown}; known: {', '.join(f.name for f in fields(cls))}")
        return cls(**d)


def make_detector(options: VideoOptions) -> PersonDetector:
    """The detector ``options`` ask for: the detections file's reader when one is given."""
    if options.detections:
        return detector_for_file(options.detections, **options.detector_options)
    return get_detector(options.detector, **options.detector_options)


def load_input(path: str | os.PathLike, options: VideoOptions | Mapping[str, Any] | None = None,
               cache_dir: str | os.PathLike | None = None, progress: Progress | None = None,
               **format_options: Any) -> Video:
    """A clip through :func:`ingest`, anything else (an annotation JSON) through ``load_video(path,
    **format_options)``."""
    if is_media(path):
        opts = options if isinstance(options, VideoOptions) else VideoOptions.from_dict(options)
        return ingest(path, opts, cache_dir, progress)
    from vatl.data.formats import load_video

    return load_video(path, **format_options)


def ingest(path: str | os.PathLike, options: VideoOptions = VideoOptions(), cache_dir: str | os.PathLike | None = None,
           progress: Progress | None = None) -> Video:
    """The video of the clip at ``path`` (see the module docstring). ``progress(event, info)`` receives
    ``("ingest", {"step": "detect" | "track", "done": i, "total": n})``."""
    progress = progress or (lambda event, info: None)
    source = open_frames(path)
    detector = make_detector(options)
    detector.check_frames(source.num_frames)
    folder = None if cache_dir is None else Path(cache_dir) / INGEST_DIR
    det_key = {"clip": _clip_key(source), "detector": detector.name, "settings": _settings(detector)}
    detections = _cached(folder, DETECTIONS_FILE, det_key, lambda d: [PersonBoxes.from_dict(f) for f in d["frames"]])
    if detections is None:
        detections, dropped = detect_clip(source, detector, progress)
        detections = [PersonBoxes.from_dict(d.to_dict()) for d in detections]  # as the cache holds them (rounded)
        if folder is not None:
            write_json(folder / DETECTIONS_FILE, {"key": det_key, "dropped_outside_frame": dropped,
                                                  "frames": [d.to_dict() for d in detections]})
    tracker = get_tracker(options.tracker, frame_rate=source.fps, **options.tracker_options)
    track_key = {**det_key, "tracker": _settings(tracker), "max_gap": int(options.max_gap)}
    tracks = _cached(folder, TRACKS_FILE, track_key, lambda d: Tracks.from_dict(d["tracks"]))
    if tracks is None:
        progress("ingest", {"step": "track", "done": 0, "total": 1})
        tracks = Tracks.from_dict(track_clip(detections, tracker, max_gap=int(options.max_gap)).to_dict())
        progress("ingest", {"step": "track", "done": 1, "total": 1})
        if folder is not None:
            write_json(folder / TRACKS_FILE, {"key": track_key, "tracks": tracks.to_dict()})
    log.info("%s: %d frames, %d boxes detected, %d samples in %d tracks (%d untracked, %d interpolated)",
             path, source.num_frames, sum(len(d) for d in detections), len(tracks), len(np.unique(tracks.track_id)),
             tracks.untracked, int(tracks.interpolated.sum()))
    return build_video(source, tracks, options, detector.name)


def default_clip_estimator(keypoint_set: KeypointSet, device: str = "cpu") -> tuple[PoseEstimator, str]:
    """The estimator for a real clip when the user names no checkpoint: BlazePose GHUM full from the cached
    mediapipe wheel file (``vatl blazepose fetch``), converted for ``keypoint_set``; and a line saying so."""
    from vatl.estimator.blazepose.fetch import MEDIAPIPE_VERSION, require_model
    from vatl.estimator.blazepose.model import build_from_graph
    from vatl.estimator.blazepose.tflite_reader import read_tflite
    from vatl.estimator.device import resolve_device

    model = build_from_graph(read_tflite(require_model()), keypoint_set).to(resolve_device(device))
    return model, (f"BlazePose GHUM full (mediapipe {MEDIAPIPE_VERSION} wheel, converted by vatl) for "
                   f"{keypoint_set.name} keypoints")


def detect_clip(source: FrameSource, detector: PersonDetector, progress: Progress | None = None
                ) -> tuple[list[PersonBoxes], int]:
    """The detector over every frame in order (boxes clipped to the frame); also the number of boxes dropped
    for lying outside the frame."""
    progress = progress or (lambda event, info: None)
    detector.reset()
    out, dropped = [], 0
    n = source.num_frames
    for f in range(n):
        image = source.read(f) if detector.needs_pixels else None
        boxes, gone = clip_boxes(detector.detect(f, image), source.width, source.height)
        out.append(boxes)
        dropped += gone
        progress("ingest", {"step": "detect", "done": f + 1, "total": n})
    return out, dropped


def build_video(source: FrameSource, tracks: Tracks, options: VideoOptions, detector_name: str = "") -> Video:
    """The :class:`Video` of a clip's tracks: frames decode through ``source``; keypoints all zero."""
    ks = get_keypoint_set(options.keypoints)
    reader = source if isinstance(source, VideoFile) else None
    frames = [Frame(path=source.frame_path(i), image_id=i + 1, width=source.width, height=source.height,
                    is_labeled=True, reader=reader, position=i) for i in range(source.num_frames)]
    n = len(tracks)
    skipped = {k: v for k, v in {"untracked_detection": tracks.untracked}.items() if v}
    name = source.path.stem if source.path.is_file() else source.path.name
    return Video(name=name, keypoint_set=ks, frames=frames, frame_index=tracks.frame, track_id=tracks.track_id,
                 boxes=tracks.boxes, keypoints=np.zeros((n, ks.num_keypoints, 3)),
                 annotation_ids=np.arange(1, n + 1), skipped=skipped,
                 source={"format": COCO_FORMAT, "clip": str(source.path), "fps": source.fps,
                         "detector": detector_name, "tracker": options.tracker,
                         "detection_scores": tracks.scores.tolist(), "interpolated": tracks.interpolated.tolist()})


def _clip_key(source: FrameSource) -> dict[str, Any]:
    """What identifies a clip in a cache: its name, byte size (files), frame count and size."""
    p = source.path
    return {"name": p.name, "bytes": p.stat().st_size if p.is_file() else None, "frames": source.num_frames,
            "width": source.width, "height": source.height}


def _settings(obj: Any) -> Any:
    settings = getattr(obj, "settings", None)
    return json.loads(json.dumps(settings() if callable(settings) else {}, default=str))


def _cached(folder: Path | None, name: str, key: dict[str, Any], parse: Callable[[dict], Any]) -> Any:
    """The cached object in ``folder/name`` when it was made with ``key``; None when there is none; a
    ValueError when it was made with other settings (the run's labels refer to those samples)."""
    if folder is None or not (folder / name).is_file():
        return None
    path = folder / name
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        saved = data["key"]
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: corrupt ingest cache ({type(exc).__name__}: {exc}); remove the run folder to "
                         "start over") from None
    if saved != json.loads(json.dumps(key)):
        diff = sorted(k for k in set(saved) | set(key) if saved.get(k) != key.get(k))
        raise ValueError(f"{path} holds {name.split('.')[0]} of another clip or other settings ({', '.join(diff)}); "
                         "use another output folder, or the same clip and settings to resume")
    try:
        return parse(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path}: corrupt ingest cache ({type(exc).__name__}: {exc})") from None
