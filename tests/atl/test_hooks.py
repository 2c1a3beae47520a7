import numpy as np

from vatl.atl.hooks import PredictionRefiner, TrainingExtender, refined, training_extension
from vatl.atl.propagation import TrackLayout
from vatl.criteria import get_criterion
from vatl.data.annotations import LabelStore

LAYOUT = TrackLayout(np.arange(4), np.zeros(4, dtype=np.int64), np.tile([0.0, 0.0, 10.0, 10.0], (4, 1)))


def test_a_plain_criterion_refines_and_extends_nothing():
    criterion = get_criterion("coreset")
    assert not isinstance(criterion, PredictionRefiner) and not isinstance(criterion, TrainingExtender)
    kp = np.random.default_rng(0).random((4, 17, 3))
    assert refined(criterion, LAYOUT, kp, LabelStore()) is kp
    idx, pseudo = training_extension(criterion, LAYOUT, kp, LabelStore())
    assert idx.shape == (0,) and pseudo.shape == (0, 17, 3)


def test_a_propagating_criterion_offers_both_hooks():
    criterion = get_criterion("thc+wpu+duw+lap", pseudo=1)
    assert isinstance(criterion, PredictionRefiner) and isinstance(criterion, TrainingExtender)
    kp = np.zeros((4, 17, 3))
    labels = LabelStore()
    label = np.zeros((17, 3))
    label[:, 0], label[:, 2] = 1.0, 2.0
    labels.add(0, label, cycle=0)
    out = refined(criterion, LAYOUT, kp, labels)
    assert out[1, 0, 0] > 0  # the label's residual reached the next frame
    idx, pseudo = training_extension(criterion, LAYOUT, kp, labels)
    np.testing.assert_array_equal(idx, [1])
    np.testing.assert_allclose(pseudo[0, :, :2], out[1, :, :2])
