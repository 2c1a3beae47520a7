"""Suite-wide settings and fixtures.

One torch thread: small test batches run faster without thread hand-offs, and a loaded CI machine does
not oversubscribe its cores. Fixtures: a tiny synthetic video and a small randomly initialised estimator
(for the loop's and the benchmark's tests).
"""

import pytest
import torch

from vatl.data.formats import load_video
from vatl.data.synthetic.generate import run_jobs, video_jobs
from vatl.estimator.checkpoint import save_checkpoint
from vatl.estimator.models import build_model
from vatl.skeletons import POSETRACK21

torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Commands run in-process (e.g. ``wpu-pretrain --threads 2``) set torch's thread count for the whole
    process; every test starts with one thread again (resume tests compare runs made with one)."""
    torch.set_num_threads(1)
    yield


@pytest.fixture(scope="session")
def tiny_video_path(tmp_path_factory):
    """8 frames of 4 synthetic people (30 samples), in the PoseTrack21 layout."""
    jobs = video_jobs(tmp_path_factory.mktemp("synth"), "source", videos=1, frames=8, width=192, height=144, seed=3)
    run_jobs(jobs, workers=1)
    return jobs[0].json_path


@pytest.fixture()
def tiny_video(tiny_video_path):
    return load_video(tiny_video_path)


@pytest.fixture(scope="session")
def random_checkpoint(tmp_path_factory):
    """The CPU model, randomly initialised (seed 0): the loop's logic does not need a trained one."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("ckpt") / "random.pt"
    save_checkpoint(path, build_model("cpu_small", POSETRACK21), training={"note": "random init for tests"})
    return path
