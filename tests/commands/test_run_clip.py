"""`vatl run` on a clip: the person-oracle loop from an mp4 (query written, cycles finished from answer
files, poses and overlay at the end), and the default estimator (BlazePose) when nobody annotates."""

import json
import sys
from pathlib import Path

import pytest

from vatl.cli import main
from vatl.estimator.blazepose.fetch import cached_model_path
from vatl.video.reader import open_frames

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "video"))
from video_testdata import write_clip, write_mot  # noqa: E402

FRAMES = 10


@pytest.fixture()
def clip(tmp_path):
    write_clip(tmp_path / "walk.mp4", frames=FRAMES)
    return tmp_path / "walk.mp4", write_mot(tmp_path / "det.txt", FRAMES, extra=True)


def answer(run: Path, cycle: int, reject: int | None = None) -> dict:
    query = json.loads((run / f"query_cycle_{cycle:02d}.json").read_text())
    answers = {str(r["sample"]): "accept" for r in query["query"]}
    if reject is not None:
        answers[str(reject)] = "reject"
    (run / f"answers_cycle_{cycle:02d}.json").write_text(json.dumps({"labels": answers}))
    return query


def test_person_oracle_on_a_clip_writes_queries_then_poses_and_overlay(clip, tmp_path, capsys, random_checkpoint):
    video, det = clip
    run = tmp_path / "run"
    args = ["run", str(video), "--out", str(run), "--oracle", "person", "--detections", str(det),
            "--checkpoint", str(random_checkpoint), "--criterion", "random", "--schedule", "30,100",
            "--max-epochs", "1", "--track-gap", "0"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "query_cycle_00.json" in out and "estimator: checkpoint" in out
    assert (run / "ingest" / "tracks.json").is_file() and not (run / "poses_coco.json").exists()
    query = answer(run, 0)
    assert len(query["query"]) == 6  # 30 % of the 20 people (the weak false box stays untracked)
    assert len(list((run / "query_cycle_00").glob("sample_*.jpg"))) == 6
    assert main(args) == 0  # cycle 0 from its answers, then the query of cycle 1
    assert "query_cycle_01.json" in capsys.readouterr().out
    rejected = json.loads((run / "query_cycle_01.json").read_text())["query"][0]["sample"]
    answer(run, 1, reject=rejected)
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "overlay.mp4" in out and "poses_posetrack21.json" in out
    assert "no ground truth: AP and ALC are not measured" in out and "ALC: —" not in out
    poses = json.loads((run / "poses_coco.json").read_text())
    assert len(poses["annotations"]) == 19 and {a["track_id"] for a in poses["annotations"]} == {0, 1}
    assert all(len(a["keypoints"]) == 17 * 3 for a in poses["annotations"])
    overlay = open_frames(run / "overlay.mp4")
    assert overlay.num_frames == FRAMES and (overlay.width, overlay.height) == (160, 96)
    results = json.loads((run / "results.json").read_text())
    assert results["final"]["num_rejected"] == 1 and results["rejected"] == [rejected]
    before = (run / "poses_coco.json").read_bytes()
    assert main(args[:4] + args[6:]) == 2  # without --oracle (none for a clip): the ATL run is not overwritten
    assert "holds an ATL run" in capsys.readouterr().err and (run / "poses_coco.json").read_bytes() == before


def test_simulated_oracle_on_a_clip_is_a_clear_error(clip, tmp_path, capsys, random_checkpoint):
    video, det = clip
    assert main(["run", str(video), "--out", str(tmp_path / "r"), "--oracle", "simulated", "--detections", str(det),
                 "--checkpoint", str(random_checkpoint)]) == 2
    assert "no ground-truth keypoints" in capsys.readouterr().err


@pytest.mark.skipif(not cached_model_path().is_file(),
                    reason="BlazePose is not cached (run `vatl blazepose fetch`; make setup does)")
def test_a_clip_without_an_annotator_gets_blazepose_poses(clip, tmp_path, capsys):
    video, det = clip
    run = tmp_path / "run"
    assert main(["run", str(video), "--out", str(run), "--detections", str(det), "--keypoints", "coco17"]) == 0
    out = capsys.readouterr().out
    assert "estimator: BlazePose GHUM full" in out and "coco17" in out
    poses = json.loads((run / "poses_coco.json").read_text())
    assert len(poses["annotations"]) == 2 * FRAMES and len(poses["categories"][0]["keypoints"]) == 17
    assert not (run / "poses_posetrack21.json").exists()  # the PoseTrack21 layout is for the PoseTrack21 set
    assert open_frames(run / "overlay.mp4").num_frames == FRAMES
