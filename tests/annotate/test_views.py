import numpy as np

from vatl.annotate.drafts import AnswerDraft
from vatl.annotate.views import meta_view, query_view, run_view, stopping_status
from vatl.atl.records import CycleRecord


def test_meta_names_the_keypoints_and_the_skeleton(annotator):
    meta = meta_view(annotator.session)
    ks = annotator.session.video.keypoint_set
    assert meta["keypoints"] == list(ks.keypoints) and meta["skeleton"] == [list(e) for e in ks.skeleton]
    assert meta["theta"] == 0.6 and meta["schedule"] == [20, 40, 60, 80, 100] and meta["has_ground_truth"]


def test_the_query_view_holds_predictions_neighbours_and_saved_answers(annotator):
    session = annotator.session
    pending = session.pending
    draft = AnswerDraft(session.store.root, pending.cycle, pending.indices.tolist())
    first = int(pending.indices[0])
    draft.put(first, "skip")
    prev, nxt = session.video.neighbours(1)
    view = query_view(session, pending, draft, (prev, nxt))
    assert [s["sample"] for s in view["samples"]] == pending.indices.tolist()
    assert view["answers"] == {str(first): "skip"} and view["answered"] == 1 and view["total"] == 6
    s = view["samples"][0]
    assert np.allclose(s["prediction"], pending.keypoints[first], atol=1e-3)
    assert np.allclose(np.array(s["initial"])[:, :2], pending.keypoints[first][:, :2], atol=1e-3)
    assert set(np.array(s["initial"])[:, 2]) <= {0.0, 2.0}
    assert np.array(s["initial"])[3, 2] == 0  # an ear: PoseTrack21 never labels it, so "accept" does not
    for side, index in (("prev", prev[first]), ("next", nxt[first])):
        if index < 0:
            assert s[side] is None
        else:
            assert s[side]["sample"] == index and s[side]["track"] == s["track"]
            assert abs(s[side]["frame"] - s["frame"]) == 1


def test_the_run_view_before_and_after_a_cycle(annotator):
    session = annotator.session
    view = run_view(session)
    assert view["cycles"] == [] and view["labeled_percent"] == 0 and "not judged yet" in view["stopping"]["text"]
    pending = session.query()
    session.update({int(i): session.video.keypoints[int(i)] for i in pending.indices[:4]})
    view = run_view(session)
    (cycle,) = view["cycles"]
    assert cycle["num_answered"] == 4 and cycle["num_skipped"] == 2 and cycle["G"] is not None
    assert cycle["ap60"] is not None and view["has_ground_truth"]
    assert view["labeled"] == 4 and abs(view["labeled_percent"] - 100 * 4 / 30) < 1e-9
    assert view["stopping"]["cycle"] == 0 and view["stopping"]["value"] == cycle["sc_all_value"]


def _record(cycle, value, met, which="sc_all"):
    return CycleRecord(cycle=cycle, **{f"{which}_value": value, f"{which}_met": met})


def test_the_stopping_sentence_says_met_or_not_against_theta():
    met = stopping_status([_record(0, 0.4, False), _record(1, 0.71, True)], "sc_all", "report", 0.6)
    assert met["met"] and met["cycle"] == 1
    assert met["text"].startswith("SC_All met: every labeled sample above θ = 0.6; lowest OKS 0.710")
    unmet = stopping_status([_record(0, 0.42, False)], "sc_all", "stop", 0.6)
    assert unmet["text"].startswith("SC_All not met: a labeled sample is at OKS 0.420 ≤ θ = 0.6")
    assert "the run ends when it is met" in unmet["text"]
    sc_min = stopping_status([_record(0, 0.8, True, "sc_min")], "sc_min", "report", 0.7)
    assert sc_min["text"].startswith("SC_Min met: the new labels' mean OKS 0.800 > θ = 0.7")
    assert stopping_status([_record(0, 0.8, True)], "sc_all", "off", 0.6)["met"] is None
    assert "not judged yet" in stopping_status([CycleRecord(cycle=0)], "sc_all", "report", 0.6)["text"]
