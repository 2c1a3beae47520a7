"""Zero-shot AP of pretrained models transferred to a user's own 15-joint skeleton, on real images.

The Bonn PoseTrack video (41 frames, 4 people) relabelled to a custom 15-joint set as a user would label
it: ``Neck`` (= head_bottom), ``Belly`` (on the trunk, 30 % of the way from the hips' midpoint to the neck),
``Face`` (the middle of head_bottom and head_top), ``LShoulder`` … ``RAnkle`` (OpenPose's spelling); the
skeleton's edges as in tests/skeleton_clips.py. Each model (the embedded default, BlazePose converted from
MediaPipe if cached) is transferred with `vatl.estimator.transfer` (no label used) and its zero-shot AP
measured

* on the *directly mapped* joints (Neck by synonym, the 12 limb joints by name; Belly/Face masked), and
* for reference, the source model on the same 13 joints in its own PoseTrack21 slots (the transfer must
  not change these numbers), and on all 15 joints (Belly/Face from the stated initial filters).

Sigmas: the custom set's own (COCO's by name; 0.025 for Neck, Belly, Face, which is also the sigma
PoseTrack's evaluation gives head_bottom), so the two direct-joint AP are comparable.
The AP@0.6 of all 15 joints with one sigma for every joint (0.025, 0.0625 — vatl's former default —
and COCO's loosest, 0.107) shows how a loose sigma inflates AP@θ.
Also writes the relabelled clip as a COCO keypoints JSON with track_id (``--write-clip``) for `vatl run`.

Usage: PYTHONPATH=. python benchmarks/transfer_bonn.py [--threads 1] [--write-clip runs/transfer_bonn/bonn15.json]
Writes benchmarks/results/transfer_bonn.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch

from vatl.data.annotations import Predictions
from vatl.data.formats import load_video, require_samples
from vatl.data.video import Video
from vatl.estimator.checkpoint import default_checkpoint_path, load_checkpoint
from vatl.estimator.estimate import estimate
from vatl.estimator.transfer import transfer_model
from vatl.fileio import write_json
from vatl.metrics.ap import keypoint_ap
from vatl.skeletons import KeypointSet, default_sigmas

ROOT = Path(__file__).resolve().parents[1]
BONN = ROOT / ".." / "shared" / "data" / "bonn_posetrack"
VIDEO = BONN / "posetrack_data" / "val" / "060470979.json"
OUT = ROOT / "benchmarks" / "results" / "transfer_bonn.json"
NAMES = ("Neck", "Belly", "Face", "LShoulder", "RShoulder", "LElbow", "RElbow", "LWrist", "RWrist",
         "LHip", "RHip", "LKnee", "RKnee", "LAnkle", "RAnkle")
EDGES = ((2, 0), (0, 3), (0, 4), (3, 5), (5, 7), (4, 6), (6, 8), (0, 1), (1, 9), (1, 10), (9, 11), (11, 13),
         (10, 12), (12, 14))
LIMBS = ("left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
         "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")


def custom_set() -> KeypointSet:
    sigmas, source = default_sigmas(NAMES)
    from vatl.skeletons import infer_angle_triples, infer_flip_pairs

    return KeypointSet("person15", NAMES, sigmas, flip_pairs=infer_flip_pairs(NAMES), skeleton=EDGES,
                       angle_triples=infer_angle_triples(NAMES), sigma_source=source)


def relabel(video: Video) -> Video:
    """The PoseTrack21 video in the custom set (see the module docstring); a derived joint is labeled when
    the joints it comes from are."""
    src = video.keypoint_set.keypoints
    gt = video.keypoints
    k = lambda name: gt[:, src.index(name)]  # noqa: E731
    out = np.zeros((video.num_samples, len(NAMES), 3))
    neck, top = k("head_bottom"), k("head_top")
    lhip, rhip = k("left_hip"), k("right_hip")
    out[:, 0] = neck
    mid_hip = (lhip[:, :2] + rhip[:, :2]) / 2
    belly_ok = (lhip[:, 2] > 0) & (rhip[:, 2] > 0) & (neck[:, 2] > 0)
    out[:, 1, :2] = np.where(belly_ok[:, None], mid_hip + 0.3 * (neck[:, :2] - mid_hip), 0.0)
    out[:, 1, 2] = np.where(belly_ok, 2.0, 0.0)
    face_ok = (neck[:, 2] > 0) & (top[:, 2] > 0)
    out[:, 2, :2] = np.where(face_ok[:, None], (neck[:, :2] + top[:, :2]) / 2, 0.0)
    out[:, 2, 2] = np.where(face_ok, 2.0, 0.0)
    for j, name in enumerate(LIMBS, start=3):
        out[:, j] = k(name)
    return Video(name="bonn15", keypoint_set=custom_set(), frames=video.frames, frame_index=video.frame_index,
                 track_id=video.track_id, boxes=video.boxes, keypoints=out, annotation_ids=video.annotation_ids,
                 source={"format": "coco", "path": str(VIDEO), "image_root": str(BONN.resolve())})


def ap_of(video: Video, keypoints: np.ndarray, joints: np.ndarray | None = None,
          sigmas: np.ndarray | None = None) -> dict[str, float]:
    gt = video.keypoints.copy()
    if joints is not None:
        gt[:, ~joints, 2] = 0
    keep = (gt[..., 2] > 0).any(axis=1)
    # instance scores (mean + 1.25 max of the joint confidences) from the evaluated joints only, so that the
    # transferred model and the source model on the same joints rank instances alike
    scores = Predictions.from_keypoints(keypoints if joints is None else keypoints[:, joints]).scores
    ap = keypoint_ap(gt[keep], video.boxes[keep], video.frame_index[keep], keypoints[keep], scores[keep],
                     video.keypoint_set.sigma_array if sigmas is None else sigmas, areas=video.oks_areas()[keep])
    return {key: round(float(ap[key]), 2) for key in ("AP", "AP@0.5", "AP@0.6", "AP@0.75")}


def measure(name: str, model, source: Video, custom: Video) -> dict:
    t0 = time.perf_counter()
    src_kp = estimate(model, source, batch_size=16).keypoints
    t_src = time.perf_counter() - t0
    transferred, plan = transfer_model(model, custom.keypoint_set)
    t0 = time.perf_counter()
    kp = estimate(transferred, custom, batch_size=16).keypoints
    t_tr = time.perf_counter() - t0
    direct = np.array(plan.direct)
    # the source model's predictions of the same joints, in the custom order (a check of the transfer)
    src_slots = [plan.sources[i][0] if d else 0 for i, d in enumerate(direct)]
    src_as_custom = src_kp[:, src_slots]
    return {
        "model": name, "plan": plan.to_dict(), "direct_joints": [n for n, d in zip(NAMES, direct) if d],
        "zero_shot_direct": ap_of(custom, kp, direct),
        "source_model_same_joints": ap_of(custom, src_as_custom, direct),
        "max_px_difference_direct_joints": float(np.abs(kp[:, direct, :2] - src_as_custom[:, direct, :2]).max()),
        "zero_shot_all_15": ap_of(custom, kp),
        "zero_shot_belly_face_only": ap_of(custom, kp, ~direct),
        # AP@θ depends on the sigmas: one loose sigma for every joint lets poor predictions count as correct
        "all_15_AP@0.6_by_sigma": {f"{s:g} for every joint": ap_of(custom, kp, sigmas=np.full(15, s))["AP@0.6"]
                                   for s in (0.025, 0.0625, 0.107)},
        "pass_seconds": {"source": round(t_src, 2), "transferred": round(t_tr, 2)},
    }


def write_clip(custom: Video, path: Path) -> Path:
    """The relabelled clip as a user's COCO keypoints JSON with track_id (file names relative to the Bonn
    root: read it with --image-root)."""
    images = [{"id": int(f.image_id), "file_name": Path(f.path).resolve().relative_to(BONN.resolve()).as_posix(),
               "width": int(f.width), "height": int(f.height), "frame_index": pos} for pos, f in enumerate(custom.frames)]
    annotations = [{"id": int(custom.annotation_ids[i]), "image_id": int(custom.frames[int(custom.frame_index[i])].image_id),
                    "category_id": 1, "track_id": int(custom.track_id[i]), "bbox": custom.boxes[i].round(3).tolist(),
                    "iscrowd": 0, "keypoints": custom.keypoints[i].round(3).ravel().tolist()}
                   for i in range(custom.num_samples)]
    doc = {"info": {"video": "bonn15", "description": "Bonn 060470979 relabelled to 15 joints (benchmarks/transfer_bonn.py)"},
           "images": images, "annotations": annotations,
           "categories": [{"id": 1, "name": "person", "keypoints": list(NAMES),
                           "skeleton": [[a + 1, b + 1] for a, b in EDGES]}]}
    return write_json(path, doc, indent=None)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--write-clip", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    source = require_samples(load_video(VIDEO))
    custom = relabel(source)
    results = [measure("embedded default (cpu_small, synthetic source domain)",
                       load_checkpoint(default_checkpoint_path()), source, custom)]
    try:
        from vatl.estimator.blazepose.fetch import require_model
        from vatl.estimator.blazepose.model import build_from_graph
        from vatl.estimator.blazepose.tflite_reader import read_tflite

        blaze = build_from_graph(read_tflite(require_model()), source.keypoint_set)
        results.append(measure("BlazePose GHUM full (converted, PoseTrack21 head)", blaze, source, custom))
    except Exception as exc:  # noqa: BLE001 - not cached / not readable: measured without it
        print(f"BlazePose skipped: {exc}")
    report = {"video": str(VIDEO.resolve()), "samples": custom.num_samples, "threads": args.threads,
              "machine": platform.processor() or platform.machine(), "sigmas": dict(zip(NAMES, custom.keypoint_set.sigmas)),
              "sigma_source": custom.keypoint_set.sigma_source, "results": results}
    write_json(OUT, report)
    if args.write_clip is not None:
        print(f"wrote {write_clip(custom, args.write_clip)}")
    print(json.dumps([{k: r[k] for k in ("model", "zero_shot_direct", "source_model_same_joints",
                                          "zero_shot_all_15", "max_px_difference_direct_joints")} for r in results],
                     indent=1))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
