"""`vatl run` on a user's own skeleton from a pretrained checkpoint, with no hand edits (issue 15):
a 15-joint human clip (COCO keypoints with track_id) and a 13-node animal clip (SLEAP, and COCO with and
without skeleton edges), made for the test with OpenCV."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from skeleton_clips import FLY_NAMES, HUMAN_NAMES, animal_clip_coco, animal_clip_slp, human_clip

from vatl.cli import main
from vatl.data.formats import load_video

FAST = ["--schedule", "50,100", "--max-epochs", "1", "--threads", "1"]


def test_human_clip_runs_from_the_default_checkpoint_and_says_what_was_mapped(tmp_path, capsys):
    clip = human_clip(tmp_path / "clip")
    out = tmp_path / "run"
    assert main(["run", str(clip), "--out", str(out), *FAST]) == 0
    text = capsys.readouterr().out
    assert "new output layer for 'person' (15 slots) from 'posetrack21' (17): 13 mapped directly" in text
    assert "Neck ← head_bottom (synonym)" in text and "LShoulder ← left_shoulder (same name)" in text
    assert "Belly ← mean of head_bottom, left_hip, right_hip (skeleton neighbours)" in text
    assert "OKS sigmas (person): COCO's sigmas by joint name; the default 0.025 for Neck, Belly, Face" in text
    results = json.loads((out / "results.json").read_text())
    assert results["video"] == "dance_clip"  # the name from the data (info.video), not the file's
    assert results["config"]["criterion"] == "thc+wpu+duw" and results["final"]["labeled_percent"] == 100.0
    plan = json.loads((out / "transfer.json").read_text())
    assert [s["target"] for s in plan["slots"]] == list(HUMAN_NAMES)
    # the poses keep the visibility the annotator gave (person 0's face is occluded on even frames)
    video = load_video(clip)
    poses = load_video(out / "poses_coco.json", image_root=clip.parent)
    np.testing.assert_array_equal(poses.keypoints[..., 2], video.keypoints[..., 2])
    assert (poses.keypoints[..., 2] == 1).sum() == 4
    # written with the permissions of the run's other outputs, image paths resolving from the run folder
    assert (out / "poses_coco.json").stat().st_mode == (out / "results.json").stat().st_mode
    assert [f.path for f in poses.frames] == [f.path for f in video.frames]
    # the same command resumes (the transferred model is rebuilt the same way)
    assert main(["run", str(clip), "--out", str(out), *FAST]) == 0


def test_animal_clip_from_sleap_runs_with_the_default_criterion(tmp_path, capsys):
    pytest.importorskip("sleap_io")
    clip = animal_clip_slp(tmp_path / "clip")
    out = tmp_path / "run"
    assert main(["run", str(clip), "--out", str(out), *FAST]) == 0
    text = capsys.readouterr().out
    assert "new output layer for 'fly' (13 slots) from 'posetrack21' (17): 0 mapped directly" in text
    assert "wingL ← mean of all 17 source slots (no match)" in text
    results = json.loads((out / "results.json").read_text())
    assert results["video"] == "flies" and results["num_samples"] == 16
    assert results["config"]["criterion"] == "thc+wpu+duw"  # WPU's angles come from the skeleton's edges
    assert (out / "poses_coco.json").is_file()  # SLEAP has no JSON writer: the poses are COCO keypoints
    poses = load_video(out / "poses_coco.json", image_root=clip.parent)
    assert poses.keypoint_set.keypoints == FLY_NAMES


def test_animal_clip_without_skeleton_is_refused_before_cycle_0_or_falls_back(tmp_path, capsys):
    clip = animal_clip_coco(tmp_path / "clip", skeleton=False)
    out = tmp_path / "run"
    assert main(["run", str(clip), "--out", str(out), *FAST]) == 2
    err = capsys.readouterr().err
    assert "criterion 'thc+wpu+duw' cannot run on video" in err and "WPU needs joint angles" in err
    assert "--fallback thc+duw" in err
    assert not out.exists()  # refused before anything was written: no cycle, no state
    assert main(["run", str(clip), "--out", str(out), *FAST, "--fallback", "thc+duw"]) == 0
    text = capsys.readouterr().out
    assert "criterion 'thc+wpu+duw': WPU needs joint angles" in text and "running 'thc+duw' instead" in text
    assert json.loads((out / "config.json").read_text())["criterion"] == "thc+duw"
    assert main(["run", str(clip), "--out", str(out), *FAST, "--fallback", "nonsense"]) == 2


def test_a_mapping_file_overrides_the_names(tmp_path, capsys):
    clip = human_clip(tmp_path / "clip")
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"Face": "nose", "Belly": ["left_hip", "right_hip"]}))
    out = tmp_path / "run"
    assert main(["run", str(clip), "--out", str(out), *FAST, "--mapping", str(mapping)]) == 0
    text = capsys.readouterr().out
    assert "Face ← nose (mapping file)" in text and "Belly ← mean of left_hip, right_hip (mapping file)" in text
    assert json.loads((out / "inputs.json").read_text())["mapping"] == str(mapping.resolve())
    mapping.write_text(json.dumps({"Face": "chin"}))
    assert main(["run", str(clip), "--out", str(tmp_path / "run2"), *FAST, "--mapping", str(mapping)]) == 2
    assert "source slot(s) ['chin'] for 'Face' are not in the model's keypoint set" in capsys.readouterr().err


def test_several_videos_run_side_by_side_each_in_its_folder_and_resume(tmp_path, capsys, random_checkpoint):
    from vatl.data.synthetic.generate import run_jobs, video_jobs

    jobs = video_jobs(tmp_path / "data", "source", videos=2, frames=6, width=192, height=144, seed=5)
    run_jobs(jobs, workers=1)
    paths = [str(j.json_path) for j in jobs]
    out = tmp_path / "runs"
    args = ["run", *paths, "--out", str(out), "--checkpoint", str(random_checkpoint), "--schedule", "50,100",
            "--max-epochs", "1", "--workers", "2", "--threads", "1"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "2 videos" in text and text.count("ALC ") == 2
    finished = []
    for path in paths:
        results = out / Path(path).stem / "results.json"
        assert json.loads(results.read_text())["final"]["labeled_percent"] == 100.0
        finished.append(results.stat().st_mtime_ns)
    assert main(args) == 0  # finished runs are not redone
    assert [(out / Path(p).stem / "results.json").stat().st_mtime_ns for p in paths] == finished
    capsys.readouterr()
    assert main([*args, "--oracle", "person"]) == 2
    assert "simulated annotator only" in capsys.readouterr().err
    assert main(["run", paths[0], paths[0], "--out", str(out)]) == 2
    assert "share the run folder" in capsys.readouterr().err
