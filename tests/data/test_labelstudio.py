"""Label Studio: tasks with predictions written, an export made in Label Studio's documented JSON layout read
back as answers (round trip)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from skeleton_clips import human_clip

from vatl.data.formats import load_video
from vatl.data.formats.labelstudio import NOT_PERSON, labeling_config, read_labelstudio_answers, write_labelstudio_tasks


@pytest.fixture()
def clip(tmp_path):
    return load_video(human_clip(tmp_path / "clip", frames=3))


def _export(tasks: list, edit) -> list:
    """Label Studio's JSON export of the imported tasks: each task gets an id and one submitted annotation that
    starts from its prediction's results (as the labeling page does), changed by ``edit(task_index, result)``."""
    out = []
    for t, task in enumerate(copy.deepcopy(tasks)):
        result = copy.deepcopy(task["predictions"][0]["result"])
        result = edit(t, result)
        out.append({"id": 100 + t, "data": task["data"], "predictions": task["predictions"],
                    "annotations": [{"id": 900 + t, "result": result, "was_cancelled": False, "ground_truth": False,
                                     "created_at": "2026-01-01T00:00:00Z", "lead_time": 3.5, "task": 100 + t,
                                     "completed_by": 1}],
                    "file_upload": "x.json", "created_at": "2026-01-01T00:00:00Z"})
    return out


def test_tasks_hold_percent_coordinates_and_a_box_per_person(clip, tmp_path):
    query = np.array([0, 1, 3])  # frame 0 (both people) and frame 1 (person 1)
    path = write_labelstudio_tasks(clip, tmp_path / "tasks.json", query)
    tasks = json.loads(path.read_text())
    assert len(tasks) == 2 and [s["sample"] for s in tasks[0]["data"]["vatl"]["samples"]] == [0, 1]
    assert tasks[0]["data"]["image"] == "/data/local-files/?d=frames/000000.jpg"
    result = tasks[0]["predictions"][0]["result"]
    box, point = result[0], result[1]
    assert box["type"] == "rectanglelabels" and box["id"] == "s0" and box["value"]["rectanglelabels"] == ["person"]
    assert point["type"] == "keypointlabels" and point["parentID"] == "s0"
    assert point["original_width"] == 192 and point["original_height"] == 144
    assert point["value"]["x"] == pytest.approx(100 * clip.keypoints[0, 0, 0] / 192)
    assert point["value"]["keypointlabels"] == ["Neck"]
    config = (tmp_path / "tasks.xml").read_text()
    assert config == labeling_config(clip) and '<Label value="RAnkle"/>' in config and NOT_PERSON in config


def test_round_trip_of_corrections_a_new_box_and_a_rejection(clip, tmp_path):
    query = np.array([0, 1, 3])
    tasks = json.loads(write_labelstudio_tasks(clip, tmp_path / "tasks.json", query, keypoints=clip.keypoints).read_text())

    def edit(t, result):
        if t == 0:
            for r in result:  # the annotator moves sample 0's points 1 % of the width to the right
                if r.get("parentID") == "s0":
                    r["value"]["x"] += 1.0
            for r in result:  # ... and says sample 1 is not a person
                if r["id"] == "s1":
                    r["value"]["rectanglelabels"] = [NOT_PERSON]
            return result
        # frame 1: deletes the box and draws a new one around sample 3, points then belong to it
        new = [dict(r, id="Xy12ab") for r in result if r["type"] == "rectanglelabels"]
        pts = [dict(r, parentID="Xy12ab") for r in result if r["type"] == "keypointlabels"]
        pts[0]["meta"] = {"text": ["occluded"]}
        return new + pts

    export = tmp_path / "export.json"
    export.write_text(json.dumps(_export(tasks, edit)))
    answers = read_labelstudio_answers(export, clip)
    assert sorted(answers) == [0, 1, 3] and answers[1] == "reject"
    expected0 = clip.keypoints[0].copy()
    expected0[:, 0] += 1.92
    np.testing.assert_allclose(answers[0], expected0, atol=1e-9)
    expected3 = clip.keypoints[3].copy()
    expected3[:, 2] = 2.0
    expected3[0, 2] = 1.0  # the point marked occluded
    np.testing.assert_allclose(answers[3], expected3, atol=1e-9)


