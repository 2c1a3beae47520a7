import json

import pytest

from vatl.annotate.annotator import STOP_REASON, Annotator, Busy, NoQuery
from vatl.annotate.drafts import draft_path
from vatl.atl.answers import AnswerError


def _query_samples(annotator):
    return [s["sample"] for s in annotator.query()["samples"]]


def test_a_bad_answer_raises_with_the_reason_and_stores_nothing(annotator):
    first = _query_samples(annotator)[0]
    with pytest.raises(AnswerError, match="needs 17 rows"):
        annotator.answer(first, [[1.0, 2.0, 2.0]])
    with pytest.raises(AnswerError, match="was not queried"):
        annotator.answer(29 if 29 not in _query_samples(annotator) else 28, "accept")
    assert not draft_path(annotator.session.store.root, 0).exists()


def test_a_submitted_draft_whose_cycle_was_not_saved_is_taken_on_the_next_start(run_spec, annotator):
    samples = _query_samples(annotator)
    annotator.answer(samples[0], "accept")
    annotator.answer(samples[1], "reject")
    annotator._draft.mark_submitted()  # as if the server died right after the person submitted
    annotator.close()
    again = Annotator.open(run_spec)
    try:
        again.start()
        again.wait(60)
        status = again.status()
        assert status["error"] is None and status["next_cycle"] == 1 and status["has_query"]
        assert list(again.session.labels.labels) == [samples[0]] and again.session.rejected == {samples[1]: 0}
    finally:
        again.close(60)


def test_a_failed_update_keeps_the_answers_and_can_be_submitted_again(annotator, monkeypatch):
    samples = _query_samples(annotator)
    annotator.answer(samples[0], "accept")
    original = annotator.session.update
    calls = []

    def failing_once(answers):
        calls.append(dict(answers))
        if len(calls) == 1:
            raise OSError(28, "No space left on device (simulated)")
        return original(answers)

    monkeypatch.setattr(annotator.session, "update", failing_once)
    annotator.submit()
    annotator.wait(60)
    status = annotator.status()
    assert "No space left on device" in status["error"] and status["next_cycle"] == 0 and status["has_query"]
    assert annotator.query()["answers"] == {str(samples[0]): "accept"}
    annotator.submit()
    annotator.wait(60)
    assert annotator.status()["error"] is None and annotator.status()["next_cycle"] == 1
    assert calls[0] == calls[1] == {samples[0]: "accept"}


def test_stop_without_answers_ends_the_run_with_the_current_predictions(annotator):
    annotator.stop()
    annotator.wait(60)
    assert annotator.session.finished and annotator.session.state.final["reason"] == STOP_REASON
    poses = json.loads((annotator.session.store.root / "poses_posetrack21.json").read_text())
    assert len(poses["annotations"]) == annotator.session.video.num_samples
    assert not (annotator.session.store.root / "pending_query.json").exists()
    with pytest.raises(NoQuery, match="finished"):
        annotator.query()
    with pytest.raises(NoQuery):
        annotator.answer(0, "accept")


def test_one_job_at_a_time(annotator, monkeypatch):
    import threading

    gate = threading.Event()
    monkeypatch.setattr(annotator.session, "update", lambda answers: gate.wait(30))
    monkeypatch.setattr(annotator, "_prepare", lambda: None)
    annotator.submit()
    try:
        with pytest.raises(Busy):
            annotator.submit()
        with pytest.raises(Busy):
            annotator.stop()
        assert annotator.status()["busy"] and not annotator.status()["has_query"]
    finally:
        gate.set()
        annotator.wait(30)


def test_a_draft_of_another_query_is_an_error_on_the_page_and_kept(run_spec, annotator):
    path = draft_path(annotator.session.store.root, 0)
    annotator.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"cycle": 0, "query": [0, 1], "labels": {"0": "skip"}}))
    again = Annotator.open(run_spec)
    try:
        again.start()
        again.wait(60)
        assert "another query of cycle 0" in again.status()["error"] and str(path) in again.status()["error"]
        assert json.loads(path.read_text())["labels"] == {"0": "skip"}
    finally:
        again.close(60)
