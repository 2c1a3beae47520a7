import numpy as np
import pytest
import torch
from criteria_testdata import BONN, grid_video, random_inputs

from vatl.criteria import SelectionContext
from vatl.criteria.wpu import (
    PoseAutoencoder,
    WPUScorer,
    default_autoencoder_path,
    feature_dim,
    label_features,
    load_autoencoder,
    new_autoencoder,
    prediction_features,
    reconstruction_error,
    save_autoencoder,
    train_autoencoder,
)
from vatl.criteria.wpu_pretrain import corrupt_poses, heldout_check, load_poses
from vatl.skeletons import COCO17, JRDB, POSETRACK21


def arm_pose():
    """Left shoulder (0,0), elbow (10,0), wrist (10,10), hip (0,20); everything else unlabeled."""
    kp = np.zeros((1, 17, 3))
    for slot, xy in ((5, (0, 0)), (7, (10, 0)), (9, (10, 10)), (11, (0, 20))):
        kp[0, slot] = (*xy, 1.0)
    return kp


BOX = np.array([[0.0, 0.0, 40.0, 100.0]])


def test_hybrid_feature_by_hand():
    f = label_features(arm_pose(), BOX, POSETRACK21)[0]
    assert f.shape == (42,) == (feature_dim(POSETRACK21),)
    x, y, angles = f[:17], f[17:34], f[34:]
    # centre of gravity (5, 7.5), divided by the box height 100
    np.testing.assert_allclose(x[[5, 7, 9, 11]], [-0.05, 0.05, 0.05, -0.05], atol=1e-7)
    np.testing.assert_allclose(y[[5, 7, 9, 11]], [-0.075, -0.075, 0.025, 0.125], atol=1e-7)
    assert not x[[0, 1, 2, 3, 4, 6, 8, 10, 12, 13, 14, 15, 16]].any()
    # left: shoulder angle 90° and elbow angle 90° -> 0.5; hip and knee have missing joints -> 0; right: 0
    np.testing.assert_allclose(angles, [0.5, 0.5, 0, 0, 0, 0, 0, 0], atol=1e-7)
    straight = arm_pose()
    straight[0, 9, :2] = (20, 0)
    assert label_features(straight, BOX, POSETRACK21)[0, 35] == pytest.approx(1.0)


def test_labels_and_predictions_share_the_feature():
    label = arm_pose()
    prediction = label.copy()  # confidence 1 where labeled, 0 elsewhere
    prediction[0, 3, :] = (300.0, 300.0, 1.0)  # an ear (never annotated in PoseTrack21) is ignored
    np.testing.assert_array_equal(prediction_features(prediction, BOX, POSETRACK21),
                                  label_features(label, BOX, POSETRACK21))
    # confidence weights the centre of gravity: a weight-3 shoulder pulls it to (20/6, 30/6)
    weighted = arm_pose()
    weighted[0, 5, 2] = 3.0
    f = prediction_features(weighted, BOX, POSETRACK21)[0]
    assert f[5] == pytest.approx(-1 / 30) and f[17 + 5] == pytest.approx(-0.05)
    # an ignored slot is missing for both
    assert not label_features(label, BOX, POSETRACK21, ignored=(9,))[0, [9, 26]].any()


def test_feature_for_other_keypoint_sets():
    for ks in (COCO17, JRDB):
        assert len(ks.angle_triples) == 8
        kp = np.random.default_rng(0).uniform(0, 50, size=(3, 17, 3))
        f = prediction_features(kp, np.tile(BOX, (3, 1)), ks)
        assert f.shape == (3, feature_dim(ks)) == (3, 42) and np.isfinite(f).all()


