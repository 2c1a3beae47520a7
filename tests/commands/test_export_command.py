"""vatl export: a query or a poses/video file to each tool, and a SLEAP file to vatl's JSON (to run on it)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
from skeleton_clips import animal_clip_slp, human_clip

from vatl.cli import main
from vatl.data.formats import load_video

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "video"))


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


def _clip_run(tmp_path, random_checkpoint, folder: bool = False):
    """A `vatl run walk.mp4 --oracle person` run (``folder``: on a folder of JPEG frames) left at its first
    query (boxes from a MOT file)."""
    import cv2
    from video_testdata import draw_frame, write_clip, write_mot

    clip = tmp_path / "walk.mp4"
    if folder:
        clip = tmp_path / "walk"
        clip.mkdir()
        for f in range(6):
            cv2.imwrite(str(clip / f"frame{f:03d}.jpg"), cv2.cvtColor(draw_frame(f), cv2.COLOR_RGB2BGR))
    else:
        write_clip(clip, frames=6)
    det = write_mot(tmp_path / "det.txt", 6)
    run = tmp_path / "run"
    assert main(["run", str(clip), "--out", str(run), "--oracle", "person", "--detections", str(det),
                 "--checkpoint", str(random_checkpoint), "--criterion", "random", "--schedule", "50,100",
                 "--max-epochs", "1", "--track-gap", "0"]) == 0
    return clip, run


def test_a_clip_runs_query_exports_with_its_frames_as_images(tmp_path, capsys, random_checkpoint):
    from vatl.atl.runner import spec_from_run_folder
    from vatl.data.formats.cvat import read_cvat_answers
    from vatl.data.formats.labelstudio import read_labelstudio_answers
    from vatl.video.ingest import load_input

    clip, run = _clip_run(tmp_path, random_checkpoint)
    query_file = run / "query_cycle_00.json"
    query = [r["sample"] for r in json.loads(query_file.read_text())["query"]]
    spec = spec_from_run_folder(run)
    video = load_input(clip, spec.video, run)  # as `vatl import` sees it: frames decode from the mp4
    assert video.frames[0].path is None
    frames = sorted({int(video.frame_index[i]) for i in query})
    capsys.readouterr()

    assert main(["export", str(query_file), "--to", "labelstudio", "--out", str(tmp_path / "ls" / "tasks.json")]) == 0
    assert "frames written as images" in capsys.readouterr().out
    images = sorted(p.name for p in (tmp_path / "ls" / "tasks_frames").glob("*.jpg"))
    assert images == [f"{f:06d}.jpg" for f in frames]
    tasks = json.loads((tmp_path / "ls" / "tasks.json").read_text())
    assert [t["data"]["image"] for t in tasks] == [f"/data/local-files/?d={f:06d}.jpg" for f in frames]
    first = video.keypoint_set.keypoints[0]
    for t in tasks:  # the annotator puts the first keypoint at the centre of each person's box
        boxes = [r for r in t["predictions"][0]["result"] if r["type"] == "rectanglelabels"]
        points = [{**b, "id": b["id"] + "-p", "parentID": b["id"], "type": "keypointlabels", "from_name": "keypoints",
                   "value": {"x": b["value"]["x"] + b["value"]["width"] / 2, "y": b["value"]["y"] + b["value"]["height"] / 2,
                             "width": 0.5, "keypointlabels": [first]}} for b in boxes]
        t["annotations"] = [{"result": boxes + points}]
    (tmp_path / "ls" / "export.json").write_text(json.dumps(tasks))
    answers = read_labelstudio_answers(tmp_path / "ls" / "export.json", video)
    assert sorted(answers) == sorted(query)
    for i in query:
        x, y, w, h = video.boxes[i]
        np.testing.assert_allclose(answers[i][0], [x + w / 2, y + h / 2, 2.0], atol=1e-6)
        assert (answers[i][1:] == 0).all()

    assert main(["export", str(query_file), "--to", "cvat", "--out", str(tmp_path / "cvat.json")]) == 0
    doc = json.loads((tmp_path / "cvat.json").read_text())
    assert [im["file_name"] for im in doc["images"]] == [f"{f:06d}.jpg" for f in frames]
    assert (doc["images"][0]["width"], doc["images"][0]["height"]) == (video.frames[0].width, video.frames[0].height)
    for rec in doc["annotations"]:  # the annotator labels every point it sees
        kp = np.asarray(rec["keypoints"], dtype=float).reshape(-1, 3)
        kp[:, 2] = 2
        rec["keypoints"] = kp.ravel().tolist()
    (tmp_path / "cvat.json").write_text(json.dumps(doc))
    assert sorted(read_cvat_answers(tmp_path / "cvat.json", video)) == sorted(query)

    assert main(["export", str(query_file), "--to", "dlc", "--out", str(tmp_path / "dlc")]) == 0
    folder = tmp_path / "dlc" / "labeled-data" / "walk"
    assert sorted(p.name for p in folder.glob("*.jpg")) == [f"{f:06d}.jpg" for f in frames]
    assert (folder / "CollectedData_vatl.csv").is_file()


def test_a_clip_runs_query_exports_to_sleap_and_back(tmp_path, random_checkpoint):
    pytest.importorskip("sleap_io")
    from vatl.atl.runner import spec_from_run_folder
    from vatl.data.formats.sleap import read_slp_answers
    from vatl.video.ingest import load_input

    clip, run = _clip_run(tmp_path, random_checkpoint)
    query_file = run / "query_cycle_00.json"
    query = [r["sample"] for r in json.loads(query_file.read_text())["query"]]
    assert main(["export", str(query_file), "--to", "slp", "--out", str(tmp_path / "q.slp")]) == 0
    import sleap_io as sio

    labels = sio.load_slp(str(tmp_path / "q.slp"), open_videos=False)
    for lf in labels.labeled_frames:  # the annotator accepts each prediction as a user instance
        for pred in list(lf.predicted_instances):
            lf.instances.append(sio.Instance.from_numpy(pred.numpy(), skeleton=pred.skeleton, track=pred.track))
    sio.save_slp(labels, str(tmp_path / "done.slp"), verbose=False)
    video = load_input(clip, spec_from_run_folder(run).video, run)
    answers = read_slp_answers(tmp_path / "done.slp", video)
    assert sorted(answers) == sorted(query)


def test_a_frame_folder_runs_query_exports_with_the_folders_images(tmp_path, random_checkpoint):
    clip, run = _clip_run(tmp_path, random_checkpoint, folder=True)
    query_file = run / "query_cycle_00.json"
    assert main(["export", str(query_file), "--to", "labelstudio", "--out", str(tmp_path / "tasks.json"),
                 "--image-root", str(clip)]) == 0
    tasks = json.loads((tmp_path / "tasks.json").read_text())
    assert tasks and all(t["data"]["image"].startswith("/data/local-files/?d=frame0") for t in tasks)
    assert not (tmp_path / "tasks_frames").exists()  # the frames have image files: none written