def test_points_outside_every_box_and_unknown_labels_are_errors(clip, tmp_path):
    tasks = json.loads(write_labelstudio_tasks(clip, tmp_path / "tasks.json", [0, 1]).read_text())

    def edit(t, result):
        for r in result:
            r.pop("parentID", None)
        result.append({"id": "p1", "type": "keypointlabels", "from_name": "keypoints", "to_name": "image",
                       "original_width": 192, "original_height": 144,
                       "value": {"x": 0.5, "y": 0.5, "width": 0.5, "keypointlabels": ["Chin"]}})
        return result

    export = tmp_path / "export.json"
    export.write_text(json.dumps(_export(tasks, edit)))
    with pytest.raises(ValueError, match=r"task 0 \(id=100\): point p1 has label 'Chin'"):
        read_labelstudio_answers(export, clip)
    export.write_text(json.dumps([{"data": {"image": "x.jpg"}, "annotations": []}]))
    with pytest.raises(ValueError, match="not a task written by vatl export --to labelstudio"):
        read_labelstudio_answers(export, clip)


def test_unannotated_and_cancelled_tasks_give_no_answer(clip, tmp_path):
    tasks = json.loads(write_labelstudio_tasks(clip, tmp_path / "tasks.json", [0, 1]).read_text())
    export = _export(tasks, lambda t, r: r)
    export[0]["annotations"][0]["was_cancelled"] = True
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    assert read_labelstudio_answers(path, clip) == {}


@pytest.mark.parametrize(("change", "message"), [
    (lambda task: task["data"]["vatl"].update(frame=None), r"task 0 \(id=100\): data.vatl.frame must be an integer, got None"),
    (lambda task: task["data"]["vatl"]["samples"][0].update(sample=None),
     r"task 0 \(id=100\): data.vatl.samples\[0\].sample must be an integer, got None"),
    (lambda task: task["annotations"][0]["result"][1]["value"].update(x=None),
     r"task 0 \(id=100\): point s0-0: value.x must be a number, got None"),
    (lambda task: task["annotations"][0]["result"][0].update(value="s0"),
     r"task 0 \(id=100\): box s0: 'value' must be an object, got 's0'"),
    (lambda task: task["annotations"][0]["result"][0]["value"].pop("width"),
     r"task 0 \(id=100\): box s0: value.width must be a number, got None"),
])
def test_fields_of_the_wrong_type_are_errors_naming_the_task_and_region(clip, tmp_path, change, message):
    tasks = json.loads(write_labelstudio_tasks(clip, tmp_path / "tasks.json", [0, 1]).read_text())
    export = _export(tasks, lambda t, r: r)
    change(export[0])
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export))
    with pytest.raises(ValueError, match=message):
        read_labelstudio_answers(path, clip)


def test_a_keypoint_given_twice_for_one_person_is_an_error(clip, tmp_path):
    tasks = json.loads(write_labelstudio_tasks(clip, tmp_path / "tasks.json", [0, 1]).read_text())

    def edit(t, result):
        twin = copy.deepcopy(next(r for r in result if r.get("parentID") == "s0"))
        twin["id"] = "again"
        twin["value"]["x"] += 5.0
        return result + [twin]

    path = tmp_path / "export.json"
    path.write_text(json.dumps(_export(tasks, edit)))
    with pytest.raises(ValueError, match=r"task 0 \(id=100\): person s0 \(sample 0\) has keypoint 'Neck' twice "
                                         r"\(point s0-0 and point again\)"):
        read_labelstudio_answers(path, clip)
