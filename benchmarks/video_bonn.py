"""From a raw video to poses on the real Bonn video: detection, tracking, zero-shot pose AP and the whole ATL
loop from an mp4, next to the same with the ground-truth boxes.

The Bonn frames (../shared/data/bonn_posetrack, 41 frames 960×540, 4 people) are encoded to an H.264 mp4
in the work folder (never committed); everything else reads that mp4 like a user's clip.

1. detection (person boxes vs. the ground-truth boxes, IoU >= 0.5, one-to-one per frame): recall and
   precision of the detector's boxes per frame for the whole frame alone, with tiles, with tiles and
   re-detection from the previous frame's pose (the default), and of the tracked samples (gap filling);
2. tracking: MOTA, IDF1 and ID switches (``trackers.eval``: TrackEval's CLEAR and identity metrics; box
   IoU, a match needs IoU >= 0.5), ByteTrack and SORT, with and without gap filling;
3. zero-shot pose AP@0.6 of BlazePose with the detected boxes (COCO style: every detection is a
   prediction, false positives count) and with the ground-truth boxes;
4. the loop (Random, Core-Set, THC+WPU+DUW; default schedule, E_c capped at --max-epochs): from the mp4
   with a simulated annotator that answers a detected sample with the ground-truth pose it matches and
   rejects unmatched detections, evaluated against the ground truth each cycle (labels counted correct,
   rejected detections removed); and on the ground-truth boxes (the annotation JSON, simulated oracle).
   Runs are made one after another with one torch thread and resume from their folders.

Needs the cached BlazePose files (`vatl blazepose fetch`) and `trackers` (make setup installs both).
Writes benchmarks/results/video_bonn.json and prints the tables of docs/results/video_bonn.md.
Usage: PYTHONPATH=. python benchmarks/video_bonn.py [--work runs/video_bonn] [--max-epochs 5] [--skip-loop]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vatl.atl.config import ATLConfig
from vatl.atl.oracle import SimulatedOracle
from vatl.atl.session import ATLSession
from vatl.data.annotations import Predictions
from vatl.data.formats import load_video, require_samples
from vatl.estimator.blazepose.detector import box_iou
from vatl.estimator.estimate import estimate
from vatl.fileio import write_json
from vatl.metrics import alc, evaluate_video
from vatl.video.detection import PersonBoxes
from vatl.video.evaluation import ClipEvaluator, MatchedOracle, detection_counts, match_boxes, match_detections, xyxy
from vatl.video.ingest import VideoOptions, build_video, default_clip_estimator, detect_clip, ingest, make_detector
from vatl.video.outputs import read_exported_poses
from vatl.video.reader import open_frames
from vatl.video.tracking import get_tracker, track_clip
from vatl.video.writer import encode_frames

ROOT = Path(__file__).resolve().parents[1]
VIDEO = ROOT / ".." / "shared" / "data" / "bonn_posetrack" / "posetrack_data" / "val" / "060470979.json"
OUT = ROOT / "benchmarks" / "results" / "video_bonn.json"
CRITERIA = ("random", "coreset", "thc+wpu+duw")
DETECTOR_VARIANTS = {
    "whole frame": {"grids": (1,), "redetect": False},
    "whole frame + 2×2 + 3×3 tiles": {"grids": (1, 2, 3), "redetect": False},
    "tiles + re-detection from the previous pose (default)": {},
}


def frame_counts(truth, per_frame_boxes) -> dict[str, Any]:
    """Detection counts of boxes per frame (list of (M, 4) xywh) against the ground truth."""
    tp = fp = 0
    for f, boxes in enumerate(per_frame_boxes):
        g = truth.boxes[truth.frame_index == f]
        m = match_boxes(boxes, g)
        tp += int((m >= 0).sum())
        fp += int((m < 0).sum())
    counts = {"true_positives": tp, "false_positives": fp, "misses": truth.num_samples - tp}
    counts.update(recall=tp / truth.num_samples, precision=tp / max(tp + fp, 1))
    return counts


def mot_metrics(truth, video) -> dict[str, Any]:
    """MOTA, IDF1, ID switches of ``video``'s tracks against the ground-truth tracks: ``trackers.eval``
    (CLEAR and identity metrics as TrackEval defines them), box IoU, a match needs IoU >= 0.5."""
    from trackers.eval import compute_clear_metrics, compute_identity_metrics

    gt_ids, tr_ids, sims = [], [], []
    for f in range(len(truth.frames)):
        g, d = truth.frame_index == f, video.frame_index == f
        gt_ids.append(truth.track_id[g])
        tr_ids.append(video.track_id[d])
        sims.append(box_iou(xyxy(truth.boxes[g]), xyxy(video.boxes[d])))
    clear = compute_clear_metrics(gt_ids, tr_ids, sims, threshold=0.5)
    ident = compute_identity_metrics(gt_ids, tr_ids, sims, threshold=0.5)
    keys = ("MOTA", "MOTP", "IDSW", "CLR_TP", "CLR_FP", "CLR_FN", "MT", "PT", "ML", "Frag")
    return {**{k: float(clear[k]) for k in keys}, **{k: float(ident[k]) for k in ("IDF1", "IDR", "IDP")}}


def missed_people(clip, truth, matches: np.ndarray) -> list[dict[str, Any]]:
    """The ground-truth people no sample matches: frame, track and the best IoU any sample of the frame has."""
    found = set(matches[matches >= 0].tolist())
    out = []
    for g in sorted(set(range(truth.num_samples)) - found):
        f = int(truth.frame_index[g])
        d = clip.frame_index == f
        best = float(box_iou(xyxy(truth.boxes[g:g + 1]), xyxy(clip.boxes[d])).max()) if d.any() else 0.0
        out.append({"frame": f, "track": int(truth.track_id[g]), "best_iou": round(best, 3)})
    return out


def curve_alc(points: list[tuple[float, float]]) -> float | None:
    d = dict(points)
    return alc(list(d), list(d.values())) if 0.0 in d and 100.0 in d else None


def run_gt_loop(truth, criterion: str, folder: Path, max_epochs: int, seed: int) -> dict[str, Any]:
    model, _ = default_clip_estimator(truth.keypoint_set)
    config = ATLConfig(criterion=criterion, max_epochs=max_epochs, seed=seed)
    t0 = time.perf_counter()
    with ATLSession(truth, model, config, folder) as session:
        results = session.run(SimulatedOracle(truth))
    curve = list(zip(results["summary"]["curve_labeled_percent"], results["summary"]["curve_ap60"]))
    final = results["final"] or {}
    curve_ap = [(c["labeled_percent"], c["AP"]) for c in results["cycles"]] + \
        ([(final["labeled_percent"], final["AP"])] if final.get("AP") is not None else [])
    return {"curve": curve, "ALC": results["summary"]["ALC"], "curve_ap": curve_ap,
            "seconds_this_process": time.perf_counter() - t0,
            "seconds_recorded": sum(c.get("t_total") or 0 for c in results["cycles"])}


def run_clip_loop(clip, truth, criterion: str, folder: Path, max_epochs: int, seed: int) -> dict[str, Any]:
    """The loop on the detected video; per cycle the AP of M_c's predictions (labels so far counted correct,
    rejected detections out) is kept in ``folder/clip_eval.json`` (so a resumed run keeps its curve)."""
    model, _ = default_clip_estimator(clip.keypoint_set)
    config = ATLConfig(criterion=criterion, max_epochs=max_epochs, seed=seed)
    evaluator, oracle = ClipEvaluator(clip, truth), MatchedOracle(clip, truth)
    eval_file = folder / "clip_eval.json"
    cycles = json.loads(eval_file.read_text())["cycles"] if eval_file.is_file() else []
    t0 = time.perf_counter()
    with ATLSession(clip, model, config, folder) as session:
        while (q := session.query()) is not None:
            if q.cycle >= len(cycles):
                ev = evaluator.evaluate(q.keypoints, session.labels, session.rejected)
                cycles.append({"cycle": q.cycle, "labeled_percent": q.record.labeled_percent,
                               "num_labeled": len(session.labels), "num_rejected": len(session.rejected),
                               "ap60_raw": ev["raw"]["AP@0.6"], "ap60": ev["with_labels"]["AP@0.6"],
                               "ap_raw": ev["raw"]["AP"], "ap": ev["with_labels"]["AP"]})
                write_json(eval_file, {"cycles": cycles})
            session.update(oracle.answer(q.indices, q.keypoints[q.indices]))
        final = dict(session.state.final or {})
        rejected = sorted(session.rejected)
        results_cycles = session.results()["cycles"]
    kp, scores, present = read_exported_poses(folder / "poses_coco.json", clip)
    final_ap = evaluator.ap(kp, scores, np.flatnonzero(~present))
    curve = [(c["labeled_percent"], c["ap60"]) for c in cycles] + [(final["labeled_percent"], final_ap["AP@0.6"])]
    curve_ap = [(c["labeled_percent"], c["ap"]) for c in cycles] + [(final["labeled_percent"], final_ap["AP"])]
    answers = oracle.matches
    return {"cycles": cycles, "final": {"labeled_percent": final["labeled_percent"], "AP@0.6": final_ap["AP@0.6"],
                                        "AP": final_ap["AP"], "num_rejected": len(rejected),
                                        "rejected_false_detections": int((answers[rejected] < 0).sum())},
            "curve": curve, "ALC": curve_alc(curve), "curve_ap": curve_ap,
            "seconds_recorded": sum(c.get("t_total") or 0 for c in results_cycles),
            "seconds_this_process": time.perf_counter() - t0}


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}"


def markdown(report: dict[str, Any]) -> str:
    """The tables of docs/results/video_bonn.md from a report."""
    lines = ["| detector (boxes per frame, before tracking) | recall % | precision % | TP | FP | missed | s / frame |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for label, d in report["detection"].items():
        lines.append(f"| {label} | {_pct(d['recall'])} | {_pct(d['precision'])} | {d['true_positives']} | "
                     f"{d['false_positives']} | {d['misses']} | {d['seconds_per_frame']:.2f} |")
    lines += ["", "| tracker | samples | tracks | recall % | precision % | MOTA % | IDF1 % | ID switches | MT / PT / ML |",
              "|---|---:|---:|---:|---:|---:|---:|---:|---|"]
    for label, t in report["tracking"].items():
        m, d = t["mot"], t["detection"]
        lines.append(f"| {label} | {t['samples']} | {t['tracks']} | {_pct(d['recall'])} | {_pct(d['precision'])} | "
                     f"{_pct(m['MOTA'])} | {_pct(m['IDF1'])} | {int(m['IDSW'])} | "
                     f"{int(m['MT'])} / {int(m['PT'])} / {int(m['ML'])} |")
    z = report["zero_shot"]
    lines += ["", "| zero-shot BlazePose | AP@0.6 | AP (0.50:0.95) |", "|---|---:|---:|",
              f"| detected boxes (every detection a prediction) | {z['detected_boxes']['AP@0.6']:.1f} | "
              f"{z['detected_boxes']['AP']:.1f} |",
              f"| ground-truth boxes | {z['ground_truth_boxes']['AP@0.6']:.1f} | {z['ground_truth_boxes']['AP']:.1f} |"]
    loop = report.get("loop")
    if loop:
        runs = loop["runs"]
        for key, what in (("curve", "AP@0.6"), ("curve_ap", "AP (0.50:0.95)")):
            lines += ["", f"{what} with labels counted correct, per cycle (labeled %: of the samples that are people):",
                      "", "| criterion | boxes | " + " | ".join(f"c{i}" for i in range(10)) + " |",
                      "|---|---|" + "---:|" * 10]
            for name, r in runs.items():
                kind, criterion = name.split("/")
                cells = [f"{a:.1f} ({p:.0f} %)" for p, a in r.get(key, [])]
                lines.append(f"| {criterion} | {'detected' if kind == 'detected' else 'ground truth'} | "
                             + " | ".join(cells + [""] * (10 - len(cells))) + " |")
        lines += ["", "| criterion | ALC, detected boxes | ALC, ground-truth boxes | rejected (all false detections?) |",
                  "|---|---:|---:|---|"]
        for criterion in CRITERIA:
            d, g = runs.get(f"detected/{criterion}"), runs.get(f"gt/{criterion}")
            rej = "—" if d is None else f"{d['final']['num_rejected']} ({d['final']['rejected_false_detections']} false)"
            alc_d = "—" if d is None or d["ALC"] is None else f"{d['ALC']:.2f}"
            alc_g = "—" if g is None or g["ALC"] is None else f"{g['ALC']:.2f}"
            lines.append(f"| {criterion} | {alc_d} | {alc_g} | {rej} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, default=ROOT / "runs" / "video_bonn")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--max-epochs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--skip-loop", action="store_true")
    ap.add_argument("--tables", action="store_true", help="print the tables of the saved report and exit")
    args = ap.parse_args()
    if args.tables:
        print(markdown(json.loads(OUT.read_text())))
        return
    torch.set_num_threads(args.threads)
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    truth = require_samples(load_video(VIDEO))
    report: dict[str, Any] = {"video": str(VIDEO.resolve()), "frames": len(truth.frames), "people": truth.num_tracks,
                              "instances": truth.num_samples, "threads": args.threads,
                              "machine": platform.processor() or platform.machine(),
                              "uptime_start": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()}

    clip_path = work / "bonn.mp4"
    t = time.perf_counter()
    encode_frames((f.load() for f in truth.frames), clip_path, fps=25, crf=18)
    report["encode_seconds"] = time.perf_counter() - t
    source = open_frames(clip_path)
    report["clip"] = {"frames": source.num_frames, "size": [source.width, source.height], "fps": source.fps,
                      "keyframes": int(len(source._keyframes)), "bytes": clip_path.stat().st_size}

    # 1. detection variants (boxes per frame) and the tracked samples
    detection: dict[str, Any] = {}
    raw_default = None
    for label, det_options in DETECTOR_VARIANTS.items():
        detector = make_detector(VideoOptions(detector_options=det_options))
        t = time.perf_counter()
        boxes, _ = detect_clip(source, detector)
        seconds = time.perf_counter() - t
        detection[label] = {**frame_counts(truth, [b.boxes for b in boxes]), "seconds": seconds,
                            "seconds_per_frame": seconds / source.num_frames}
        if not det_options:
            raw_default = [PersonBoxes.from_dict(b.to_dict()) for b in boxes]  # rounded as `vatl run` keeps them
        print(f"detection · {label}: {detection[label]}", flush=True)
    report["detection"] = detection

    # 2. tracking (ByteTrack, SORT) on the default detections; the samples with gap filling
    tracking: dict[str, Any] = {}
    options = VideoOptions()
    for name in ("bytetrack", "sort"):
        for gap in (0, 10):  # 0: the default (gap filling off)
            t = time.perf_counter()
            tracks = track_clip(raw_default, get_tracker(name, frame_rate=source.fps), max_gap=gap)
            seconds = time.perf_counter() - t
            video = build_video(source, tracks, options)
            matches = match_detections(video, truth)
            tracking[f"{name}, gap fill {gap}"] = {"samples": video.num_samples, "tracks": video.num_tracks,
                                                   "seconds": seconds,
                                                   "untracked": tracks.untracked, **tracks.notes,
                                                   "detection": detection_counts(matches, truth.num_samples).to_dict(),
                                                   "mot": mot_metrics(truth, video)}
            print(f"tracking · {name} gap {gap}: {tracking[f'{name}, gap fill {gap}']}", flush=True)
    report["tracking"] = tracking

    # the clip's video as `vatl run` makes it (default options; cached in the work folder)
    clip = ingest(clip_path, options, cache_dir=work / "ingest_default")
    matches = match_detections(clip, truth)
    report["samples"] = {"detected": clip.num_samples, "tracks": clip.num_tracks,
                         **detection_counts(matches, truth.num_samples).to_dict(),
                         "missed": missed_people(clip, truth, matches)}

    # 3. zero-shot pose AP
    model, about = default_clip_estimator(truth.keypoint_set)
    t = time.perf_counter()
    kp_clip = estimate(model, clip, batch_size=16).keypoints
    t_clip = time.perf_counter() - t
    kp_gt = estimate(model, truth, batch_size=16).keypoints
    zs_clip = ClipEvaluator(clip, truth).evaluate(kp_clip)["raw"]
    zs_gt = evaluate_video(truth, Predictions.from_keypoints(kp_gt))["raw"]
    report["zero_shot"] = {"estimator": about, "detected_boxes": {"AP@0.6": zs_clip["AP@0.6"], "AP": zs_clip["AP"]},
                           "ground_truth_boxes": {"AP@0.6": zs_gt["AP@0.6"], "AP": zs_gt["AP"]},
                           "estimate_seconds_detected": t_clip}
    print(f"zero-shot: {report['zero_shot']}", flush=True)

    # 4. the loop
    if not args.skip_loop:
        loops: dict[str, Any] = {"max_epochs": args.max_epochs, "seed": args.seed, "runs": {}}
        for criterion in CRITERIA:
            loops["runs"][f"detected/{criterion}"] = run_clip_loop(clip, truth, criterion, work / f"clip_{criterion}",
                                                                    args.max_epochs, args.seed)
            print(f"loop detected {criterion}: ALC {loops['runs'][f'detected/{criterion}']['ALC']}", flush=True)
            loops["runs"][f"gt/{criterion}"] = run_gt_loop(truth, criterion, work / f"gt_{criterion}",
                                                           args.max_epochs, args.seed)
            print(f"loop gt {criterion}: ALC {loops['runs'][f'gt/{criterion}']['ALC']}", flush=True)
        report["loop"] = loops
    report["uptime_end"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    report["pid"] = os.getpid()
    write_json(OUT, report)
    print(markdown(report))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
