"""vatl transfer CKPT --to VIDEO --out NEW: a checkpoint for the video's keypoint set that loads and runs."""

from __future__ import annotations

import json

from skeleton_clips import HUMAN_NAMES, human_clip

from vatl.cli import main
from vatl.estimator.checkpoint import default_checkpoint_path, load_checkpoint


def test_transfer_writes_a_checkpoint_for_the_video_set(tmp_path, capsys):
    clip = human_clip(tmp_path / "clip")
    out = tmp_path / "mine.pt"
    assert main(["transfer", str(default_checkpoint_path()), "--to", str(clip), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "13 mapped directly" in text and "Neck ← head_bottom (synonym)" in text
    model = load_checkpoint(out)
    assert model.keypoint_set.keypoints == HUMAN_NAMES and model.num_keypoints == 15
    assert model.record["transfer"]["source"] == "posetrack21"
    assert model.record["transferred_from"] == str(default_checkpoint_path()) and "transfer_command" in model.record
    # a run from the transferred checkpoint needs no further transfer
    assert main(["run", str(clip), "--out", str(tmp_path / "run"), "--checkpoint", str(out), "--schedule", "100",
                 "--max-epochs", "0", "--criterion", "random"]) == 0
    assert "new output layer" not in capsys.readouterr().out
    assert not (tmp_path / "run" / "transfer.json").exists()


def test_transfer_to_a_built_in_set_and_with_a_mapping_file(tmp_path, capsys):
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({"left_ear": "head_top", "right_ear": ["head_top"]}))
    out = tmp_path / "coco.pt"
    assert main(["transfer", str(default_checkpoint_path()), "--to", "coco17", "--out", str(out),
                 "--mapping", str(mapping)]) == 0
    text = capsys.readouterr().out
    assert "left_ear ← head_top (mapping file)" in text and "nose ← nose (same name)" in text
    assert load_checkpoint(out).keypoint_set.name == "coco17"
    assert main(["transfer", str(tmp_path / "missing.pt"), "--to", "coco17", "--out", str(out)]) == 2
    assert "missing.pt does not exist" in capsys.readouterr().err
