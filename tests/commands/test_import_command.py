"""A person answers a run's query in an annotation tool: `vatl export QUERY --to TOOL`, the tool's file
edited as the tool would save it, `vatl import FILE --run DIR` (validated by the session, then retrained)."""

from __future__ import annotations

import copy
import importlib
import json

import numpy as np
import pytest
from skeleton_clips import animal_clip_slp, human_clip

from vatl.cli import main
from vatl.data.formats import load_video

RUN = ["--schedule", "25,50,100", "--max-epochs", "1", "--threads", "1", "--criterion", "random",
       "--oracle", "person"]


def _start(tmp_path, clip):
    out = tmp_path / "run"
    assert main(["run", str(clip), "--out", str(out), *RUN]) == 0
    query = out / "query_cycle_00.json"
    return out, query, [r["sample"] for r in json.loads(query.read_text())["query"]]


def _labels(run_dir) -> dict[int, np.ndarray]:
    if not (run_dir / "state.json").is_file():  # no cycle finished yet
        return {}
    state = json.loads((run_dir / "state.json").read_text())
    return {int(i): np.asarray(rec["keypoints"]) for i, rec in state["labels"].items()}


def test_label_studio_round_trip_through_the_session(tmp_path, capsys):
    from vatl.data.formats.labelstudio import write_labelstudio_tasks

    clip = human_clip(tmp_path / "clip")
    video = load_video(clip)
    out, query, samples = _start(tmp_path, clip)
    tasks_path = tmp_path / "tasks.json"
    assert main(["export", str(query), "--to", "labelstudio", "--out", str(tasks_path)]) == 0
    tasks = json.loads(tasks_path.read_text())
    assert sorted(s["sample"] for t in tasks for s in t["data"]["vatl"]["samples"]) == sorted(samples)
    # the annotator corrects every point to the truth; Label Studio exports the annotations
    truth = json.loads(write_labelstudio_tasks(video, tmp_path / "truth.json", samples).read_text())
    export = []
    for n, (task, true) in enumerate(zip(tasks, truth)):
        export.append({**copy.deepcopy(task), "id": n + 1,
                       "annotations": [{"id": n + 1, "result": true["predictions"][0]["result"], "was_cancelled": False}]})
    export_path = tmp_path / "export.json"
    export_path.write_text(json.dumps(export))
    capsys.readouterr()
    assert main(["import", str(export_path), "--run", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"cycle 0: {len(samples)} labels" in text and "query_cycle_01.json" in text
    labels = _labels(out)
    assert sorted(labels) == sorted(samples)
    for i in samples:
        np.testing.assert_allclose(labels[i], video.keypoints[i], atol=1e-6)  # v = 1 kept through meta
    assert (out / "query_cycle_01.json").is_file()
    # importing the same export again: its answers belong to cycle 0 (taken then), none to cycle 1: refused
    assert main(["import", str(export_path), "--run", str(out)]) == 2
    err = capsys.readouterr().err
    assert "no answer to the" in err and "queried in cycle 1" in err
    assert f"({len(samples)} answers of earlier cycles); nothing was taken" in err
    assert len(json.loads((out / "state.json").read_text())["records"]) == 1  # cycle 1 still pending


def test_cvat_round_trip_and_a_bad_answer_changes_nothing(tmp_path, capsys):
    from vatl.data.formats.cvat import write_cvat

    clip = human_clip(tmp_path / "clip")
    video = load_video(clip)
    out, query, samples = _start(tmp_path, clip)
    upload = tmp_path / "upload.json"
    assert main(["export", str(query), "--to", "cvat", "--out", str(upload)]) == 0
    written = json.loads(upload.read_text())
    assert [a["attributes"]["track_id"] for a in written["annotations"]] == [int(video.track_id[i]) for i in samples]
    truth = json.loads(write_cvat(video, tmp_path / "truth.json", samples).read_text())
    bad = copy.deepcopy(truth)
    bad["annotations"][0]["keypoints"][2] = 7  # v = 7
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    assert main(["import", str(tmp_path / "bad.json"), "--run", str(out)]) == 2
    assert "v = 7" in capsys.readouterr().err and _labels(out) == {}  # refused whole
    (tmp_path / "cvat_export.json").write_text(json.dumps(truth))
    assert main(["import", str(tmp_path / "cvat_export.json"), "--run", str(out), "--from", "cvat"]) == 0
    labels = _labels(out)
    for i in samples:
        np.testing.assert_allclose(labels[i], video.keypoints[i])


def test_sleap_round_trip(tmp_path):
    sio = pytest.importorskip("sleap_io")
    clip = animal_clip_slp(tmp_path / "clip")
    video = load_video(clip)
    out, query, samples = _start(tmp_path, clip)
    slp = tmp_path / "query.slp"
    assert main(["export", str(query), "--to", "slp", "--out", str(slp)]) == 0
    labels = sio.load_slp(str(slp))
    sample_of = {(int(video.frame_index[i]), int(video.track_id[i])): i for i in range(video.num_samples)}
    for lf in labels.labeled_frames:
        for pred in list(lf.predicted_instances):  # corrected to the truth in SLEAP
            i = sample_of[(lf.frame_idx, int(pred.track.name))]
            lf.instances.append(sio.Instance.from_numpy(video.keypoints[i, :, :2], skeleton=pred.skeleton,
                                                        track=pred.track, from_predicted=pred))
    sio.save_slp(labels, str(tmp_path / "corrected.slp"), verbose=False)
    assert main(["import", str(tmp_path / "corrected.slp"), "--run", str(out)]) == 0
    got = _labels(out)
    assert sorted(got) == sorted(samples)
    for i in samples:
        np.testing.assert_allclose(got[i], video.keypoints[i], atol=1e-4)


def test_deeplabcut_round_trip(tmp_path):
    pytest.importorskip("sleap_io")
    from vatl.data.formats.sleap import write_dlc

    clip = animal_clip_slp(tmp_path / "clip")
    video = load_video(clip)
    out, query, samples = _start(tmp_path, clip)
    assert main(["export", str(query), "--to", "dlc", "--out", str(tmp_path / "project")]) == 0
    corrected = write_dlc(video, tmp_path / "project", samples)  # the annotator saves the true points
    assert main(["import", str(corrected), "--run", str(out)]) == 0
    got = _labels(out)
    for i in samples:
        np.testing.assert_allclose(got[i], video.keypoints[i], atol=1e-6)


def test_the_import_command_module_and_source_detection(tmp_path):
    command = importlib.import_module("vatl.commands.import")
    (tmp_path / "ls.json").write_text("[]")
    (tmp_path / "coco.json").write_text(json.dumps({"annotations": [], "categories": [], "images": []}))
    (tmp_path / "other.json").write_text("{}")
    assert command.detect_source(tmp_path / "ls.json") == "labelstudio"
    assert command.detect_source(tmp_path / "coco.json") == "cvat"
    assert command.detect_source(tmp_path / "x.slp") == "slp"
    assert command.detect_source(tmp_path / "CollectedData_me.csv") == "dlc"
    with pytest.raises(ValueError, match="name the tool with --from"):
        command.detect_source(tmp_path / "other.json")
