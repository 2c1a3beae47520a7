"""vatl blazepose: fetch BlazePose GHUM full from the mediapipe wheel and convert it to a vatl checkpoint."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

HELP = "BlazePose (MediaPipe) as a vatl estimator: `fetch` the model from PyPI, `convert` it to a checkpoint"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    fetch = sub.add_parser("fetch", help="download the mediapipe wheel (pip download) and cache its TFLite models "
                                         "(the pose landmark model and the person detector)")
    fetch.add_argument("--force", action="store_true", help="fetch again even if cached")
    fetch.add_argument("--wheel", type=Path, default=None, help="use this local mediapipe wheel instead of downloading")
    conv = sub.add_parser("convert", help="convert the cached model to a vatl checkpoint (fetches it if needed)")
    conv.add_argument("--out", type=Path, required=True, help="checkpoint file to write (e.g. blazepose_pt21.pt)")
    conv.add_argument("--keypoints", default="posetrack21",
                      help="target keypoint set: posetrack21, coco17 or jrdb (default: posetrack21)")
    conv.add_argument("--tflite", type=Path, default=None, help="convert this TFLite file instead of the cached one")
    conv.add_argument("--no-fetch", action="store_true", help="fail instead of downloading when not cached")


def run(args: argparse.Namespace) -> int:
    from vatl.estimator.blazepose.fetch import FetchError, fetch_model, fetch_models, require_model

    try:
        if args.action == "fetch":
            path, detector = fetch_models(force=args.force, wheel=args.wheel)
            print(f"BlazePose model cached at {path} ({path.stat().st_size / 1e6:.1f} MB)")
            print(f"BlazePose person detector cached at {detector} ({detector.stat().st_size / 1e6:.1f} MB)")
            return 0
        path = args.tflite or (require_model() if args.no_fetch else fetch_model())
    except (FetchError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from vatl.estimator.blazepose.model import build_from_graph
    from vatl.estimator.blazepose.tflite_reader import read_tflite
    from vatl.estimator.checkpoint import save_checkpoint
    from vatl.skeletons import get_keypoint_set

    keypoint_set = get_keypoint_set(args.keypoints)
    model = build_from_graph(read_tflite(path), keypoint_set)
    record = dict(model.record, command="vatl " + " ".join(shlex.quote(a) for a in sys.argv[1:]),
                  tflite=str(path))
    out = save_checkpoint(args.out, model, training=record)
    n = sum(p.numel() for p in model.parameters())
    print(f"wrote {out}: BlazePose GHUM full -> {keypoint_set.name} ({keypoint_set.num_keypoints} slots), "
          f"{n / 1e6:.2f} M parameters, input {model.input_size[0]}×{model.input_size[1]}, "
          f"heatmaps {model.heatmap_size[0]}×{model.heatmap_size[1]}")
    return 0
