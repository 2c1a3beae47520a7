"""What each cycle saves for `vatl explain`, read back; that saving it changes nothing of the run."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
import torch

from vatl.atl.config import ATLConfig
from vatl.atl.oracle import SimulatedOracle
from vatl.atl.session import ATLSession
from vatl.criteria.confidence import LCScorer, MPEScorer
from vatl.criteria.temporal import THCScorer, TPCScorer
from vatl.data.formats import load_video
from vatl.data.synthetic.generate import run_jobs, video_jobs
from vatl.estimator.checkpoint import default_checkpoint_path, load_checkpoint
from vatl.estimator.crops import box_to_center_size, crop_affine
from vatl.estimator.estimate import estimate
from vatl.estimator.heatmaps import decode_heatmaps
from vatl.explain import record
from vatl.explain.crops import CROP_SIZE
from vatl.explain.record import cycle_path, load_cycle, save_cycle, saved_cycles


def _results(run):
    return json.loads((run / "results.json").read_text())


def test_every_cycle_saves_what_its_query_saw(finished_run):
    _, run = finished_run
    results = _results(run)
    labels = json.loads((run / "state.json").read_text())["labels"]
    assert saved_cycles(run) == [c["cycle"] for c in results["cycles"]]
    for rec in results["cycles"]:
        c = rec["cycle"]
        data = load_cycle(cycle_path(run, c))
        n = results["num_samples"]
        assert data.cycle == c and data.meta["criterion"] == "thc+wpu+duw"
        assert data.selected.tolist() == rec["selected"]
        before = sorted(int(i) for i, lab in labels.items() if lab["cycle"] < c)
        assert np.flatnonzero(data.labeled).tolist() == before and not data.rejected.any()
        assert data.keypoints.shape == (n, 17, 3) and data.features.shape == (n, 128)
        assert set(data.scores) == {"lc", "mpe", "thc", "tpc", "wpu"}
        assert all(np.isfinite(s).all() for s in data.scores.values())
        assert np.isfinite(data.true_oks).all() and (data.true_oks >= 0).all() and (data.true_oks <= 1).all()
        # crops of the first selected and of the extreme-THC samples and their neighbours; heatmaps of fewer
        strips = [*data.meta["high_thc"], *data.meta["low_thc"]]
        around = [int(j) for s in strips for j in (data.prev[s], data.next[s]) if j >= 0]
        assert set(data.selected[:24].tolist() + strips + around) == set(data.captured.tolist())
        assert set(data.selected[:8].tolist() + strips + around) == set(data.heatmap_samples.tolist())
        assert data.heatmaps.shape == (len(data.heatmap_samples), 17, 32, 24)
        assert all(data.crop(int(s)).shape == (CROP_SIZE[1], CROP_SIZE[0], 3) for s in data.captured)
        pool_thc = data.scores["thc"][data.pool & ((data.prev >= 0) | (data.next >= 0))]
        assert data.scores["thc"][data.meta["high_thc"][0]] == pool_thc.max()
        assert data.scores["thc"][data.meta["low_thc"][0]] == pool_thc.min()


def test_saved_scores_and_heatmaps_are_those_of_the_pass(finished_run):
    video_path, run = finished_run
    video = load_video(video_path)
    data = load_cycle(cycle_path(run, 0))  # cycle 0's model is the checkpoint itself
    model = load_checkpoint(default_checkpoint_path())
    scorers = [LCScorer(), MPEScorer(), THCScorer(), TPCScorer()]
    consumers = [c for s in scorers for c in s.pass_consumers(video)]
    result = estimate(model, video, consumers, batch_size=16)
    for consumer in consumers:
        np.testing.assert_allclose(data.scores[consumer.name], consumer.scores(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(data.keypoints, result.keypoints, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(data.features, result.features, rtol=2e-3, atol=2e-3)  # float16
    # the small forward's heatmaps decode to the pass's keypoints (in heatmap pixels)
    idx = data.heatmap_samples
    coords, maxvals = decode_heatmaps(data.heatmaps.astype(np.float32))
    centers, sizes = box_to_center_size(video.boxes[idx], 96 / 128)
    to_heatmap = crop_affine(centers, sizes, (24, 32))
    saved = np.einsum("nij,nkj->nki", to_heatmap[..., :2], data.keypoints[idx, :, :2]) + to_heatmap[:, None, :, 2]
    np.testing.assert_allclose(coords, saved, atol=0.51)  # float16 may tip a tie between two adjacent pixels
    assert (np.abs(coords - saved) < 0.01).mean() > 0.95
    np.testing.assert_allclose(maxvals, data.keypoints[idx, :, 2], atol=2e-3)


def _session_run(video, out, explain):
    config = ATLConfig(criterion="thc+wpu+duw", max_epochs=1, batch_size=16, schedule=(10, 30, 100))
    torch.manual_seed(0)
    with ATLSession(video, load_checkpoint(default_checkpoint_path()), config, out, explain=explain) as session:
        return session.run(SimulatedOracle(video))


def _without_times(obj):
    if isinstance(obj, dict):
        return {k: _without_times(v) for k, v in obj.items() if not k.startswith("t_")}
    if isinstance(obj, list):
        return [_without_times(v) for v in obj]
    return obj


def test_saving_explain_data_changes_no_selection_and_no_number(tiny_video, tmp_path):
    on = _session_run(tiny_video, tmp_path / "on", explain=True)
    off = _session_run(tiny_video, tmp_path / "off", explain=False)
    assert saved_cycles(tmp_path / "on") == [0, 1, 2] and not (tmp_path / "off" / "explain").exists()
    assert [c["selected"] for c in on["cycles"]] == [c["selected"] for c in off["cycles"]]
    assert _without_times(on) == _without_times(off)
    state = [json.loads((tmp_path / name / "state.json").read_text()) for name in ("on", "off")]
    assert _without_times(state[0]) == _without_times(state[1])


def test_a_cycle_whose_data_cannot_be_saved_is_logged_and_the_run_goes_on(tiny_video, tmp_path, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(record, "build_cycle", broken)
    with caplog.at_level(logging.WARNING, logger="vatl.explain.record"):
        results = _session_run(tiny_video, tmp_path / "run", explain=True)
    assert results["final"]["labeled_percent"] == 100.0
    assert "explain data of cycle 0 not saved (RuntimeError: disk on fire); the run goes on" in caplog.text
    assert saved_cycles(tmp_path / "run") == []


def test_a_resumed_query_keeps_the_file_of_the_same_selection(tiny_video, tmp_path):
    config = ATLConfig(criterion="thc", max_epochs=1, batch_size=16, schedule=(10, 100))
    with ATLSession(tiny_video, load_checkpoint(default_checkpoint_path()), config, tmp_path) as session:
        session.query()
    first = cycle_path(tmp_path, 0).stat().st_mtime_ns
    with ATLSession(tiny_video, load_checkpoint(default_checkpoint_path()), config, tmp_path) as session:
        session.query()  # the same pending selection: the file is not written again
    assert cycle_path(tmp_path, 0).stat().st_mtime_ns == first


def test_load_refuses_files_that_are_not_explain_data(finished_run, tmp_path):
    _, run = finished_run
    good = load_cycle(cycle_path(run, 1))
    bad = tmp_path / "cycle_01.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="cycle_01.npz: not readable explain data"):
        load_cycle(bad)
    with open(bad, "wb") as f:
        np.savez(f, meta=np.frombuffer(b"{}", dtype=np.uint8), keypoints=np.zeros((2, 17, 3)))
    with pytest.raises(ValueError, match="cycle_01.npz: explain data without field"):
        load_cycle(bad)
    with open(bad, "wb") as f:  # a pickled object array is data vatl never writes: refused, never unpickled
        np.savez(f, meta=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="not readable explain data"):
        load_cycle(bad)
    good.prev = good.prev[:-1]  # one sample short
    save_cycle(bad, good)
    with pytest.raises(ValueError, match="field 'prev' has shape"):
        load_cycle(bad)
    good = load_cycle(cycle_path(run, 1))
    good.selected = np.array([good.num_samples + 5])
    save_cycle(bad, good)
    with pytest.raises(ValueError, match="field 'selected' refers to samples outside"):
        load_cycle(bad)
    with pytest.raises(FileNotFoundError, match="no explain data"):
        load_cycle(tmp_path / "cycle_09.npz")


def test_a_rejected_sample_is_out_of_the_saved_pool(tmp_path):
    jobs = video_jobs(tmp_path / "data", "source", videos=1, frames=6, width=192, height=144, seed=5)
    run_jobs(jobs, workers=1)
    video = load_video(jobs[0].json_path)
    config = ATLConfig(criterion="thc", max_epochs=1, batch_size=16, schedule=(20, 100))
    with ATLSession(video, load_checkpoint(default_checkpoint_path()), config, tmp_path / "run") as session:
        first = session.query()
        session.update({int(first.indices[0]): "reject"})
        session.query()
    data = load_cycle(cycle_path(tmp_path / "run", 1))
    assert np.flatnonzero(data.rejected).tolist() == [int(first.indices[0])]
    assert not data.pool[first.indices[0]]
