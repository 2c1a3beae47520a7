"""The estimator on CUDA: the pass and fine-tuning on a GPU, mixed precision (``amp``), and the clear errors
where there is no GPU.

Tests marked ``gpu`` need a CUDA device and are skipped without one; the others run everywhere.
Tolerances (stated, as the GPU runs convolutions in TF32 by default and ``amp`` in float16):

* CUDA float32 against the CPU pass: heatmaps within 1e-2 (absolute, peaks are about 1), features within
  1 % (relative norm of the difference);
* ``amp`` against CUDA float32: heatmaps within 5e-2;
* keypoints of both, decoded in heatmap space for the joints whose CPU / float32 peak is >= 0.5: at least
  99 % within 0.5 heatmap px (a flipped quarter-pixel step) and none beyond 1.5 px (the neighbour of a
  flat peak).
"""

import numpy as np
import pytest
import torch
from estimator_testdata import TINY_SET, tiny_video

from vatl.cli import build_parser, main
from vatl.data.formats import load_video
from vatl.estimator.checkpoint import default_checkpoint_path, load_checkpoint
from vatl.estimator.dataset import NO_AUGMENTATION, CropCache, training_batch
from vatl.estimator.device import check_amp, mixed_precision, resolve_device
from vatl.estimator.estimate import estimate
from vatl.estimator.heatmaps import decode_heatmaps
from vatl.estimator.models import build_model
from vatl.estimator.train import Finetuner, TrainConfig

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (none on this machine)")
CONFIDENT = 0.5  # peak value from which a joint's keypoint is compared


class HeatmapRecorder:
    """A pass consumer keeping every batch's heatmaps, by sample: (N, K, h, w) once the pass is done."""

    def __init__(self, num_samples: int) -> None:
        self.num_samples = num_samples
        self.heatmaps: np.ndarray | None = None

    def consume(self, batch) -> None:
        if self.heatmaps is None:
            self.heatmaps = np.zeros((self.num_samples, *batch.heatmaps.shape[1:]), dtype=np.float32)
        self.heatmaps[batch.indices] = batch.heatmaps


def run_pass(video, device: str, amp: bool = False):
    """(heatmaps (N, K, h, w), features (N, D)) of the embedded checkpoint's pass over ``video`` on ``device``."""
    model = load_checkpoint(default_checkpoint_path(), device=device)
    recorder = HeatmapRecorder(video.num_samples)
    result = estimate(model, video, [recorder], batch_size=16, amp=amp)
    return recorder.heatmaps, result.features


def assert_keypoints_close(reference: np.ndarray, other: np.ndarray) -> None:
    """Peaks of heatmaps ``other`` against ``reference`` (N, K, h, w), in heatmap px (see the module docstring)."""
    ref_xy, ref_peak = decode_heatmaps(reference)
    xy, _ = decode_heatmaps(other)
    confident = ref_peak >= CONFIDENT
    assert confident.sum() >= 100  # the trained checkpoint finds most joints of the synthetic video
    dist = np.abs(xy - ref_xy).max(axis=-1)[confident]
    assert (dist <= 0.5).mean() >= 0.99, f"only {(dist <= 0.5).mean():.1%} of the keypoints within 0.5 px"
    assert dist.max() <= 1.5, f"a keypoint moved {dist.max():.2f} heatmap px"


