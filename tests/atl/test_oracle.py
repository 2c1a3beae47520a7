import json

import numpy as np
import pytest

from vatl.atl.oracle import FileOracle, SilentOracle, SimulatedOracle, read_answer_file, write_query_file
from vatl.data.video import Frame, Video
from vatl.skeletons import POSETRACK21


def _video(n=3, with_gt=True):
    kp = np.zeros((n, 17, 3))
    if with_gt:
        kp[:, 5] = [10, 20, 1]
    return Video("v", POSETRACK21, [Frame(None, 0)], np.zeros(n), np.arange(n), np.tile([0, 0, 50, 100], (n, 1)),
                 kp, np.arange(n))


def test_simulated_oracle_reveals_ground_truth_of_the_queried_samples():
    v = _video()
    answers = SimulatedOracle(v).answer(np.array([2, 0]), np.zeros((2, 17, 3)))
    assert sorted(answers) == [0, 2]
    np.testing.assert_array_equal(answers[2], v.keypoints[2])
    answers[2][5, 0] = -1  # a copy: the video is untouched
    assert v.keypoints[2, 5, 0] == 10


def test_simulated_oracle_needs_ground_truth():
    with pytest.raises(ValueError, match="no ground-truth"):
        SimulatedOracle(_video(with_gt=False))


def test_silent_oracle_answers_nothing():
    assert SilentOracle().answer(np.array([0, 1]), np.zeros((2, 17, 3))) == {}


def test_query_and_answer_files_round_trip(tmp_path):
    v = _video()
    write_query_file(tmp_path / "q.json", v, np.array([1]), np.ones((1, 17, 3)))
    doc = json.loads((tmp_path / "q.json").read_text())
    assert doc["query"][0]["sample"] == 1 and len(doc["query"][0]["prediction"]) == 17
    assert "skip" in doc["answer_format"] and "reject" in doc["answer_format"]
    label = np.full((17, 3), 2.0)
    (tmp_path / "a.json").write_text(json.dumps({"labels": {"1": label.tolist(), "2": "reject", "0": "skip"}}))
    answers = FileOracle(tmp_path / "a.json").answer(np.array([0, 1]), np.zeros((2, 17, 3)))
    # every answer in the file goes to the session, which checks it against its query
    assert sorted(answers) == [0, 1, 2] and answers[2] == "reject" and answers[0] == "skip"
    np.testing.assert_array_equal(np.asarray(answers[1]), label)


@pytest.mark.parametrize("content, message", [
    ("not json", "not valid JSON"),
    ('{"answers": {}}', "'labels' object"),
    ('{"labels": {"one": []}}', "sample index"),
    ('{"labels": {"1.5": []}}', "sample index"),
])
def test_bad_answer_files_name_the_file_and_the_problem(tmp_path, content, message):
    path = tmp_path / "a.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message) as err:
        read_answer_file(path)
    assert str(path) in str(err.value)


def test_missing_answer_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_answer_file(tmp_path / "nope.json")
