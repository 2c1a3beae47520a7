"""Keypoint sets: flips, sigmas, angle triples, COCO categories, serialisation."""

from __future__ import annotations

import numpy as np
import pytest

from vatl.skeletons import (
    COCO17,
    COCO_SIGMAS,
    DEFAULT_SIGMA,
    JRDB,
    JRDB_SIGMAS,
    KEYPOINT_SETS,
    POSETRACK21,
    KeypointSet,
    angle_triples_from_edges,
    canonical_name,
    default_sigmas,
    get_keypoint_set,
    infer_angle_triples,
    infer_flip_pairs,
    side_and_base,
)


def _swap(ks: KeypointSet, name: str) -> str:
    return ks.keypoints[ks.flip_index[ks.index(name)]]


def test_posetrack21_flip_swaps_left_and_right_and_keeps_the_middle():
    ks = POSETRACK21
    assert ks.flip_index.tolist() == [0, 1, 2, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    for side in ("ear", "shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
        assert _swap(ks, f"left_{side}") == f"right_{side}"
        assert _swap(ks, f"right_{side}") == f"left_{side}"
    for middle in ("nose", "head_bottom", "head_top"):
        assert _swap(ks, middle) == middle


def test_flip_index_is_an_involution_for_all_built_in_sets():
    for ks in KEYPOINT_SETS.values():
        fi = ks.flip_index
        assert sorted(fi.tolist()) == list(range(ks.num_keypoints))
        np.testing.assert_array_equal(fi[fi], np.arange(ks.num_keypoints))


def test_jrdb_flip_pairs_are_true_left_right_pairs():
    ks = JRDB
    expected = {"right_eye": "left_eye", "right_shoulder": "left_shoulder", "right_elbow": "left_elbow",
                "right_hand": "left_hand", "right_hip": "left_hip", "right_knee": "left_knee",
                "right_foot": "left_foot"}
    for right, left in expected.items():
        assert _swap(ks, right) == left and _swap(ks, left) == right
    for middle in ("head", "neck", "tailbone"):
        assert _swap(ks, middle) == middle
    assert len(ks.flip_pairs) == 7
    # the published code flipped skeleton edges (e.g. head<->neck); none of them may be a flip pair here
    assert (0, 4) not in ks.flip_pairs and (4, 8) not in ks.flip_pairs


def test_sigmas():
    assert POSETRACK21.sigmas == COCO_SIGMAS
    assert COCO17.sigmas == COCO_SIGMAS
    np.testing.assert_array_equal(JRDB.sigma_array, [.079, .025, .025, .079, .026, .079, .072, .072, .107, .062,
                                                     .107, .107, .062, .087, .087, .089, .089])
    assert JRDB.sigmas == JRDB_SIGMAS
    assert JRDB.sigmas[JRDB.index("neck")] == 0.026 and JRDB.sigmas[JRDB.index("tailbone")] == 0.107
    assert JRDB.sigma_array.dtype == np.float64


def test_posetrack21_ears_are_never_annotated():
    assert POSETRACK21.never_annotated == (3, 4)
    assert POSETRACK21.annotated_slots.sum() == 15
    assert not POSETRACK21.annotated_slots[[3, 4]].any()
    assert COCO17.annotated_slots.all() and JRDB.annotated_slots.all()


@pytest.mark.parametrize("ks, expected", [
    (POSETRACK21, [("left_elbow", "left_shoulder", "left_hip"), ("left_shoulder", "left_elbow", "left_wrist"),
                   ("right_hip", "left_hip", "left_knee"), ("left_hip", "left_knee", "left_ankle")]),
    (COCO17, [("left_elbow", "left_shoulder", "left_hip"), ("left_shoulder", "left_elbow", "left_wrist"),
              ("right_hip", "left_hip", "left_knee"), ("left_hip", "left_knee", "left_ankle")]),
    (JRDB, [("left_elbow", "left_shoulder", "left_hip"), ("left_shoulder", "left_elbow", "left_hand"),
            ("right_hip", "left_hip", "left_knee"), ("left_hip", "left_knee", "left_foot")]),
])
def test_eight_angle_triples_at_shoulders_elbows_hips_knees(ks, expected):
    # as the published code: the hip angle is other hip - hip - knee (not shoulder - hip - knee)
    triples = [tuple(ks.keypoints[i] for i in t) for t in ks.angle_triples]
    assert len(triples) == 8
    assert triples[:4] == expected
    mirrored = [tuple(n.replace("left_", "@").replace("right_", "left_").replace("@", "right_") for n in t)
                for t in expected]
    assert triples[4:] == mirrored
    assert sorted(ks.keypoints[v].split("_", 1)[1] for _, v, _ in ks.angle_triples) == \
        ["elbow", "elbow", "hip", "hip", "knee", "knee", "shoulder", "shoulder"]


def test_from_coco_category_with_and_without_sigmas():
    cat = {"id": 1, "name": "dog", "keypoints": ["nose", "l_ear", "r_ear", "tail"],
           "skeleton": [[1, 2], [1, 3], [1, 4]]}
    ks = KeypointSet.from_coco_category(cat)
    assert ks.name == "dog"
    assert ks.skeleton == ((0, 1), (0, 2), (0, 3))  # 1-based in the file
    assert ks.flip_pairs == ((1, 2),)
    # COCO's sigmas where the name is a COCO joint (nose, ears), the default for the tail
    assert ks.sigmas == (0.026, 0.035, 0.035, DEFAULT_SIGMA)
    assert "default" in ks.sigma_source and "tail" in ks.sigma_source
    assert ks.angle_triples == ()  # the nose has three neighbours: no joint with exactly two
    with_sigmas = KeypointSet.from_coco_category({**cat, "sigmas": [0.1, 0.2, 0.2, 0.3]})
    assert with_sigmas.sigmas == (0.1, 0.2, 0.2, 0.3)
    assert with_sigmas.sigma_source == "the category's sigmas field"
    given = KeypointSet.from_coco_category(cat, sigmas=[0.5] * 4, name="hound")
    assert given.sigmas == (0.5,) * 4 and given.name == "hound"


def test_from_coco_category_with_known_names_takes_their_sigmas():
    ks = KeypointSet.from_coco_category({"name": "person", "keypoints": list(COCO17.keypoints)})
    assert ks.sigmas == COCO_SIGMAS
    assert ks.flip_pairs == COCO17.flip_pairs and ks.angle_triples == COCO17.angle_triples


def test_from_coco_category_errors():
    with pytest.raises(ValueError, match="no 'keypoints' field"):
        KeypointSet.from_coco_category({"name": "person"})
    with pytest.raises(ValueError, match="2 sigmas for 3 keypoints"):
        KeypointSet.from_coco_category({"keypoints": ["a", "b", "c"], "sigmas": [0.1, 0.1]})


def test_invalid_sets_are_refused():
    with pytest.raises(ValueError, match="duplicate keypoint names"):
        KeypointSet("x", ("a", "a"), (0.1, 0.1))
    with pytest.raises(ValueError, match="slot index 2 out of range 0..1"):
        KeypointSet("x", ("a", "b"), (0.1, 0.1), skeleton=((0, 2),))
    with pytest.raises(ValueError, match="a slot appears in two flip pairs"):
        KeypointSet("x", ("a", "b", "c"), (0.1,) * 3, flip_pairs=((0, 1), (1, 2)))


@pytest.mark.parametrize("ks", list(KEYPOINT_SETS.values()))
def test_to_dict_from_dict_round_trip(ks):
    import json
    d = json.loads(json.dumps(ks.to_dict()))  # through JSON, as in checkpoints
    assert KeypointSet.from_dict(d) == ks


def test_infer_helpers_and_lookup():
    assert infer_flip_pairs(["left_a", "b", "right_a", "right_c"]) == ((0, 2),)
    assert infer_flip_pairs(["left knee", "right knee", "Left-Hand", "right-hand", "l_eye", "r_eye"]) == \
        ((0, 1), (2, 3), (4, 5))
    spaced = [n.replace("_", " ") for n in COCO17.keypoints]
    assert infer_angle_triples(spaced) == COCO17.angle_triples
    assert infer_flip_pairs(spaced) == COCO17.flip_pairs
    assert infer_angle_triples(["nose"]) == ()
    assert get_keypoint_set("jrdb") is JRDB
    with pytest.raises(ValueError, match="unknown keypoint set 'mpii'; known: coco17, jrdb, posetrack21"):
        get_keypoint_set("mpii")


# ---------------------------------------------------------------- a user's own skeleton (issue 15)
@pytest.mark.parametrize("name, side, base", [
    ("left_knee", "left", "knee"), ("l_knee", "left", "knee"), ("Left Knee", "left", "knee"),
    ("LKnee", "left", "knee"), ("knee_l", "left", "knee"), ("kneeL", "left", "knee"), ("knee.R", "right", "knee"),
    ("wingL", "left", "wing"), ("forelegR4", "right", "foreleg_4"), ("RIGHT_WRIST", "right", "wrist"),
    ("leftknee", "left", "knee"), ("leg", None, "leg"), ("thorax", None, "thorax"), ("r", None, "r"),
    ("head_bottom", None, "head_bottom"),
])
def test_side_and_base_reads_prefixes_suffixes_and_case(name, side, base):
    assert side_and_base(name) == (side, base)


def test_flip_pairs_from_suffixes_of_an_animal_skeleton():
    names = ["head", "thorax", "abdomen", "wingL", "wingR", "forelegL4", "forelegR4", "midlegL4", "midlegR4",
             "hindlegL4", "hindlegR4", "eyeL", "eyeR"]
    ks = KeypointSet("fly", tuple(names), (0.025,) * 13, flip_pairs=infer_flip_pairs(names))
    assert ks.flip_pairs == ((3, 4), (5, 6), (7, 8), (9, 10), (11, 12))
    assert [ks.keypoints[i] for i in ks.flip_index] == [
        "head", "thorax", "abdomen", "wingR", "wingL", "forelegR4", "forelegL4", "midlegR4", "midlegL4",
        "hindlegR4", "hindlegL4", "eyeR", "eyeL"]


def test_canonical_names_and_synonyms():
    assert {canonical_name(n) for n in ("L-Shoulder", "shoulderL", "left shoulder", "l_shoulder")} == {"left_shoulder"}
    assert canonical_name("head_bottom") == canonical_name("Neck") == "neck"
    assert canonical_name("right hand") == "right_wrist"
    assert canonical_name("head_bottom", synonyms=False) == "head_bottom"


def test_angle_triples_from_edges_at_every_joint_with_two_neighbours():
    # a chain 0-1-2-3 with a branch 1-4: joint 1 has three neighbours, joint 2 two
    assert angle_triples_from_edges(5, [(0, 1), (1, 2), (2, 3), (1, 4), (2, 3), (3, 3)]) == ((1, 2, 3),)
    assert angle_triples_from_edges(3, []) == ()


def test_a_category_without_limb_names_takes_its_angles_from_the_skeleton():
    cat = {"name": "fly", "keypoints": ["head", "thorax", "abdomen", "wingL", "wingR"],
           "skeleton": [[1, 2], [2, 3], [2, 4], [2, 5], [4, 5]]}
    ks = KeypointSet.from_coco_category(cat)
    # head-thorax-abdomen: thorax has 4 neighbours; wingL (thorax, wingR) and wingR (thorax, wingL) have two
    assert ks.angle_triples == ((1, 3, 4), (1, 4, 3))
    assert KeypointSet.from_coco_category({**cat, "skeleton": []}).angle_triples == ()


def test_default_sigmas_by_joint_name():
    sigmas, source = default_sigmas(["L_Shoulder", "neck", "belly", "hand_r", "kneeL"])
    assert sigmas == (0.079, DEFAULT_SIGMA, DEFAULT_SIGMA, 0.062, 0.087)
    assert "neck, belly" in source
    assert default_sigmas(["a", "b"]) == ((DEFAULT_SIGMA,) * 2, f"the default sigma {DEFAULT_SIGMA} for every joint")
    assert DEFAULT_SIGMA == 0.025


def test_sigma_source_is_kept_by_to_dict_but_not_compared():
    ks = KeypointSet.from_coco_category({"name": "x", "keypoints": ["a", "b"]})
    back = KeypointSet.from_dict(ks.to_dict())
    assert back.sigma_source == ks.sigma_source and back == ks
    assert KeypointSet("x", ("a", "b"), (DEFAULT_SIGMA,) * 2, sigma_source="other") == ks