def test_autoencoder_shape_size_and_linear_output():
    ae = PoseAutoencoder(42)
    widths = [m.out_features for m in ae.encoder if isinstance(m, torch.nn.Linear)]
    assert widths == [24, 12, 7, 4]
    assert [m.out_features for m in ae.decoder if isinstance(m, torch.nn.Linear)] == [7, 12, 24, 42]
    assert sum(p.numel() for p in ae.parameters()) == 2948
    assert isinstance(ae.decoder[-1], torch.nn.Linear) and isinstance(ae.encoder[-1], torch.nn.Linear)
    # it learns to reproduce negative values
    x = np.full((64, 42), -0.3, dtype=np.float32)
    losses = train_autoencoder(ae, x, epochs=150, lr=1e-2, batch_size=64)
    assert losses[-1] < 1e-3 < losses[0]
    assert reconstruction_error(ae, x).max() < 1e-3


def test_training_is_deterministic_for_a_seed():
    x = np.random.default_rng(1).normal(size=(50, 42)).astype(np.float32)
    a, b = new_autoencoder(POSETRACK21, seed=3), new_autoencoder(POSETRACK21, seed=3)
    train_autoencoder(a, x, 3, 1e-3, 8, seed=5)
    train_autoencoder(b, x, 3, 1e-3, 8, seed=5)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)


def test_save_load_roundtrip_and_errors(tmp_path):
    ae = new_autoencoder(POSETRACK21, seed=0, ignored_slots=(0,))
    path = save_autoencoder(tmp_path / "ae.pt", ae, POSETRACK21, {"note": "x"})
    loaded, meta = load_autoencoder(path, POSETRACK21)
    x = np.random.default_rng(0).normal(size=(5, 42)).astype(np.float32)
    np.testing.assert_array_equal(reconstruction_error(loaded, x), reconstruction_error(ae, x))
    assert loaded.ignored_slots == (0,) and meta["info"] == {"note": "x"}
    with pytest.raises(ValueError, match="jrdb"):
        load_autoencoder(path, JRDB)
    with pytest.raises(FileNotFoundError, match="wpu-pretrain"):
        load_autoencoder(tmp_path / "missing.pt")


def test_corruptions_change_only_what_they_say():
    rng = np.random.default_rng(0)
    kp = arm_pose().repeat(4, axis=0)
    kp[:, 13, :] = (0, 40, 1)
    kp[:, 15, :] = (0, 60, 1)
    swapped = corrupt_poses(kp, np.tile(BOX, (4, 1)), POSETRACK21, "swap_limbs", rng)
    left = np.array([np.array_equal(s[[7, 9, 13, 15]], k[[13, 15, 7, 9]]) for s, k in zip(swapped, kp)])
    right = np.array([np.array_equal(s, k) for s, k in zip(swapped, kp)])  # right limbs are all unlabeled zeros
    assert (left | right).all() and left.any()
    moved = corrupt_poses(kp, np.tile(BOX, (4, 1)), POSETRACK21, "displace", rng, displacement=0.25, joints=2)
    shift = np.linalg.norm(moved[..., :2] - kp[..., :2], axis=2)
    assert ((shift > 0).sum(axis=1) == 2).all()
    np.testing.assert_allclose(shift[shift > 0], 25.0)
    assert not shift[:, kp[0, :, 2] == 0].any()  # unlabeled joints stay


@pytest.mark.skipif(not default_autoencoder_path(POSETRACK21).is_file(), reason="no shipped WPU autoencoder")
def test_shipped_autoencoder_scores_real_heldout_poses_lower_than_corrupted():
    folder = BONN / "val"
    if not folder.is_dir():
        pytest.skip("Bonn PoseTrack data not available")
    model, meta = load_autoencoder(default_autoencoder_path(POSETRACK21), POSETRACK21)
    assert not set(meta["info"]["report"]["heldout_videos"]) & {p.stem for p in folder.glob("*.json")}
    poses = load_poses(sorted(folder.glob("*.json"))[:6])  # the val split: never seen in pretraining
    assert len(poses.keypoints) > 300
    means, higher = heldout_check(model, poses, seed=0)
    assert means["real"] < means["displace"] < means["swap_limbs"]
    assert higher["swap_limbs"] > 0.9 and higher["displace"] > 0.8


