"""Transfer to another keypoint set: the plan (names, synonyms, mapping file, neighbours) and the new layer."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from skeleton_clips import HUMAN_EDGES, HUMAN_NAMES

from vatl.estimator.checkpoint import adapt_keypoint_set, default_checkpoint_path, load_checkpoint
from vatl.estimator.models import build_model
from vatl.estimator.transfer import FRESH_STD, load_mapping_file, new_output_layer, plan_transfer, transfer_model
from vatl.skeletons import COCO17, POSETRACK21, KeypointSet

HUMAN15 = KeypointSet("person15", HUMAN_NAMES, (0.05,) * 15, skeleton=HUMAN_EDGES)


def test_plan_matches_case_separators_sides_and_synonyms():
    plan = plan_transfer(POSETRACK21, HUMAN15)
    by_target = dict(zip(HUMAN15.keypoints, zip(plan.sources, plan.how)))
    src = POSETRACK21.keypoints
    assert by_target["LShoulder"] == ((src.index("left_shoulder"),), "name")
    assert by_target["RAnkle"] == ((src.index("right_ankle"),), "name")
    assert by_target["Neck"] == ((src.index("head_bottom"),), "synonym")
    # Belly (no source) starts from its skeleton neighbours Neck, LHip, RHip
    assert by_target["Belly"] == (tuple(sorted(src.index(n) for n in ("head_bottom", "left_hip", "right_hip"))),
                                  "neighbours")
    assert sum(plan.direct) == 13 and not plan.direct[HUMAN15.index("Belly")]
    assert "13 mapped directly, 2 started from other filters (Belly, Face)" in plan.summary()
    assert json.loads(json.dumps(plan.to_dict()))["slots"][0] == {"target": "Neck", "sources": ["head_bottom"],
                                                                  "how": "synonym"}


def test_plan_without_any_match_starts_every_slot_from_all_filters():
    fly = KeypointSet("fly", ("head", "thorax", "wingL"), (0.05,) * 3, skeleton=((0, 1), (1, 2)))
    plan = plan_transfer(COCO17, fly)
    assert plan.how == ("all",) * 3 and plan.sources[0] == tuple(range(17)) and not any(plan.direct)


def test_mapping_file_entries_and_errors(tmp_path):
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"Face": "nose", "Belly": ["left_hip", "right_hip"], "LWrist": None}))
    mapping = load_mapping_file(path)
    assert mapping == {"Face": ["nose"], "Belly": ["left_hip", "right_hip"], "LWrist": []}
    plan = plan_transfer(COCO17, HUMAN15, mapping)
    i = HUMAN15.index
    assert plan.how[i("Face")] == "mapping" and plan.sources[i("Face")] == (0,)
    assert plan.sources[i("Belly")] == (11, 12) and plan.how[i("LWrist")] == "new" and plan.sources[i("LWrist")] == ()
    with pytest.raises(ValueError, match="target slot 'Chin' is not in keypoint set 'person15'"):
        plan_transfer(COCO17, HUMAN15, {"Chin": ["nose"]})
    with pytest.raises(ValueError, match=r"source slot\(s\) \['snout'\] for 'Face'"):
        plan_transfer(COCO17, HUMAN15, {"Face": ["snout"]})
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="map.json: expected an object"):
        load_mapping_file(path)
    path.write_text(json.dumps({"Face": 3}))
    with pytest.raises(ValueError, match="entry 'Face': expected a source slot name"):
        load_mapping_file(path)
    with pytest.raises(FileNotFoundError, match="nope.json does not exist"):
        load_mapping_file(tmp_path / "nope.json")


def test_new_output_layer_averages_filters_and_starts_empty_slots_fresh():
    torch.manual_seed(0)
    old = torch.nn.Conv2d(8, 4, 1)
    new = new_output_layer(old, [[2], [0, 3], []])
    assert new.out_channels == 3 and new.in_channels == 8
    assert torch.equal(new.weight[0], old.weight[2]) and torch.equal(new.bias[0], old.bias[2])
    torch.testing.assert_close(new.weight[1], (old.weight[0] + old.weight[3]) / 2)
    assert new.bias[2] == 0 and 0 < new.weight[2].abs().max() < 10 * FRESH_STD
    assert torch.equal(new_output_layer(old, [[], []]).weight, new_output_layer(old, [[], []]).weight)  # seeded
    with pytest.raises(ValueError, match="outside 0..3"):
        new_output_layer(old, [[4]])
    with pytest.raises(ValueError, match="needs a 1×1 convolution"):
        new_output_layer(torch.nn.Conv2d(8, 4, 3), [[0]])


def test_transfer_of_the_embedded_checkpoint_keeps_the_directly_mapped_heatmaps():
    source = load_checkpoint(default_checkpoint_path())
    x = source.prepare(np.random.default_rng(0).integers(0, 255, (2, 128, 96, 3), dtype=np.uint8))
    with torch.no_grad():
        before, feat_before = source(x)
    model, plan = transfer_model(source, HUMAN15)
    with torch.no_grad():
        after, feat_after = model(x)
    assert after.shape[1] == 15 and torch.equal(feat_after, feat_before)
    for i, (src, direct) in enumerate(zip(plan.sources, plan.direct)):
        if direct:
            torch.testing.assert_close(after[:, i], before[:, src[0]])
    assert model.record["transfer"]["target"] == "person15" and not model.training


def test_transfer_to_the_same_names_only_takes_the_new_set():
    model = build_model("cpu_small", POSETRACK21, seed=0)
    weight = model.final_layer.weight.detach().clone()
    with_sigmas = KeypointSet("posetrack21_mine", POSETRACK21.keypoints, (0.1,) * 17)
    same, plan = transfer_model(model, with_sigmas)
    assert plan.is_identity and same is model and same.keypoint_set is with_sigmas
    assert torch.equal(same.final_layer.weight, weight)


def test_adapt_keypoint_set_uses_the_plan():
    model = build_model("cpu_small", COCO17, seed=0)
    old = model.final_layer.weight.detach().clone()
    adapt_keypoint_set(model, POSETRACK21)
    # head_bottom (no COCO slot) starts from its skeleton neighbours nose and shoulders
    torch.testing.assert_close(model.final_layer.weight[1], old[[0, 5, 6]].mean(0))
