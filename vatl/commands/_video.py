"""Command-line parts for clips (video files, frame folders): the options of ``vatl run`` and the progress
bars of the long steps (detect, track, estimate, overlay)."""

from __future__ import annotations

import argparse
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from vatl.commands._args import nonnegative_int
from vatl.video.detection import DEFAULT_DETECTOR, FILE_DETECTORS, detector_names
from vatl.video.ingest import KEYPOINT_SETS, VideoOptions
from vatl.video.tracking import DEFAULT_TRACKER, tracker_names

STEPS = {"detect": "detecting people", "track": "tracking", "estimate": "estimating poses",
         "overlay": "writing overlay.mp4"}


def add_video_arguments(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("a clip (.mp4 / .avi / .mov or a folder of frames)")
    g.add_argument("--detector", choices=[d for d in detector_names() if d not in FILE_DETECTORS],
                   default=DEFAULT_DETECTOR, help="person detector (default %(default)s: BlazePose's, from the "
                                                  "mediapipe wheel, with tiling and re-detection)")
    g.add_argument("--detections", default=None, metavar="FILE",
                   help="boxes from another detector instead: COCO detection results JSON (image_id = frame index "
                        "from 0) or MOTChallenge det.txt (frames from 1)")
    g.add_argument("--tracker", choices=tracker_names(), default=DEFAULT_TRACKER, help="tracker (default %(default)s)")
    g.add_argument("--keypoints", choices=KEYPOINT_SETS, default="posetrack21",
                   help="keypoint set to estimate (default %(default)s)")
    g.add_argument("--track-gap", type=nonnegative_int, default=VideoOptions.max_gap,
                   help="fill a track's missing frames up to this many by interpolating its boxes (0: off; "
                        "default %(default)s)")
    g.add_argument("--no-overlay", action="store_true", help="do not write overlay.mp4 at the end")


def video_options(args: argparse.Namespace) -> VideoOptions:
    return VideoOptions(detector=args.detector, detections=args.detections, tracker=args.tracker,
                        keypoints=args.keypoints, max_gap=args.track_gap, overlay=not args.no_overlay)


class StepBars:
    """Rich progress bars for ``(event, {"step"?, "done", "total"})`` progress events; other events go to
    ``forward`` (e.g. a :class:`~vatl.commands._progress.CycleTable`). Use as a context manager."""

    def __init__(self, forward: Any = None) -> None:
        self.forward = forward
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), TimeRemainingColumn(), transient=False)
        self._tasks: dict[str, Any] = {}

    def __enter__(self) -> StepBars:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def on_event(self, event: str, info: Any) -> None:
        step = info.get("step", event) if isinstance(info, dict) else event
        if step in STEPS and isinstance(info, dict) and "done" in info:
            if step not in self._tasks:
                self._tasks[step] = self._progress.add_task(STEPS[step], total=info["total"])
            self._progress.update(self._tasks[step], completed=info["done"], total=info["total"])
        elif self.forward is not None:
            self.forward(event, info)
