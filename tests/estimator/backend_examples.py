"""One small example model per estimator backend, for the template test (test_backend_template.py).

Adding a backend (vatl.estimator.backends): add a factory to :data:`EXAMPLES` under the backend's name,
returning a small, seeded model of that backend that runs in well under a second on a CPU.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from estimator_testdata import TINY_SET

from vatl.estimator.contract import PoseEstimator
from vatl.estimator.models import build_model, model_config
from vatl.skeletons import POSETRACK21

BLAZEPOSE_TESTS = Path(__file__).resolve().parent / "blazepose"


def simplebaseline_example() -> PoseEstimator:
    """The CPU preset at a 64×96 input (16×24 heatmaps; sides are multiples of the trunk's stride 32) for
    a 3-slot keypoint set."""
    return build_model(model_config("cpu_small", input_size=(64, 96)), TINY_SET, seed=0)


def blazepose_example() -> PoseEstimator:
    """The tiny BlazePose-layout graph of the BlazePose tests (16×16 input, 8×8 heatmaps), for PoseTrack21."""
    if str(BLAZEPOSE_TESTS) not in sys.path:  # where pytest puts it when it collects those tests
        sys.path.insert(0, str(BLAZEPOSE_TESTS))
    from test_bp_model import tiny_blazepose

    from vatl.estimator.blazepose.model import build_from_graph

    return build_from_graph(tiny_blazepose(seed=0)[0], POSETRACK21)


def fastpose_example() -> PoseEstimator:
    """A narrow FastPose (SE trunk 8..64 channels, one block per stage, DUCs 16→32, 8→32) at a 64×96 input
    (16×24 heatmaps) for a 3-slot keypoint set."""
    from vatl.estimator.fastpose.model import build_fastpose, fastpose_config

    config = fastpose_config("fastpose_cpu_small", layers=(1, 1, 1, 1), widths=(8, 16, 32, 64), stem_channels=8,
                             duc_channels=(32, 32), input_size=(64, 96))
    return build_fastpose(config, TINY_SET, seed=0)


EXAMPLES: dict[str, Callable[[], PoseEstimator]] = {
    "simplebaseline": simplebaseline_example,
    "blazepose": blazepose_example,
    "fastpose": fastpose_example,
}