def wpu_context(video, labeled, seed=0):
    _, features, keypoints, labels = random_inputs(video)
    unlabeled = np.ones(video.num_samples, dtype=bool)
    unlabeled[labeled] = False
    return SelectionContext(video=video, unlabeled=unlabeled, budget=2, keypoints=keypoints, features=features,
                            rng=np.random.default_rng(seed), label_keypoints=np.where(~unlabeled[:, None, None], labels, 0))


def test_scorer_restarts_from_the_pretrained_ae_every_cycle(tmp_path):
    video = grid_video(6, 2)
    base = new_autoencoder(POSETRACK21, seed=0)
    path = save_autoencoder(tmp_path / "ae.pt", base, POSETRACK21)
    scorer = WPUScorer(model_path=path, epochs=5)
    ctx = wpu_context(video, [0, 1, 2, 3])
    first = scorer.score(ctx)
    tuned = [p.detach().clone() for p in scorer.model.parameters()]
    assert any(not torch.equal(a, b) for a, b in zip(tuned, base.parameters()))  # it was fine-tuned
    pretrained = scorer.pretrained(POSETRACK21)
    assert all(torch.equal(a, b) for a, b in zip(pretrained.parameters(), base.parameters()))  # untouched
    again = scorer.score(wpu_context(video, [0, 1, 2, 3]))
    np.testing.assert_array_equal(first, again)  # same labels, same seed: same cycle result
    no_labels = scorer.score(wpu_context(video, []))
    np.testing.assert_allclose(no_labels, reconstruction_error(base, prediction_features(
        ctx.keypoints, video.boxes, POSETRACK21)), rtol=1e-6)


def test_wpu_pretrain_command_writes_a_loadable_ae_and_reports(tmp_path, capsys):
    folder = BONN / "train"
    if not folder.is_dir():
        pytest.skip("Bonn PoseTrack data not available")
    from vatl.cli import main

    files = [str(p) for p in sorted(folder.glob("*.json"))[:3]]
    out = tmp_path / "ae.pt"
    assert main(["wpu-pretrain", "--data", *files, "--out", str(out), "--epochs", "2", "--heldout", "0.34"]) == 0
    text = capsys.readouterr().out
    assert "swap_limbs" in text and "held out" in text and str(out) in text
    model, meta = load_autoencoder(out, POSETRACK21)
    report = meta["info"]["report"]
    assert len(report["heldout_videos"]) == 1 and len(report["train_videos"]) == 2
    assert report["ignored_slots"] == ["nose"]  # the Bonn data never labels the nose
    assert model.ignored_slots == (0,)
    assert main(["wpu-pretrain", "--data", str(tmp_path / "nowhere"), "--out", str(out)]) == 2


# ---------------------------------------------------- criterion × skeleton, checked before cycle 0 (issue 15)
def test_wpu_criteria_refuse_a_keypoint_set_without_angles():
    from vatl.criteria import get_criterion
    from vatl.criteria.base import UnsuitableCriterion
    from vatl.data.video import Video
    from vatl.skeletons import KeypointSet

    flat = KeypointSet("fly", ("head", "thorax", "wingL"), (0.025,) * 3)
    video = Video(name="v", keypoint_set=flat, frames=[], frame_index=[], track_id=[], boxes=[], keypoints=[],
                  annotation_ids=[])
    for name in ("wpu", "thc+wpu", "thc+wpu+duw", "wpu+duw"):
        with pytest.raises(UnsuitableCriterion, match=f"criterion '{name.replace('+', '.')}' cannot run on video 'v': "
                                                      "WPU needs joint angles.*no skeleton edges"):
            get_criterion(name).check(video)
    for name in ("thc", "thc+duw", "random", "coreset", "lc"):
        get_criterion(name).check(video)  # no WPU: fine
    chain = KeypointSet("fly", ("head", "thorax", "wingL"), (0.025,) * 3, skeleton=((0, 1), (1, 2)),
                        angle_triples=((0, 1, 2),))
    get_criterion("thc+wpu+duw").check(Video(name="v", keypoint_set=chain, frames=[], frame_index=[], track_id=[],
                                             boxes=[], keypoints=[], annotation_ids=[]))
