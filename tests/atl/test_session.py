import json
import math
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from vatl.atl.config import ATLConfig
from vatl.atl.oracle import SilentOracle, SimulatedOracle
from vatl.atl.schedule import cumulative_targets
from vatl.atl.session import ATLSession
from vatl.data.formats import load_video
from vatl.estimator.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[2]
FAST = dict(max_epochs=2, batch_size=16)


def _session(video, checkpoint, out, **config):
    return ATLSession(video, load_checkpoint(checkpoint), ATLConfig(**{**FAST, **config}), out)


def _all_numbers(obj):
    if isinstance(obj, dict):
        for v in obj.values():
            yield from _all_numbers(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from _all_numbers(v)
    elif isinstance(obj, float):
        yield obj


def test_full_run_follows_the_schedule_and_records_every_cycle(tiny_video, random_checkpoint, tmp_path):
    session = _session(tiny_video, random_checkpoint, tmp_path / "run", criterion="random")
    results = session.run(SimulatedOracle(tiny_video))
    targets = cumulative_targets(tiny_video.num_samples, session.config.schedule)
    cycles = results["cycles"]
    assert [c["num_labeled_after"] for c in cycles] == targets.tolist()
    selected = [i for c in cycles for i in c["selected"]]
    assert sorted(selected) == list(range(tiny_video.num_samples))  # each sample once, all of them in the end
    assert cycles[0]["labeled_percent"] == 0.0 and cycles[0]["G"] is not None
    for c in cycles[:-1]:  # E_c = floor(alpha (1 - G_c)) capped at max_epochs = 2 (G < 0.99 for a random model)
        assert c["epochs_planned"] == min(2, int(250 * (1 - c["G"])))
    assert cycles[-1]["epochs"] == 0  # every sample labeled: nothing left to adapt to
    assert results["final"]["labeled_percent"] == 100.0 and results["final"]["AP@0.6"] == 100.0
    assert 0 <= results["summary"]["ALC"] <= 100
    assert not any(math.isnan(x) for x in _all_numbers(results))
    # files: results, CSV, the last two models, the export in the input's format
    out = tmp_path / "run"
    assert json.loads((out / "results.json").read_text())["summary"]["ALC"] == results["summary"]["ALC"]
    assert len((out / "results.csv").read_text().splitlines()) == len(cycles) + 1
    assert sorted(p.name for p in (out / "models").iterdir()) == [f"cycle_{len(cycles) - 2:02d}.pt",
                                                                  f"cycle_{len(cycles) - 1:02d}.pt"]
    # images outside the run folder are written with absolute paths: read back with their root
    exported = load_video(out / "poses_posetrack21.json", image_root=tiny_video.source["image_root"])
    assert [f.path for f in exported.frames] == [f.path for f in tiny_video.frames]
    np.testing.assert_allclose(exported.keypoints[..., :2][tiny_video.visible],
                               tiny_video.keypoints[..., :2][tiny_video.visible])


def test_r_holds_the_labeled_samples_below_theta_plus_margin(tiny_video, random_checkpoint, tmp_path):
    # A random model has OKS far below 0.9 on every sample: all earlier labels are retrained.
    results = _session(tiny_video, random_checkpoint, tmp_path / "run", criterion="random", theta=0.85,
                       schedule=(10, 20, 100)).run(SimulatedOracle(tiny_video))
    c = results["cycles"]
    assert c[0]["num_retrained_R"] == 0
    assert c[1]["num_retrained_R"] == c[0]["num_answered"]
    assert c[1]["num_trained"] == c[1]["num_answered"] + c[1]["num_retrained_R"]


RESUME_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import torch
    from vatl.atl.config import ATLConfig
    from vatl.atl.oracle import SimulatedOracle
    from vatl.atl.session import ATLSession
    from vatl.data.formats import load_video
    from vatl.estimator.checkpoint import load_checkpoint

    video_path, checkpoint, out, kill_cycle = sys.argv[1:5]
    torch.set_num_threads(1)  # as in this test process: identical float results need the same thread count

    def progress(event, info):
        if event == "phase" and info["phase"] == "select" and info["cycle"] == int(kill_cycle):
            os.kill(os.getpid(), signal.SIGKILL)  # killed mid-cycle, between selection and annotation

    video = load_video(video_path)
    config = ATLConfig(criterion="thc+wpu+duw", max_epochs=2, batch_size=16, seed=7)
    ATLSession(video, load_checkpoint(checkpoint), config, out, progress=progress).run(SimulatedOracle(video))
""")


def test_a_killed_run_resumes_and_reaches_the_same_numbers(tiny_video, tiny_video_path, random_checkpoint, tmp_path):
    killed = tmp_path / "killed"
    proc = subprocess.run([sys.executable, "-c", RESUME_SCRIPT, str(tiny_video_path), str(random_checkpoint),
                           str(killed), "3"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -9, proc.stderr  # SIGKILL
    state = json.loads((killed / "state.json").read_text())
    assert state["next_cycle"] == 3 and len(state["records"]) == 3

    resumed = _session(tiny_video, random_checkpoint, killed, criterion="thc+wpu+duw", seed=7)
    assert resumed.next_cycle == 3
    resumed_results = resumed.run(SimulatedOracle(tiny_video))
    straight = _session(tiny_video, random_checkpoint, tmp_path / "straight", criterion="thc+wpu+duw", seed=7)
    straight_results = straight.run(SimulatedOracle(tiny_video))

    keys = ("selected", "G", "AP@0.6", "AP@0.6_raw", "AP", "epochs", "num_retrained_R", "loss_last")
    for a, b in zip(resumed_results["cycles"], straight_results["cycles"], strict=True):
        assert {k: a[k] for k in keys} == {k: b[k] for k in keys}
    assert resumed_results["summary"]["ALC"] == straight_results["summary"]["ALC"]


def test_resuming_with_other_settings_is_refused(tiny_video, random_checkpoint, tmp_path):
    session = _session(tiny_video, random_checkpoint, tmp_path / "run", criterion="random", schedule=(50, 100))
    session.update(SimulatedOracle(tiny_video).answer(session.query().indices, None))
    session.close()
    with pytest.raises(ValueError, match="other settings.*criterion"):
        _session(tiny_video, random_checkpoint, tmp_path / "run", criterion="coreset", schedule=(50, 100))


def test_stop_mode_ends_the_run_and_says_why(tiny_video, random_checkpoint, tmp_path):
    # SC_Min with a θ every prediction beats: met in cycle 0.
    results = _session(tiny_video, random_checkpoint, tmp_path / "run", criterion="random", stop_mode="stop",
                       stop_criterion="sc_min", theta=1e-9).run(SimulatedOracle(tiny_video))
    assert len(results["cycles"]) == 1
    assert results["stop"]["criterion"] == "sc_min" and results["stop"]["cycle"] == 0
    assert results["final"]["reason"].startswith("stopped by sc_min")
    assert results["summary"]["ALC"] is None and "stopped early" in results["summary"]["ALC_note"]
    assert results["cycles"][0]["epochs"] == 0  # no retraining after the stop


def test_report_mode_records_without_stopping(tiny_video, random_checkpoint, tmp_path):
    results = _session(tiny_video, random_checkpoint, tmp_path / "run", criterion="random", stop_mode="report",
                       stop_criterion="sc_min", theta=1e-9, schedule=(50, 100)).run(SimulatedOracle(tiny_video))
    assert [c["stop"]["met"] for c in results["cycles"]] == [True, True]
    assert results["stop"] is None and results["final"]["labeled_percent"] == 100.0


def test_an_oracle_that_answers_nothing_leaves_every_sample_in_the_pool(tiny_video, random_checkpoint, tmp_path):
    results = _session(tiny_video, random_checkpoint, tmp_path / "run", criterion="thc+wpu+duw",
                       schedule=(20, 100)).run(SilentOracle())
    assert [c["num_answered"] for c in results["cycles"]] == [0, 0]
    assert [c["G"] for c in results["cycles"]] == [None, None]
    assert [c["epochs"] for c in results["cycles"]] == [0, 0]
    assert results["final"]["num_labeled"] == 0 and results["summary"]["ALC"] is None
    assert not any(math.isnan(x) for x in _all_numbers(results))


class HalfOracle(SimulatedOracle):
    """Answers every other queried sample."""

    def answer(self, indices, predictions):
        return super().answer(indices[::2], None)


def test_partial_answers_return_the_rest_to_the_pool(tiny_video, random_checkpoint, tmp_path):
    session = _session(tiny_video, random_checkpoint, tmp_path / "run", criterion="random", schedule=(20, 40, 100))
    results = session.run(HalfOracle(tiny_video))
    c = results["cycles"]
    assert c[0]["num_answered"] == (c[0]["num_queried"] + 1) // 2
    # the next cycle's budget makes up for the unanswered samples
    assert c[1]["num_queried"] == cumulative_targets(tiny_video.num_samples, (20, 40, 100))[1] - c[0]["num_answered"]
    assert results["final"]["labeled_percent"] < 100  # the schedule ended with samples never answered
    assert results["final"]["reason"] == "schedule complete" and "AP@0.6" in results["final"]


@pytest.mark.parametrize("criterion", ["random", "thc+wpu+duw", "coreset"])
def test_tiny_and_degenerate_videos(tiny_video, random_checkpoint, tmp_path, criterion):
    one_frame = tiny_video.subset(np.flatnonzero(tiny_video.frame_index == 0), name="one_frame")
    first_track = tiny_video.track_id[0]
    one_track = tiny_video.subset(np.flatnonzero(tiny_video.track_id == first_track), name="one_track")
    one_sample = tiny_video.subset([0], name="one_sample")
    for video in (one_frame, one_track, one_sample):
        results = _session(video, random_checkpoint, tmp_path / f"{criterion}_{video.name}",
                           criterion=criterion).run(SimulatedOracle(video))
        assert results["final"]["labeled_percent"] == 100.0
        assert all(c["num_queried"] >= 1 for c in results["cycles"])
        assert results["summary"]["ALC"] is not None


def test_empty_video_and_keypoint_set_mismatch_are_clear_errors(tiny_video, random_checkpoint, tmp_path):
    with pytest.raises(ValueError, match="no person instances"):
        _session(tiny_video.subset([], name="empty"), random_checkpoint, tmp_path / "a")
    from vatl.data.video import Video
    from vatl.skeletons import JRDB

    other = Video("jrdb", JRDB, tiny_video.frames, tiny_video.frame_index, tiny_video.track_id, tiny_video.boxes,
                  tiny_video.keypoints, tiny_video.annotation_ids)
    with pytest.raises(ValueError, match="keypoint set 'jrdb'"):
        _session(other, random_checkpoint, tmp_path / "b")


def test_persons_with_a_single_labeled_joint(tiny_video, random_checkpoint, tmp_path):
    from vatl.data.video import Video

    kp = tiny_video.keypoints.copy()
    first = np.argmax(kp[..., 2] > 0, axis=1)  # keep only the first labeled joint of every person
    keep = np.zeros(kp.shape[:2], dtype=bool)
    keep[np.arange(len(kp)), first] = True
    kp[~keep] = 0
    sparse = Video("sparse", tiny_video.keypoint_set, tiny_video.frames, tiny_video.frame_index, tiny_video.track_id,
                   tiny_video.boxes, kp, tiny_video.annotation_ids)
    results = _session(sparse, random_checkpoint, tmp_path / "run", criterion="thc+wpu+duw",
                       schedule=(30, 100)).run(SimulatedOracle(sparse))
    assert all(0 <= c["G"] <= 1 for c in results["cycles"])
    assert results["final"]["AP@0.6"] == 100.0
    assert not any(math.isnan(x) for x in _all_numbers(results))


def test_a_video_without_ground_truth_runs_with_a_person_answering(tiny_video, random_checkpoint, tmp_path):
    from vatl.data.video import Video

    unlabeled = Video("no_gt", tiny_video.keypoint_set, tiny_video.frames, tiny_video.frame_index,
                      tiny_video.track_id, tiny_video.boxes, np.zeros_like(tiny_video.keypoints),
                      tiny_video.annotation_ids)

    class Person:  # answers from the (here hidden) ground truth of the original video
        def answer(self, indices, predictions):
            return {int(i): tiny_video.keypoints[int(i)] for i in indices}

    results = _session(unlabeled, random_checkpoint, tmp_path / "run", criterion="thc+wpu+duw",
                       schedule=(30, 100)).run(Person())
    assert [c["AP@0.6"] for c in results["cycles"]] == [None, None]
    assert all(c["G"] is not None for c in results["cycles"])  # G_c needs only the answers
    assert results["final"]["labeled_percent"] == 100.0 and results["summary"]["ALC"] is None
    assert (tmp_path / "run" / "poses_posetrack21.json").is_file()


def test_the_query_awaiting_answers_survives_a_restart(tiny_video, random_checkpoint, tmp_path):
    first = _session(tiny_video, random_checkpoint, tmp_path / "run", criterion="random", schedule=(20, 100))
    selected = first.query().indices.tolist()
    # The query file shown to the annotator names other samples than a fresh selection would (as after a
    # re-estimate on other hardware): a later process must ask for exactly the saved ones.
    shown = sorted(set(range(tiny_video.num_samples)) - set(selected))[: len(selected)]
    pending = tmp_path / "run" / "pending_query.json"
    pending.write_text(json.dumps({"cycle": 0, "indices": shown}))
    first.close()
    again = _session(tiny_video, random_checkpoint, tmp_path / "run", criterion="random", schedule=(20, 100))
    assert again.query().indices.tolist() == shown
    again.update(SimulatedOracle(tiny_video).answer(np.asarray(shown), None))
    assert not pending.exists()


# ---- label-anchored propagation through the session's hooks (vatl.atl.hooks) ------------------------------
def test_a_refining_criterion_delivers_refined_poses_and_keeps_raw_ap_the_models(tiny_video, random_checkpoint,
                                                                                   tmp_path):
    plain = _session(tiny_video, random_checkpoint, tmp_path / "plain", criterion="random",
                     schedule=(20, 100), seed=3).run(SimulatedOracle(tiny_video))
    lap = _session(tiny_video, random_checkpoint, tmp_path / "lap", criterion="random+lap",
                   criterion_options={"reach": 1e6, "pseudo": 1, "spacing": 0}, schedule=(20, 100), seed=3)
    query = lap.query()
    assert lap.config.to_dict()["criterion"] == "random+lap"  # recorded: a resume with other settings is refused
    assert query.model_keypoints is not None and query.keypoints is not query.model_keypoints
    results = lap.run(SimulatedOracle(tiny_video))
    lap.close()
    first = [results["cycles"][0], plain["cycles"][0]]
    assert first[0]["selected"] == first[1]["selected"]  # random+lap without spacing selects as random
    assert first[0]["AP@0.6_raw"] == first[1]["AP@0.6_raw"]  # no labels yet: same model, same raw AP
    second = results["cycles"][1]
    assert second["num_trained"] > second["num_answered"] + second["num_retrained_R"] or second["epochs"] == 0
    with pytest.raises(ValueError, match="other settings"):
        _session(tiny_video, random_checkpoint, tmp_path / "lap", criterion="random+lap", schedule=(20, 100),
                 seed=3)


def test_the_method_never_sees_the_ground_truth_of_samples_it_did_not_get_labeled(tiny_video, random_checkpoint,
                                                                                   tmp_path):
    """The simulated annotator is the judge: changing the ground truth of every sample the run never had
    labeled changes neither the selections nor the delivered (exported) poses."""
    import copy

    def run(video, out):
        session = _session(video, random_checkpoint, out, criterion="thc+wpu+duw+lap",
                           criterion_options={"smooth": 1, "spacing": 1, "pseudo": 1}, schedule=(10, 30), seed=1)
        results = session.run(SimulatedOracle(video))
        session.close()
        return results, load_video(out / "poses_posetrack21.json", image_root=video.source["image_root"])

    results, poses = run(tiny_video, tmp_path / "a")
    labeled = [i for c in results["cycles"] for i in c["selected"]]
    assert 0 < len(labeled) < tiny_video.num_samples
    other = copy.deepcopy(tiny_video)
    never = np.setdiff1d(np.arange(other.num_samples), labeled)
    shifted = other.keypoints[never]
    shifted[..., :2] += np.random.default_rng(0).normal(scale=20.0, size=shifted[..., :2].shape)
    other.keypoints[never] = shifted
    results_b, poses_b = run(other, tmp_path / "b")
    assert [c["selected"] for c in results_b["cycles"]] == [c["selected"] for c in results["cycles"]]
    np.testing.assert_allclose(poses_b.keypoints, poses.keypoints)
    assert not np.allclose(other.keypoints[never], tiny_video.keypoints[never])  # it was another ground truth
