"""BlazePose (converted from MediaPipe's TFLite) on the Bonn PoseTrack video: zero-shot accuracy, agreement
of the heatmaps with the graph's own regressed landmarks, and one fine-tuning round.

Needs the cached model (`vatl blazepose fetch`). Writes benchmarks/results/blazepose_bonn.json.
Usage: PYTHONPATH=. python benchmarks/blazepose_bonn.py [--threads 1] [--finetune-samples 16]
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
from vatl.estimator.blazepose.fetch import require_model
from vatl.estimator.blazepose.model import BLAZEPOSE_LANDMARKS, LANDMARKS_TENSOR, build_from_graph
from vatl.estimator.blazepose.tflite_reader import read_tflite
from vatl.estimator.crops import apply_affine
from vatl.estimator.dataset import NO_AUGMENTATION, CropCache, iter_input_batches, training_batch
from vatl.estimator.estimate import estimate
from vatl.estimator.train import Finetuner, masked_mse
from vatl.metrics.ap import keypoint_ap
from vatl.metrics.oks import box_areas, oks

ROOT = Path(__file__).resolve().parents[1]
VIDEO = ROOT / ".." / "shared" / "data" / "bonn_posetrack" / "posetrack_data" / "val" / "060470979.json"
OUT = ROOT / "benchmarks" / "results" / "blazepose_bonn.json"


def pckh(pred: np.ndarray, gt: np.ndarray, head: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """(K,) fraction of labeled joints within alpha · head size; pred, gt (N, K, 2|3), head (N,) (NaN: skip)."""
    lab = (gt[..., 2] > 0) & np.isfinite(head)[:, None]
    d = np.linalg.norm(pred[..., :2] - gt[..., :2], axis=-1)
    hit = (d <= alpha * head[:, None]) & lab
    return np.where(lab.sum(0) > 0, hit.sum(0) / np.maximum(lab.sum(0), 1), np.nan)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--finetune-samples", type=int, default=16)
    ap.add_argument("--finetune-epochs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    video = require_samples(load_video(VIDEO))
    ks = video.keypoint_set
    model = build_from_graph(read_tflite(require_model()), ks, extra_outputs={"landmarks": LANDMARKS_TENSOR})
    n, gt = video.num_samples, video.keypoints
    # Head size: PoseTrack's head_bottom–head_top segment (PCKh); NaN where either is unlabeled.
    hb, ht = ks.keypoints.index("head_bottom"), ks.keypoints.index("head_top")
    head = np.where((gt[:, hb, 2] > 0) & (gt[:, ht, 2] > 0), np.linalg.norm(gt[:, hb, :2] - gt[:, ht, :2], axis=1), np.nan)
    direct = np.array([name in BLAZEPOSE_LANDMARKS for name in ks.keypoints])
    labeled_direct = direct & (gt[..., 2] > 0).any(0)

    t0 = time.perf_counter()
    result = estimate(model, video, batch_size=16)
    t_pass = time.perf_counter() - t0
    kp = result.keypoints
    areas = box_areas(video.boxes)
    gt_direct = gt.copy()
    gt_direct[:, ~direct, 2] = 0
    scores = Predictions.from_keypoints(kp).scores
    ap_all = keypoint_ap(gt, video.boxes, video.frame_index, kp, scores, ks.sigma_array)
    ap_direct = keypoint_ap(gt_direct, video.boxes, video.frame_index, kp, scores, ks.sigma_array)
    pck = pckh(kp, gt, head)

    # Independent reference: the graph's regressed landmarks (39 × 5, input pixels) on the same crops.
    lm_img = np.zeros((n, 33, 2))
    model.eval()
    with torch.inference_mode():
        for batch in iter_input_batches(video, model.input_size, 16):
            lm = model.graph(model.prepare(batch.images))["landmarks"].numpy().reshape(-1, 39, 5)
            lm_img[batch.indices] = apply_affine(batch.image_affine(model.input_size), lm[:, :33, :2])
    src = np.array([BLAZEPOSE_LANDMARKS.index(name) if d else 0 for name, d in zip(ks.keypoints, direct)])
    lm_kp = np.concatenate([lm_img[:, src], np.ones((n, len(src), 1))], axis=2)
    agree = np.linalg.norm(kp[:, direct, :2] - lm_kp[:, direct, :2], axis=-1)  # (N, K_direct) image px
    agree_rel = agree / head[:, None]
    pck_lm = pckh(lm_kp, gt, head)
    oks_direct_hm = oks(kp, gt_direct, areas, ks.sigma_array)
    oks_direct_lm = oks(lm_kp, gt_direct, areas, ks.sigma_array)

    # Fine-tuning: one Finetuner round on a few labeled samples; loss on those samples before/after.
    rng = np.random.default_rng(args.seed)
    idx = np.sort(rng.choice(n, args.finetune_samples, replace=False))
    images, targets, weights = training_batch(CropCache.build(video, model.input_size, idx), np.arange(len(idx)),
                                              gt[idx], ks.flip_index, model.heatmap_size,
                                              np.random.default_rng(0), NO_AUGMENTATION)

    def loss_now() -> tuple[float, float]:
        model.eval()
        with torch.inference_mode():
            hm, _ = model(model.prepare(images))
            t, w = torch.from_numpy(targets), torch.from_numpy(weights)
            new = torch.zeros_like(w)
            new[:, ~torch.from_numpy(direct)] = 1
            return float(masked_mse(hm, t, w)), float(masked_mse(hm, t, w * new))

    before = loss_now()
    tuner = Finetuner(model)  # the model's finetune_config (lr 1e-5, ×10 for the transfer head)
    t0 = time.perf_counter()
    epoch_losses = tuner.train_epochs(video, idx, gt[idx], args.finetune_epochs, rng)
    t_train = time.perf_counter() - t0
    after = loss_now()
    result_ft = estimate(model, video, batch_size=16)
    rest = np.setdiff1d(np.arange(n), idx)
    pck_ft = pckh(result_ft.keypoints[rest], gt[rest], head[rest])
    pck_zs_rest = pckh(kp[rest], gt[rest], head[rest])

    names = list(ks.keypoints)
    report = {
        "video": str(VIDEO.resolve()), "samples": n, "threads": args.threads, "machine": platform.processor() or platform.machine(),
        "pass_seconds": round(t_pass, 2), "samples_per_second": round(n / t_pass, 2),
        "zero_shot": {
            "AP@0.6_all_slots": ap_all["AP@0.6"], "AP_all_slots": ap_all["AP"],
            "AP@0.6_direct_joints": ap_direct["AP@0.6"], "AP_direct_joints": ap_direct["AP"],
            "mean_OKS_direct_heatmap": float(np.nanmean(oks_direct_hm)),
            "mean_OKS_direct_landmarks": float(np.nanmean(oks_direct_lm)),
            "PCKh@0.5_heatmap": {k: (None if np.isnan(v) else round(float(v), 3)) for k, v in zip(names, pck)},
            "PCKh@0.5_landmarks": {k: (None if np.isnan(v) else round(float(v), 3)) for k, v, d in zip(names, pck_lm, direct) if d},
            "PCKh@0.5_mean_labeled_direct_heatmap": float(np.nanmean(pck[labeled_direct])),
            "PCKh@0.5_mean_labeled_direct_landmarks": float(np.nanmean(pck_lm[labeled_direct])),
        },
        "heatmap_vs_landmarks": {
            "median_px": float(np.median(agree)), "p90_px": float(np.percentile(agree, 90)),
            "median_fraction_of_head": float(np.nanmedian(agree_rel)),
            "within_0.5_head": float(np.mean(agree_rel[np.isfinite(agree_rel)] <= 0.5)),
        },
        "finetune": {
            "samples": [int(i) for i in idx], "epochs": args.finetune_epochs, "config": tuner.config.to_dict(), "seconds": round(t_train, 2),
            "epoch_losses": epoch_losses,
            "loss_before": before[0], "loss_after": after[0],
            "loss_new_slots_before": before[1], "loss_new_slots_after": after[1],
            "PCKh@0.5_unlabeled_samples_before": {k: (None if np.isnan(v) else round(float(v), 3)) for k, v in zip(names, pck_zs_rest)},
            "PCKh@0.5_unlabeled_samples_after": {k: (None if np.isnan(v) else round(float(v), 3)) for k, v in zip(names, pck_ft)},
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
