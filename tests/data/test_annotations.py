"""Predictions and labels are kept apart; a label remembers the prediction it replaced."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vatl.data.annotations import LabelStore, Predictions


def _predictions(n: int = 4, k: int = 3) -> Predictions:
    kp = np.zeros((n, k, 3))
    kp[..., 0] = np.arange(n)[:, None] * 10 + np.arange(k)
    kp[..., 1] = 5.0
    kp[..., 2] = np.linspace(0.2, 0.8, n)[:, None]
    return Predictions.from_keypoints(kp)


def test_predictions_scores_are_the_published_mean_plus_1_25_max():
    pred = _predictions()
    np.testing.assert_allclose(pred.scores, 2.25 * np.linspace(0.2, 0.8, 4))  # equal joints: c + 1.25 c
    kp = np.zeros((1, 4, 3))
    kp[0, :, 2] = [0.1, 0.2, 0.3, 0.8]  # mean 0.35, max 0.8: 0.35 + 1.25 · 0.8 = 1.35
    assert Predictions.from_keypoints(kp).scores[0] == pytest.approx(1.35)
    assert len(pred) == 4
    with pytest.raises(ValueError, match=r"must be \(N, K, 3\), got \(4, 3, 2\)"):
        Predictions(np.zeros((4, 3, 2)), np.zeros(4))
    with pytest.raises(ValueError):
        Predictions(np.zeros((4, 3, 3)), np.zeros(3))


def test_add_keeps_a_copy_the_cycle_and_the_replaced_prediction():
    store = LabelStore()
    label = np.array([[1.0, 2.0, 2.0], [3.0, 4.0, 0.0], [5.0, 6.0, 1.0]])
    replaced = _predictions().keypoints[2]
    store.add(2, label, cycle=0, replaced=replaced)
    store.add(0, label * 2, cycle=1)
    label[0, 0] = 99.0  # the caller's array is not shared
    assert store[2].keypoints[0, 0] == 1.0
    assert store[2].cycle == 0 and store[0].cycle == 1
    np.testing.assert_array_equal(store[2].replaced, replaced)
    assert store[0].replaced is None
    assert 2 in store and 1 not in store and len(store) == 2
    assert store.indices.tolist() == [2, 0]  # labeling order
    assert store.mask(4).tolist() == [True, False, True, False]
    assert LabelStore().mask(3).tolist() == [False, False, False]


def test_duplicate_and_malformed_labels_are_refused():
    store = LabelStore()
    store.add(1, np.zeros((3, 3)), cycle=2)
    with pytest.raises(ValueError, match=r"sample 1 is labeled already \(cycle 2\)"):
        store.add(1, np.ones((3, 3)), cycle=3)
    with pytest.raises(ValueError, match=r"label for sample 5 must be \(K, 3\), got \(3, 2\)"):
        store.add(5, np.zeros((3, 2)), cycle=0)
    assert len(store) == 1


def test_merged_with_puts_labels_in_place_of_predictions():
    pred = _predictions()
    store = LabelStore()
    store.add(1, np.array([[7.0, 8.0, 2.0], [9.0, 10.0, 0.0], [11.0, 12.0, 1.0]]), cycle=0)
    merged = store.merged_with(pred)
    # annotated joints take the label with confidence 1; the joint left out (v = 0) keeps the prediction
    np.testing.assert_allclose(merged.keypoints[1], [[7, 8, 1], [11, 5, 0.4], [11, 12, 1]])
    assert merged.scores[1] == pred.scores[1]  # the model's score, as the published evaluation keeps it
    np.testing.assert_array_equal(merged.keypoints[[0, 2, 3]], pred.keypoints[[0, 2, 3]])
    np.testing.assert_array_equal(merged.scores[[0, 2, 3]], pred.scores[[0, 2, 3]])
    assert pred.keypoints[1, 0, 0] == 10.0 and pred.scores[1] == pytest.approx(0.9)  # input untouched


def test_to_dict_from_dict_round_trip_through_json():
    store = LabelStore()
    store.add(3, np.arange(9.0).reshape(3, 3), cycle=1, replaced=np.ones((3, 3)) * 0.5)
    store.add(0, np.zeros((3, 3)), cycle=2)
    again = LabelStore.from_dict(json.loads(json.dumps(store.to_dict())))
    assert again.indices.tolist() == [3, 0]
    for i in (3, 0):
        np.testing.assert_array_equal(again[i].keypoints, store[i].keypoints)
        assert again[i].cycle == store[i].cycle
    np.testing.assert_array_equal(again[3].replaced, np.full((3, 3), 0.5))
    assert again[0].replaced is None
