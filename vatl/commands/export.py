"""vatl export: the current query or a poses file to an annotation tool (Label Studio, CVAT, SLEAP, DeepLabCut),
or a video to vatl's JSON formats.

A query's video is built as its run builds it (:func:`vatl.video.ingest.load_input` with the run's video
options and its ``ingest/`` cache: a clip is neither detected nor tracked again, no estimator is loaded).
The frames of a video file have no image files, which the tools show: the frames of the exported samples
are written as JPEGs (``000123.jpg``, the names answers are matched by) into ``<out stem>_frames/`` beside
``--out`` (DeepLabCut: into ``labeled-data/<video>/``, where its GUI looks for them).
"""

from __future__ import annotations

import argparse
import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from vatl.data.video import Video

HELP = "export a query (DIR/query_cycle_XX.json) or a poses/video file to labelstudio, cvat, slp, dlc, coco or posetrack21"
TARGETS = ("labelstudio", "cvat", "slp", "dlc", "coco", "posetrack21")
TOOLS = ("labelstudio", "cvat", "slp", "dlc")  # the targets that show the frames' images


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", type=Path,
                   help="a query file written by `vatl run --oracle person` (its run folder gives the video), or "
                        "any file vatl reads as a video (poses_*.json, an annotation JSON, .slp, CollectedData_*.csv)")
    p.add_argument("--to", required=True, choices=TARGETS, help="the tool or format to write")
    p.add_argument("--out", type=Path, required=True,
                   help="file to write (dlc: the project folder that gets labeled-data/<video>/)")
    p.add_argument("--video", type=Path, default=None,
                   help="the run's video file, for a query file whose folder does not record it")
    p.add_argument("--image-root", type=Path, default=None,
                   help="image root of the video file (as for vatl run); labelstudio/cvat: image names are given "
                        "relative to it (the folder the tool's project / task was made from)")
    p.add_argument("--frames-dir", type=Path, default=None,
                   help="for a SLEAP file whose video is a media file: where to extract its labeled frames")
    p.add_argument("--image-prefix", default=None,
                   help="labelstudio: what goes before each image path in data.image (default: Label Studio's "
                        "local files, /data/local-files/?d=)")
    p.add_argument("--absolute-paths", action="store_true", help="coco/posetrack21: write absolute image paths")


def _is_query_file(path: Path) -> bool:
    if path.suffix.lower() != ".json":
        return False
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and isinstance(doc.get("query"), list) and "answer_format" in doc


def _video_options(args: argparse.Namespace, image_root: str | Path | None) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if image_root is not None:
        options["image_root"] = image_root
    if args.frames_dir is not None:
        options["frames_dir"] = args.frames_dir
    return options


def load_query(path: Path, video_path: Path | None, image_root: Path | None, args: argparse.Namespace):
    """(video, sample indices, (N, K, 3) keypoints with the query's predictions in its rows). The video is
    built as the run built it (a clip from the run's ingest cache)."""
    from vatl.data.formats import require_samples
    from vatl.video.ingest import load_input

    doc = json.loads(path.read_text(encoding="utf-8"))
    root, options, cache = image_root, None, None
    if video_path is None:
        from vatl.atl.runner import spec_from_run_folder

        spec = spec_from_run_folder(path.parent)
        video_path = Path(spec.video_path)
        root = root if root is not None else spec.image_root
        options, cache = spec.video, spec.out_dir
    video = require_samples(load_input(video_path, options, cache, **_video_options(args, root)))
    if list(doc.get("keypoints", [])) != list(video.keypoint_set.keypoints):
        raise ValueError(f"{path}: its keypoints {doc.get('keypoints')} are not those of video {video_path}")
    keypoints = np.zeros_like(video.keypoints)
    indices = []
    for n, rec in enumerate(doc["query"]):
        i = rec.get("sample") if isinstance(rec, dict) else None
        if not isinstance(i, int) or not 0 <= i < video.num_samples:
            raise ValueError(f"{path}: query[{n}]: 'sample' must be a sample index of video {video.name!r}")
        pred = np.asarray(rec.get("prediction"), dtype=np.float64)
        if pred.shape != keypoints.shape[1:]:
            raise ValueError(f"{path}: query[{n}]: 'prediction' must be {keypoints.shape[1]} rows of [x, y, c]")
        keypoints[i] = pred
        indices.append(i)
    return video, np.asarray(indices, dtype=np.int64), keypoints


