"""FastPose (AlphaPose) as an estimator backend: the network (:mod:`.model`) and the reader of AlphaPose /
VATL4Pose state dicts (:mod:`.published`).

:data:`EMBEDDED_CHECKPOINT`: ``fastpose_cpu_small`` pretrained on the synthetic source domain (float16; how it
was made: docs/domain_gap.md); ``vatl run --checkpoint`` takes it like any checkpoint.
"""

from pathlib import Path

from vatl.estimator.fastpose.model import (
    FASTPOSE_PRESETS,
    MODEL_TYPE,
    FastPoseConfig,
    FastPoseModel,
    build_fastpose,
    fastpose_config,
)
from vatl.estimator.fastpose.published import fastpose_from_state_dict, is_fastpose_layout

EMBEDDED_CHECKPOINT = Path(__file__).resolve().parents[2] / "assets" / "fastpose_cpu_small.pt"

__all__ = ["EMBEDDED_CHECKPOINT", "FASTPOSE_PRESETS", "MODEL_TYPE", "FastPoseConfig", "FastPoseModel", "build_fastpose",
           "fastpose_config", "fastpose_from_state_dict", "is_fastpose_layout"]
