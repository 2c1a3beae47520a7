import numpy as np
import pytest

from vatl.atl.answers import LABEL, REJECT, SKIP, Answer, AnswerError, accepted_label, check_answers, sample_key
from vatl.data.video import Frame, Video
from vatl.skeletons import POSETRACK21

K = POSETRACK21.num_keypoints


def _video(width=640, height=480):
    n = 4
    return Video("v", POSETRACK21, [Frame(None, 0, width=width, height=height)], np.zeros(n), np.arange(n),
                 np.tile([100, 100, 50, 100], (n, 1)), np.zeros((n, K, 3)), np.arange(n))


def _label(x=120.0, y=150.0, v=2.0):
    kp = np.zeros((K, 3))
    kp[5:] = [x, y, v]
    return kp


QUERY = np.array([1, 3])
PRED = np.zeros((4, K, 3))


def _check(answers, video=None):
    return check_answers(answers, QUERY, PRED, video or _video(), cycle=2)


def test_labels_skip_and_reject_are_taken_in_query_order():
    checked = _check({3: "reject", 1: _label().tolist()})
    assert list(checked) == [1, 3]
    assert checked[1].kind == LABEL and checked[1].keypoints.shape == (K, 3)
    assert checked[3] == Answer(REJECT)
    assert _check({1: "skip"})[1].kind == SKIP and _check({"3": Answer.reject()})[3].kind == REJECT
    assert _check({}) == {}  # nothing answered: every queried sample returns to the pool


@pytest.mark.parametrize("answers, message", [
    ({7: _label()}, r"sample 7 was not queried in cycle 2 \(the query: 1, 3\)"),
    ({"-1": _label()}, "sample -1 was not queried"),
    ({"one": _label()}, "answer key 'one' is not a sample index"),
    ({True: _label()}, "is not a sample index"),
    ({1: np.zeros((16, 3))}, r"sample 1: a label needs 17 rows of \[x, y, v\] \(keypoint set posetrack21\), got shape \(16, 3\)"),
    ({1: "maybe"}, "sample 1: unknown answer 'maybe'"),
    ({1: [["a", 1, 2]] * K}, "sample 1: a label must be 17 rows"),
    ({1: _label(x=np.nan)}, r"sample 1, joint 5 \(left_shoulder\): .* not a finite number"),
    ({1: _label(v=5)}, r"sample 1, joint 5 \(left_shoulder\): v = 5; expected 0 \(not labeled\)"),
    ({1: _label(x=1e300)}, r"sample 1, joint 5 \(left_shoulder\): \(1e\+300, 150\) lies outside the image 640×480"),
    ({1: _label(x=5000)}, r"lies outside the image 640×480 grown by 50% on each side \(x in \[-320, 960\]"),
    ({1: _label(v=0)}, "sample 1: the label marks no joint as labeled.*'skip'.*'reject'"),
])
def test_every_bad_answer_is_refused_with_the_sample_and_the_joint(answers, message):
    with pytest.raises(AnswerError, match=message) as err:
        _check(answers)
    assert "nothing was taken" in str(err.value)


def test_all_problems_are_listed_at_once():
    with pytest.raises(AnswerError) as err:
        _check({1: _label(v=5), 9: _label(), 3: "maybe"})
    assert len(err.value.problems) == 1 + 1 + 12  # sample 9, sample 3, and twelve bad joints of sample 1
    assert "and 4 more" in str(err.value)


def test_without_the_image_size_labels_must_lie_near_their_box():
    video = _video(width=0, height=0)  # box (100, 100, 50, 100): allowed x in [50, 200], y in [0, 300]
    assert _check({1: _label(x=190, y=290)}, video)[1].kind == LABEL
    with pytest.raises(AnswerError, match=r"lies outside x in \[50, 200\], y in \[0, 300\]"):
        _check({1: _label(x=260)}, video)


def test_accept_turns_the_prediction_into_a_label():
    video = _video()
    pred = np.zeros((4, K, 3))
    pred[1, :, :2] = [130.0, 160.0]
    pred[1, :, 2] = 0.2  # confidence, not visibility
    pred[1, 16, :2] = [700.0, 160.0]  # predicted outside the 640-pixel image: not labeled
    checked = check_answers({1: "accept"}, QUERY, pred, video, cycle=0)
    kp = checked[1].keypoints
    assert kp[0].tolist() == [130.0, 160.0, 2.0]
    assert kp[3, 2] == 0 and kp[4, 2] == 0  # PoseTrack21's ears are never annotated
    assert kp[16].tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_array_equal(kp, accepted_label(pred[1], video, 1))


def test_sample_keys():
    assert [sample_key(k) for k in (3, np.int64(4), "5", " 6 ", "-1")] == [3, 4, 5, 6, -1]
    assert [sample_key(k) for k in (True, 1.0, "1.5", "x", None)] == [None] * 5
