import pytest

from vatl.atl.config import ATLConfig


def test_epochs_follow_eq1_with_floor():
    c = ATLConfig(alpha=250)
    assert c.epochs_for(0.0) == 250
    assert c.epochs_for(0.7) == 75
    assert c.epochs_for(0.999) == 0  # floor(0.25)
    assert c.epochs_for(1.0) == 0  # E_c = 0: no retraining this cycle
    assert c.epochs_for(None) == 0  # no answer came back: G undefined, no retraining


def test_max_epochs_caps_e():
    assert ATLConfig(alpha=250, max_epochs=40).epochs_for(0.5) == 40
    # the published int(α·(1 − G)) in floating point: 250·(1 − 0.9) = 24.999999999999996 gives 24
    assert ATLConfig(alpha=250, max_epochs=40).epochs_for(0.9) == 24


def test_round_trip_and_validation():
    c = ATLConfig(criterion="random", schedule=(10, 100), theta=0.7)
    assert ATLConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="stopping mode"):
        ATLConfig(stop_mode="halt")
    with pytest.raises(ValueError, match="stopping criterion"):
        ATLConfig(stop_criterion="sc_any")
    with pytest.raises(ValueError, match="theta"):
        ATLConfig(theta=1.5)
    with pytest.raises(ValueError, match="unknown fields"):
        ATLConfig.from_dict({"criterion": "random", "colour": "red"})