def frames_as_images(video: Video, indices: np.ndarray, folder: Path) -> tuple[Video, int]:
    """``video`` (a copy) whose frames of the samples ``indices`` that have no image file but decode from
    a video file are written to ``folder/000123.jpg`` and point there; also how many were written."""
    import cv2

    from vatl.data.formats._tools import frame_image_name
    from vatl.fileio import write_atomic

    frames = list(video.frames)
    written = 0
    for f in sorted({int(video.frame_index[i]) for i in np.asarray(indices).tolist()}):
        frame = frames[f]
        if frame.path is not None or frame.reader is None:
            continue
        ok, data = cv2.imencode(".jpg", cv2.cvtColor(frame.load(), cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 95])
        if not ok:
            raise OSError(f"cannot encode frame {f} of video {video.name!r}")
        out = write_atomic(Path(folder) / frame_image_name(f), data.tobytes())
        frames[f] = replace(frame, path=out, reader=None)
        written += 1
    if not written:
        return video, 0
    shown = copy.copy(video)
    shown.frames = frames
    return shown, written


def run(args: argparse.Namespace) -> int:
    from vatl.data.formats import load_video, require_samples, save_video

    query = _is_query_file(args.source)
    if query:
        video, indices, keypoints = load_query(args.source, args.video, args.image_root, args)
        predicted = np.ones(video.num_samples, dtype=bool)
    else:
        video = require_samples(load_video(args.source, **_video_options(args, args.image_root)))
        indices, keypoints = np.arange(video.num_samples), video.keypoints
        # rows whose third column is a visibility (0/1/2) are labels; others carry confidences (predictions)
        predicted = ~np.isin(keypoints[..., 2], (0.0, 1.0, 2.0)).all(axis=1)
    what = f"{len(indices)} {'queried ' if query else ''}samples of video {video.name!r}"
    if args.to in TOOLS:
        folder = args.out / "labeled-data" / video.name if args.to == "dlc" else \
            args.out.parent / f"{args.out.stem}_frames"
        video, written = frames_as_images(video, indices, folder)
        if written:
            what += f"; their {written} frames written as images to {folder}"
    if args.to == "labelstudio":
        from vatl.data.formats.labelstudio import LOCAL_FILES, write_labelstudio_tasks

        out = write_labelstudio_tasks(video, args.out, indices, keypoints, image_root=args.image_root,
                                      image_prefix=LOCAL_FILES if args.image_prefix is None else args.image_prefix)
        print(f"wrote {out} ({what}) and its labeling interface {out.with_suffix('.xml')}: import the tasks into a "
              "Label Studio project with that interface; export the project as JSON and `vatl import` it")
    elif args.to == "cvat":
        from vatl.data.formats.cvat import write_cvat

        out = write_cvat(video, args.out, indices, keypoints, image_root=args.image_root)
        print(f"wrote {out} ({what}): upload it to the CVAT task as \"COCO Keypoints 1.0\"; export the task in the "
              "same format and `vatl import` its annotations/person_keypoints_*.json")
    elif args.to == "slp":
        from vatl.data.formats.sleap import write_slp

        out = write_slp(video, args.out, indices, keypoints, predicted=predicted)
        print(f"wrote {out} ({what}; predictions as predicted instances): correct them in SLEAP, save, `vatl import`")
    elif args.to == "dlc":
        from vatl.data.formats.sleap import write_dlc

        out = write_dlc(video, args.out, indices, keypoints)
        print(f"wrote {out} ({what}) with copies of their frames: correct them in DeepLabCut's labeling GUI, save, "
              "`vatl import` the CollectedData file")
    else:
        if query:
            raise ValueError(f"--to {args.to} writes whole videos; export a query to a tool (labelstudio, cvat, slp, dlc)")
        out = save_video(video, args.out, format=args.to, absolute_paths=args.absolute_paths)
        print(f"wrote {out} ({what}, {args.to})")
    return 0
