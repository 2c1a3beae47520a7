"""update() as a transaction: validated answers, skip / reject / accept, failures that leave nothing behind."""

import json

import numpy as np
import pytest

from vatl.atl.answers import AnswerError
from vatl.atl.config import ATLConfig
from vatl.atl.oracle import SimulatedOracle
from vatl.atl.run_store import RunStore
from vatl.atl.session import ATLSession
from vatl.data.formats import load_video
from vatl.estimator.checkpoint import load_checkpoint
from vatl.estimator.train import Finetuner

FAST = dict(max_epochs=2, batch_size=16)


def _session(video, checkpoint, out, **config):
    return ATLSession(video, load_checkpoint(checkpoint), ATLConfig(**{**FAST, **config}), out)


def _files(folder):
    """Every file of a run folder with its bytes (the lock file aside)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != "run.lock"}


def _gt(video, indices):
    return SimulatedOracle(video).answer(np.asarray(indices), None)


@pytest.mark.parametrize("bad", ["extra sample", "nan", "far outside", "v=5", "wrong K"])
def test_a_refused_answer_changes_nothing(tiny_video, random_checkpoint, tmp_path, bad):
    with _session(tiny_video, random_checkpoint, tmp_path / "run", criterion="random", schedule=(20, 100)) as s:
        q = s.query().indices.tolist()
        answers = _gt(tiny_video, q)
        label = answers[q[0]]
        j = int(np.flatnonzero(label[:, 2] > 0)[0])
        if bad == "extra sample":
            answers[next(i for i in range(tiny_video.num_samples) if i not in q)] = label
        elif bad == "nan":
            label[j, 0] = np.nan
        elif bad == "far outside":
            label[j, 0] = 1e300
        elif bad == "v=5":
            label[j, 2] = 5
        else:
            answers[q[0]] = label[:-1]  # the Python API checks the keypoint count too
        before = _files(tmp_path / "run")
        weights = {k: v.clone() for k, v in s.model.state_dict().items()}
        with pytest.raises(AnswerError, match=f"sample {q[0]}|was not queried"):
            s.update(answers)
        assert _files(tmp_path / "run") == before
        assert len(s.labels) == 0 and s.next_cycle == 0 and s.pending is not None
        assert all(v.equal(weights[k]) for k, v in s.model.state_dict().items())
        s.update(_gt(tiny_video, q))  # the corrected answers are taken
        assert len(s.labels) == len(q) and s.next_cycle == 1


class Flaky:
    """Makes the patched call fail the first time only."""

    def __init__(self, original, error):
        self.original, self.error, self.calls = original, error, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == 1:
            raise self.error
        return self.original(*args, **kwargs)


@pytest.mark.parametrize("where", ["training", "writing the state"])
def test_a_failed_update_leaves_the_session_as_it_was_and_can_be_retried(tiny_video, random_checkpoint, tmp_path,
                                                                          monkeypatch, where):
    config = dict(criterion="thc+wpu+duw", schedule=(20, 50, 100), seed=3)
    with _session(tiny_video, random_checkpoint, tmp_path / "straight", **config) as straight:
        expected = straight.run(SimulatedOracle(tiny_video))

    with _session(tiny_video, random_checkpoint, tmp_path / "run", **config) as s:
        s.update(_gt(tiny_video, s.query().indices))
        pending = s.query()  # cycle 1 retrains on its new labels and R
        if where == "training":
            flaky = Flaky(Finetuner.train_epochs, RuntimeError("out of memory (simulated)"))
            monkeypatch.setattr(Finetuner, "train_epochs", lambda self, *a, **kw: flaky(self, *a, **kw))
        else:
            flaky = Flaky(RunStore.save_state, OSError(28, "No space left on device (simulated)"))
            monkeypatch.setattr(RunStore, "save_state", lambda self, *a: flaky(self, *a))
        before = _files(tmp_path / "run")
        weights = {k: v.clone() for k, v in s.model.state_dict().items()}
        labels, steps = sorted(s.labels.labels), s.finetuner.steps_done
        with pytest.raises((RuntimeError, OSError), match="simulated"):
            s.update(_gt(tiny_video, pending.indices))
        assert flaky.calls == 1
        assert _files(tmp_path / "run") == before  # state, results, models and the pending query as they were
        assert sorted(s.labels.labels) == labels and s.next_cycle == 1 and s.pending is pending
        assert s.finetuner.steps_done == steps
        assert all(v.equal(weights[k]) for k, v in s.model.state_dict().items())
        s.update(_gt(tiny_video, pending.indices))  # the same call again
        results = s.run(SimulatedOracle(tiny_video))
    keys = ("selected", "G", "AP@0.6", "epochs", "loss_last")
    for a, b in zip(results["cycles"], expected["cycles"], strict=True):
        assert {k: a[k] for k in keys} == {k: b[k] for k in keys}
    assert results["summary"]["ALC"] == expected["summary"]["ALC"]


def test_skipped_samples_return_to_the_pool_and_rejected_ones_leave_it(tiny_video, random_checkpoint, tmp_path):
    n = tiny_video.num_samples
    s = _session(tiny_video, random_checkpoint, tmp_path / "run", criterion="random", schedule=(20, 50, 100))
    q = s.query().indices.tolist()
    answers = _gt(tiny_video, q[2:])
    answers.update({q[0]: "skip", q[1]: "reject"})
    record = s.update(answers)
    assert (record.num_answered, record.skipped, record.rejected) == (len(q) - 2, [q[0]], [q[1]])
    assert q[1] in s.rejected and q[0] not in s.labels and q[1] not in s.labels
    # the schedule's percentages are now of the n - 1 samples that are people
    assert record.labeled_percent_after == pytest.approx(100 * (len(q) - 2) / (n - 1))
    s.close()
    # the rejection is part of the saved state: a resumed session never selects the sample again
    s = _session(tiny_video, random_checkpoint, tmp_path / "run", criterion="random", schedule=(20, 50, 100))
    assert s.rejected == {q[1]: 0}
    results = s.run(SimulatedOracle(tiny_video))
    selected = [i for c in results["cycles"] for i in c["selected"]]
    assert selected.count(q[1]) == 1 and q[0] in selected[len(q):]  # the skipped one came back
    assert results["final"]["labeled_percent"] == 100.0 and results["final"]["num_rejected"] == 1
    assert results["rejected"] == [q[1]] and results["summary"]["ALC"] is not None
    poses = json.loads((tmp_path / "run" / "poses_posetrack21.json").read_text())
    rejected_id = int(tiny_video.annotation_ids[q[1]])
    by_id = {a["id"]: a for a in poses["annotations"]}
    assert "score" not in by_id[rejected_id]  # kept as the input had it: not exported as a prediction
    assert all("score" in a for i, a in by_id.items() if i != rejected_id)
    s.close()


def test_rejecting_every_sample_ends_the_run(tiny_video, random_checkpoint, tmp_path):
    video = tiny_video.subset([0, 1], name="two")
    with _session(video, random_checkpoint, tmp_path / "run", criterion="random", schedule=(100,)) as s:
        q = s.query().indices.tolist()
        s.update({i: "reject" for i in q})
        assert s.query() is None and s.finished
        assert s.results()["final"]["reason"] == "every sample was rejected"


def test_accepting_takes_the_prediction_as_the_label(tiny_video, random_checkpoint, tmp_path):
    with _session(tiny_video, random_checkpoint, tmp_path / "run", criterion="random", schedule=(20, 100)) as s:
        pending = s.query()
        i = int(pending.indices[0])
        s.update({i: "accept"})
        label = s.labels[i]
        annotated = label.keypoints[:, 2] > 0
        assert annotated.any() and set(label.keypoints[annotated, 2]) == {2.0}
        np.testing.assert_array_equal(label.keypoints[annotated, :2], pending.keypoints[i, annotated, :2])
        np.testing.assert_array_equal(label.replaced, pending.keypoints[i])
        assert pytest.approx(1.0) == s.records[0].G  # the model agrees with itself


def test_update_without_a_query_is_an_error(tiny_video, random_checkpoint, tmp_path):
    with _session(tiny_video, random_checkpoint, tmp_path / "run") as s, pytest.raises(ValueError, match="query"):
        s.update({})


def test_a_criterion_object_can_be_given(tiny_video, random_checkpoint, tmp_path):
    from vatl.criteria import get_criterion

    criterion = get_criterion("coreset")
    criterion.name = "my-coreset"
    with ATLSession(tiny_video, load_checkpoint(random_checkpoint), ATLConfig(**FAST, schedule=(50, 100)),
                    tmp_path / "run", criterion=criterion) as s:
        assert s.criterion is criterion and s.config.criterion == "my-coreset"
        s.run(SimulatedOracle(tiny_video))
    assert json.loads((tmp_path / "run" / "config.json").read_text())["criterion"] == "my-coreset"
    poses = load_video(tmp_path / "run" / "poses_posetrack21.json", image_root=tiny_video.source["image_root"])
    assert poses.num_samples == tiny_video.num_samples
