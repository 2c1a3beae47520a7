import json
import os

import numpy as np
import pytest
import torch
from estimator_testdata import BONN_JSON, TINY_SET, tiny_video

from vatl.estimator.checkpoint import load_checkpoint, read_checkpoint
from vatl.estimator.models import build_model
from vatl.estimator.pretrain import TrainingSet, pretrain
from vatl.estimator.train import TrainConfig


def test_killed_pretraining_resumes_to_the_same_weights(tmp_path):
    video = tiny_video(tmp_path, num_frames=4, num_tracks=2)
    config = TrainConfig(lr=1e-3, batch_size=4)

    def run(out, epochs, resume=True):
        model = build_model("cpu_small", TINY_SET, seed=0)
        train = TrainingSet.from_videos([video], model.input_size)
        rec = pretrain(model, train, [], config, epochs, out, seed=3, resume=resume, record={"command": "test"})
        return model, rec

    full, rec_full = run(tmp_path / "a", 3)
    run(tmp_path / "b", 2)  # "killed" after two epochs
    resumed, rec_resumed = run(tmp_path / "b", 3)
    for (name, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    assert [h["loss"] for h in rec_full["history"]] == [h["loss"] for h in rec_resumed["history"]]
    saved = read_checkpoint(tmp_path / "b" / "last.pt")
    assert saved["training"]["seed"] == 3 and saved["training"]["command"] == "test"
    assert len(saved["training"]["history"]) == 3 and "resume" in saved
    assert "resume" not in read_checkpoint(tmp_path / "b" / "final.pt")
    model = build_model("cpu_small", TINY_SET, seed=0)
    train = TrainingSet.from_videos([video], model.input_size)
    with pytest.raises(ValueError, match="another model or training config"):
        pretrain(model, train, [], TrainConfig(lr=5e-4), 4, tmp_path / "b")
    saved_data = {"train_annotations_sha256": "abc"}
    pretrain(model, train, [], config, 1, tmp_path / "c", record=saved_data)
    with pytest.raises(ValueError, match="trained on other data"):
        pretrain(model, train, [], config, 2, tmp_path / "c", record={"train_annotations_sha256": "def"})


def test_pretrain_command_on_a_posetrack21_folder(tmp_path):
    if not BONN_JSON.is_file():
        pytest.skip("bonn_posetrack data not available")
    from vatl.cli import main

    for split in ("train", "val"):
        (tmp_path / "posetrack_data" / split).mkdir(parents=True)
        (tmp_path / "posetrack_data" / split / BONN_JSON.name).write_text(BONN_JSON.read_text())
    os.symlink(BONN_JSON.resolve().parents[2] / "images", tmp_path / "images")
    out = tmp_path / "run"
    code = main(["pretrain", str(tmp_path), "--epochs", "1", "--batch-size", "64", "--out", str(out),
                 "--seed", "1", "--export", str(tmp_path / "exported.pt")])
    assert code == 0
    model = load_checkpoint(tmp_path / "exported.pt")
    assert model.keypoint_set.name == "posetrack21"
    record = model.record
    assert record["seed"] == 1 and record["train_samples"] == 164 and record["train_files"] == [BONN_JSON.name]
    assert record["command"].startswith(f"vatl pretrain {tmp_path} --split train --model cpu_small --epochs 1 ")
    assert "--seed 1" in record["command"]
    assert set(record["history"][0]) >= {"epoch", "loss", "lr", "val_AP@0.6", "val_AP"}
    assert np.isfinite(record["history"][0]["val_AP@0.6"])
    json.dumps(record)  # the record is plain JSON
