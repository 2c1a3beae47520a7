"""vatl export: a query or a poses/video file to each tool, and a SLEAP file to vatl's JSON (to run on it)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from skeleton_clips import animal_clip_slp, human_clip

from vatl.cli import main
from vatl.data.formats import load_video


def test_poses_of_a_finished_run_to_cvat_and_labelstudio(tmp_path, capsys):
    clip = human_clip(tmp_path / "clip", frames=4)
    out = tmp_path / "run"
    assert main(["run", str(clip), "--out", str(out), "--schedule", "50,100", "--max-epochs", "1",
                 "--criterion", "random"]) == 0
    poses = out / "poses_coco.json"
    assert main(["export", str(poses), "--to", "cvat", "--out", str(tmp_path / "cvat.json"),
                 "--image-root", str(tmp_path / "clip")]) == 0
    doc = json.loads((tmp_path / "cvat.json").read_text())
    assert doc["images"][0]["file_name"] == "frames/000000.jpg" and len(doc["annotations"]) == 8
    video = load_video(clip)
    kp = np.asarray(doc["annotations"][0]["keypoints"]).reshape(-1, 3)
    assert set(kp[:, 2]) <= {1.0, 2.0}  # labels keep their visibility
    assert main(["export", str(poses), "--to", "labelstudio", "--out", str(tmp_path / "ls.json"),
                 "--image-root", str(tmp_path / "clip"), "--image-prefix", "http://host/"]) == 0
    tasks = json.loads((tmp_path / "ls.json").read_text())
    assert tasks[0]["data"]["image"] == "http://host/frames/000000.jpg" and len(tasks) == len(video.frames)
    assert main(["export", str(poses), "--to", "coco", "--out", str(tmp_path / "q.json")]) == 2  # images outside
    assert "lies outside the image root" in capsys.readouterr().err


def test_a_sleap_file_converts_to_coco_keypoints_to_run_on(tmp_path):
    pytest.importorskip("sleap_io")
    clip = animal_clip_slp(tmp_path / "clip", frames=3)
    out = tmp_path / "clip" / "flies.json"
    assert main(["export", str(clip), "--to", "coco", "--out", str(out)]) == 0
    back, original = load_video(out), load_video(clip)
    np.testing.assert_allclose(back.keypoints, original.keypoints)
    assert back.keypoint_set.keypoints == original.keypoint_set.keypoints
    assert back.keypoint_set.flip_pairs == original.keypoint_set.flip_pairs
    assert back.keypoint_set.angle_triples == original.keypoint_set.angle_triples  # from the written skeleton
    assert [f.path for f in back.frames] == [f.path for f in original.frames]


def test_a_query_file_needs_its_run_folder(tmp_path, capsys):
    query = tmp_path / "query_cycle_00.json"
    query.write_text(json.dumps({"video": "x", "keypoints": [], "answer_format": "", "query": []}))
    assert main(["export", str(query), "--to", "labelstudio", "--out", str(tmp_path / "t.json")]) == 2
    assert "not a run folder that can be reopened" in capsys.readouterr().err
