"""The video's name from the data, and image paths of written files that resolve from where they are."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from skeleton_clips import human_clip

from vatl.data.formats import load_video, save_video
from vatl.data.formats._files import video_name, written_file_name
from vatl.data.video import Frame


def test_video_name_comes_from_the_data_then_the_frames_folder_then_the_file():
    frames = [Frame(path=Path("/d/clips/walk_03/000001.jpg"), image_id=1)]
    assert video_name(Path("/d/x/annotations.json"), {}, frames, vid_id="000342") == "000342"
    assert video_name(Path("/d/x/annotations.json"), {"videos": [{"id": 1, "name": "cam2"}]}, frames) == "cam2"
    assert video_name(Path("/d/x/a.json"), {"videos": [{"id": 1, "file_name": "v/cam3.mp4"}]}, []) == "cam3"
    assert video_name(Path("/d/x/annotations.json"), {"info": {"video": "game1"}}, frames) == "game1"
    assert video_name(Path("/d/x/annotations.json"), {}, frames) == "walk_03"
    # generic names (tool exports) are passed over: CVAT's layout names its folder
    generic = [Frame(path=Path("/d/export/images/default/f1.jpg"), image_id=1)]
    assert video_name(Path("/d/export/annotations/person_keypoints_default.json"), {}, generic) == "export"
    assert video_name(Path("/d/myclip.json"), {}, []) == "myclip"


def test_written_file_names_are_relative_inside_the_root_else_absolute(tmp_path):
    image = tmp_path / "data" / "frames" / "1.jpg"
    assert written_file_name(image, tmp_path / "data", "x") == "frames/1.jpg"
    assert written_file_name(image, tmp_path / "run", "x") == image.as_posix()
    assert written_file_name(image, tmp_path / "data", "x", absolute=True) == image.as_posix()
    assert written_file_name(None, tmp_path, "fallback.jpg") == "fallback.jpg"


def test_a_copy_written_elsewhere_reads_back_and_absolute_paths_on_request(tmp_path):
    clip = human_clip(tmp_path / "clip", frames=2)
    video = load_video(clip)
    beside = save_video(video, tmp_path / "clip" / "copy.json")
    assert [im["file_name"] for im in json.loads(beside.read_text())["images"]] == ["frames/000000.jpg",
                                                                                   "frames/000001.jpg"]
    away = save_video(video, tmp_path / "run" / "poses.json", scores=np.ones(video.num_samples),
                      keypoint_scores=np.full(video.keypoints.shape[:2], 0.5))
    doc = json.loads(away.read_text())
    assert all(Path(im["file_name"]).is_absolute() for im in doc["images"])
    assert doc["annotations"][0]["scores"] == [0.5] * 15 and doc["annotations"][0]["keypoints"][2] == 2
    again = load_video(away, image_root=tmp_path / "clip")
    assert [f.path for f in again.frames] == [f.path for f in video.frames]
    absolute = save_video(video, tmp_path / "clip" / "abs.json", absolute_paths=True)
    assert all(Path(im["file_name"]).is_absolute() for im in json.loads(absolute.read_text())["images"])
    assert away.stat().st_mode == beside.stat().st_mode
