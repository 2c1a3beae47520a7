"""Evaluation: OKS (COCO's definition), COCO keypoint AP through pycocotools, and ALC."""

from vatl.metrics.alc import alc
from vatl.metrics.ap import AP_KEYS, OKS_THRESHOLDS, ap_key, evaluate_video, keypoint_ap
from vatl.metrics.oks import box_areas, correct_percent, oks, oks_video

__all__ = ["AP_KEYS", "OKS_THRESHOLDS", "alc", "ap_key", "box_areas", "correct_percent", "evaluate_video",
           "keypoint_ap", "oks", "oks_video"]
