import numpy as np
from synth_helpers import BACKGROUND, person, render, still_scene

from vatl.data.synthetic.body import P
from vatl.data.synthetic.labels import ANNOTATED, PT21_SLOTS, frame_annotations, owner_slot, pixel_of
from vatl.data.synthetic.motions import rest_pose


def test_labeled_joints_lie_on_their_own_figure_pixels():
    # arms out so that the wrists are away from the torso, seen from the front and from the side
    for yaw in (0.0, 1.2, 2.6):
        pose = rest_pose(1)
        pose[:, P["l_sh_abd"]] = 1.2
        pose[:, P["r_sh_flex"]] = 0.9
        scene = still_scene([person(0, 80, 110, 90, 1.0, yaw=yaw, pose=pose)])
        figures, [(image, ids, drawn)] = render(scene)
        slots, kp, boxes = frame_annotations(ids, figures, drawn, 0, min_joints=1)
        assert list(slots) == [0]
        labeled = kp[0, :, 2] > 0
        # all 15 annotatable joints are in the frame and unoccluded: all labeled but the nose from behind
        expected = ANNOTATED.copy()
        expected[0] = yaw < 1.5
        np.testing.assert_array_equal(labeled, expected)
        px = pixel_of(kp[0, labeled, :2])
        assert (owner_slot(ids[px[:, 1], px[:, 0]]) == 0).all()
        # and the image shows the figure there, not the background
        colours = image[px[:, 1], px[:, 0]].astype(float)
        assert (np.abs(colours - BACKGROUND).sum(axis=1) > 40).all()


def test_joints_hidden_by_a_nearer_person_are_not_labeled():
    rear = person(0, 80, 100, 80, depth=1.3, shirt=(200.0, 200.0, 20.0))
    front = person(1, 86, 112, 95, depth=1.0)
    figures, [(image, ids, drawn)] = render(still_scene([rear, front]))
    # the front person's own pixels, rendered without the rear one
    _, [(_, ids_front, _)] = render(still_scene([person(1, 86, 112, 95, depth=1.0)]))
    front_mask = owner_slot(ids_front) == 0
    slots, kp, _ = frame_annotations(ids, figures, drawn, 0, min_joints=1)
    assert drawn == [0, 1]                   # painter's order: the farther person first
    rear_kp = kp[list(slots).index(0)]
    slots15 = np.flatnonzero(ANNOTATED)
    joints = figures[0].points[0, PT21_SLOTS[slots15]]
    px = pixel_of(joints)
    covered = front_mask[px[:, 1], px[:, 0]]
    assert covered.any() and (~covered).any()   # a real partial occlusion
    np.testing.assert_array_equal(rear_kp[slots15, 2] > 0, ~covered)
    np.testing.assert_array_equal(rear_kp[slots15[covered]], 0.0)
    assert (kp[list(slots).index(1), slots15, 2] > 0).all()   # the front person is fully visible


def test_joints_outside_the_frame_are_not_labeled_and_the_box_is_clipped():
    pose = rest_pose(1)
    pose[:, P["l_sh_abd"]] = 1.4   # the left arm reaches out to the image's right
    pose[:, P["r_sh_abd"]] = 1.4
    scene = still_scene([person(0, 6, 110, 90, 1.0, pose=pose)])
    figures, [(image, ids, drawn)] = render(scene)
    _, kp, boxes = frame_annotations(ids, figures, drawn, 0, min_joints=1)
    joints = figures[0].points[0, np.maximum(PT21_SLOTS, 0)]
    outside = (joints[:, 0] < -0.5) & ANNOTATED
    assert outside[ANNOTATED].any() and (~outside[ANNOTATED]).any()
    assert (kp[0, outside, 2] == 0).all() and (kp[0, outside, :2] == 0).all()
    assert (kp[0, ~outside & ANNOTATED, 2] == 1).all()
    x, y, w, h = boxes[0]
    assert x == 0.0 and y >= 0 and x + w <= 160 and y + h <= 120


def test_box_encloses_the_whole_figure_with_a_small_margin():
    pose = rest_pose(1)
    pose[:, P["r_sh_abd"]] = 1.0
    scene = still_scene([person(0, 80, 112, 90, 1.0, yaw=0.4, pose=pose)])
    figures, [(image, ids, drawn)] = render(scene)
    _, kp, boxes = frame_annotations(ids, figures, drawn, 0)
    rows, cols = np.nonzero(owner_slot(ids) == 0)
    x, y, w, h = boxes[0]
    # every figure pixel (centre +- 0.5) is inside, and the box is at most ~3 % + 2 px larger per side
    assert x <= cols.min() - 0.5 and y <= rows.min() - 0.5 and x + w >= cols.max() + 0.5 and y + h >= rows.max() + 0.5
    slack = 0.03 * max(w, h) + 2.5
    assert cols.min() - x < slack and rows.min() - y < slack
    assert x + w - cols.max() < slack and y + h - rows.max() < slack


def test_eyes_are_drawn_only_on_the_side_of_the_head_facing_the_camera():
    from vatl.data.synthetic.figure import L_EYE, NUM_PARTS, R_EYE

    def eye_pixels(yaw):
        _, [(_, ids, _)] = render(still_scene([person(0, 80, 112, 100, 1.0, yaw=yaw)]))
        return [int((ids == 1 + part).sum()) for part in (L_EYE, R_EYE)]

    assert NUM_PARTS > R_EYE
    front, away = eye_pixels(0.0), eye_pixels(np.pi)
    assert min(front) > 0 and away == [0, 0]
    # in profile facing image right, only the eye on the near (right) side of the head shows
    left, right = eye_pixels(np.pi / 2)
    assert left == 0 and right > 0