def test_cuda_without_a_gpu_is_a_clear_error_naming_the_option(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for name in ("cuda", "cuda:1", "CUDA"):
        with pytest.raises(ValueError, match=r"--device cuda(:1)?: CUDA is not available on this machine"):
            resolve_device(name)
    assert resolve_device("auto") == torch.device("cpu")  # auto falls back, cuda never does


MODEL_COMMANDS = ("run", "bench", "demo", "pretrain", "annotate", "import")  # the commands that run the estimator


def test_every_command_that_runs_the_estimator_takes_a_device():
    for name in MODEL_COMMANDS:
        sub = next(a for a in build_parser([name])._actions if a.dest == "command").choices[name]
        assert any("--device" in action.option_strings for action in sub._actions), name


def test_device_cuda_without_a_gpu_stops_each_command_with_one_line(monkeypatch, tmp_path, tiny_video_path, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for argv in (["run", str(tiny_video_path), "--out", str(tmp_path / "run")],
                 ["bench", "--data", str(tiny_video_path), "--out", str(tmp_path / "bench")],
                 ["demo", "--out", str(tmp_path / "demo")],
                 ["pretrain", str(tiny_video_path), "--out", str(tmp_path / "pretrain")],
                 ["import", str(tmp_path / "answers.json"), "--run", str(tmp_path / "run")]):
        assert main([*argv, "--device", "cuda"]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--device cuda: CUDA is not available on this machine" in err, err
    assert not any(tmp_path.iterdir())  # refused before any output folder was made


def test_amp_is_refused_off_cuda_before_any_work(tiny_video):
    model = load_checkpoint(default_checkpoint_path(), device="cpu")
    recorder = HeatmapRecorder(tiny_video.num_samples)
    with pytest.raises(ValueError, match="--amp: mixed precision runs on CUDA only, not on cpu"):
        estimate(model, tiny_video, [recorder], amp=True)
    assert recorder.heatmaps is None  # refused before the first batch
    with pytest.raises(ValueError, match="--amp"):
        Finetuner(model, amp=True)
    with pytest.raises(ValueError, match="--amp"):
        mixed_precision(True, torch.device("cpu"))
    check_amp(False, "cpu")  # off: nothing to refuse
    with mixed_precision(False, "cpu"):  # off: float32 as without it
        assert not torch.is_autocast_enabled()


@pytest.mark.gpu
@needs_cuda
def test_cuda_pass_matches_the_cpu_pass(tiny_video_path):
    video = load_video(tiny_video_path)
    cpu_heatmaps, cpu_features = run_pass(video, "cpu")
    gpu_heatmaps, gpu_features = run_pass(video, "cuda")
    assert gpu_heatmaps.dtype == np.float32 and gpu_features.dtype == np.float32
    assert np.abs(gpu_heatmaps - cpu_heatmaps).max() <= 1e-2
    assert np.linalg.norm(gpu_features - cpu_features) <= 1e-2 * np.linalg.norm(cpu_features)
    assert_keypoints_close(cpu_heatmaps, gpu_heatmaps)


@pytest.mark.gpu
@needs_cuda
def test_amp_pass_stays_within_half_a_heatmap_pixel_of_float32(tiny_video_path):
    video = load_video(tiny_video_path)
    fp32, _ = run_pass(video, "cuda")
    fp16, features = run_pass(video, "cuda", amp=True)
    assert fp16.dtype == np.float32 and features.dtype == np.float32  # outputs stay float32 under amp
    assert np.isfinite(fp16).all() and np.isfinite(features).all()
    assert np.abs(fp16 - fp32).max() <= 5e-2
    assert_keypoints_close(fp32, fp16)


@pytest.mark.gpu
@needs_cuda
@pytest.mark.parametrize("amp", [False, True], ids=["float32", "amp"])
def test_finetuning_on_cuda_lowers_the_loss(tmp_path, amp):
    video = tiny_video(tmp_path)
    torch.manual_seed(0)
    model = build_model("cpu_small", TINY_SET, seed=0).to("cuda")
    cache = CropCache.build(video, model.input_size)
    idx = np.arange(4)
    images, targets, weights = training_batch(cache, idx, video.keypoints[idx], TINY_SET.flip_index,
                                              model.heatmap_size, np.random.default_rng(0), NO_AUGMENTATION)
    before = model.final_layer.weight.detach().clone()
    ft = Finetuner(model, TrainConfig(augmentation=NO_AUGMENTATION), amp=amp)  # the published lr
    # a few steps: with amp the GradScaler may skip the first update(s) while it finds its scale
    losses = [ft.step(images, targets, weights) for _ in range(6)]
    assert all(np.isfinite(losses))
    assert losses[-1] < losses[0]
    assert not torch.equal(model.final_layer.weight, before)
    assert model.final_layer.weight.dtype == torch.float32 and model.device.type == "cuda"
    state = ft.state_dict()
    assert ("grad_scaler" in state) == amp
    resumed = Finetuner(model, TrainConfig(augmentation=NO_AUGMENTATION), amp=amp)
    resumed.load_state_dict(state)
    assert resumed.steps_done == 6
    if amp:
        assert resumed._scaler.get_scale() == ft._scaler.get_scale()


def test_amp_on_the_command_line_is_refused_off_cuda_with_one_line(tmp_path, tiny_video_path, capsys):
    for argv in (["run", str(tiny_video_path), "--out", str(tmp_path / "run")],
                 ["bench", "--data", str(tiny_video_path), "--out", str(tmp_path / "bench")]):
        assert main([*argv, "--amp"]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--amp: mixed precision runs on CUDA only, not on cpu" in err, err
    assert not any(tmp_path.iterdir())  # refused before any output folder was made


def test_amp_reaches_the_session_and_is_kept_for_the_resume(tmp_path, tiny_video_path):
    """A run spec's ``amp`` reaches the session (whose fine-tuner refuses it on the CPU before cycle 0) and
    inputs.json (the run folder reopens with it; a malformed value is named). The GPU test below runs it."""
    from dataclasses import replace

    from vatl.atl.runner import RunSpec, open_session, save_inputs, spec_from_run_folder

    spec = RunSpec(str(tiny_video_path), str(tmp_path / "run"), {"schedule": [50, 100]}, amp=True)
    with pytest.raises(ValueError, match="--amp: mixed precision runs on CUDA only"):
        open_session(spec)
    with open_session(replace(spec, amp=False)) as session:  # writes config.json and inputs.json
        assert session.amp is False and session.finetuner.amp is False
    save_inputs(spec)
    assert spec_from_run_folder(tmp_path / "run").amp is True
    inputs = tmp_path / "run" / "inputs.json"
    inputs.write_text(inputs.read_text().replace('"amp": true', '"amp": "yes"'))
    with pytest.raises(ValueError, match="field 'amp' must be true or false"):
        spec_from_run_folder(tmp_path / "run")


@pytest.mark.gpu
@needs_cuda
def test_a_run_on_cuda_with_amp_finishes(tmp_path, tiny_video_path):
    assert main(["run", str(tiny_video_path), "--out", str(tmp_path / "run"), "--device", "cuda", "--amp",
                 "--schedule", "50,100", "--max-epochs", "1"]) == 0
    from vatl.atl.runner import spec_from_run_folder

    assert spec_from_run_folder(tmp_path / "run").amp is True
