import numpy as np

from vatl.data.synthetic.body import NUM_PARAMS, BodyShape, J, P, forward_kinematics, sample_body_shape
from vatl.data.synthetic.motions import MOTIONS, motion_clip, rest_pose


def test_standing_figure_is_upright_about_one_height_tall_and_faces_the_camera():
    pts, _ = forward_kinematics(rest_pose(1), BodyShape())
    y = pts[0, :, 1]
    # y grows downwards: head top above chin above shoulders above hips above knees above ankles
    order = ["head_top", "head_bottom", "l_shoulder", "l_hip", "l_knee", "l_ankle"]
    assert all(y[J[a]] < y[J[b]] for a, b in zip(order, order[1:]))
    assert 0.93 < y[J["l_ankle"]] - y[J["head_top"]] < 1.0
    # yaw 0 faces the camera: the person's left side is on the image's right, the nose is in front
    assert pts[0, J["l_shoulder"], 0] > pts[0, J["r_shoulder"], 0]
    assert pts[0, J["nose"], 2] < pts[0, J["head_centre"], 2]


def test_turning_round_swaps_left_and_right_in_the_image():
    pose = rest_pose(1)
    pose[:, P["yaw"]] = np.pi
    pts, head = forward_kinematics(pose, BodyShape())
    assert pts[0, J["l_shoulder"], 0] < pts[0, J["r_shoulder"], 0]
    assert head[0, 1, 2] > 0.9   # the face looks away from the camera


def test_bone_lengths_are_kept_in_any_pose():
    rng = np.random.default_rng(1)
    shape = sample_body_shape(rng)
    pose = rng.uniform(-2, 2, (50, NUM_PARAMS))
    pts, _ = forward_kinematics(pose, shape)
    for a, b, length in (("l_shoulder", "l_elbow", shape.upper_arm), ("r_elbow", "r_wrist", shape.forearm),
                         ("l_hip", "l_knee", shape.thigh), ("r_knee", "r_ankle", shape.shin),
                         ("pelvis", "neck_base", shape.torso_len)):
        np.testing.assert_allclose(np.linalg.norm(pts[:, J[a]] - pts[:, J[b]], axis=1), length, rtol=1e-9)


def test_every_motion_is_smooth_and_finite():
    t = np.arange(50) / 25.0
    for name, motion in MOTIONS.items():
        pose = motion(t, np.random.default_rng(0))
        assert pose.shape == (50, NUM_PARAMS), name
        assert np.isfinite(pose).all(), name
        # angles change by less than 40 degrees between frames at 25 fps (no jumps)
        assert np.abs(np.diff(pose[:, 4:], axis=0)).max() < np.radians(40), name


def test_motion_clip_blends_without_unwinding_a_turn():
    t = np.arange(150) / 25.0
    pose, names = motion_clip(t, np.random.default_rng(3), {"turn": 1.0, "stand": 1.0}, max_segments=3, first="turn")
    assert names[0] == "turn"
    assert np.abs(np.diff(pose[:, P["yaw"]])).max() < np.radians(20)
