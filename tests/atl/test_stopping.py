import numpy as np
import pytest

from vatl.atl.stopping import check_stop


def test_sc_min_uses_the_mean_over_the_query():
    d = check_stop("sc_min", np.array([0.9, 0.5]), np.array([0.9, 0.5, 0.1]), theta=0.6)
    assert d.met and d.value == pytest.approx(0.7)
    assert not check_stop("sc_min", np.array([0.6, 0.6]), np.array([]), theta=0.6).met  # strictly above θ


def test_sc_all_needs_every_labeled_sample_above_theta():
    d = check_stop("sc_all", np.array([0.9, 0.95]), np.array([0.9, 0.95, 0.55]), theta=0.6)
    assert not d.met and d.value == pytest.approx(0.55)
    assert check_stop("sc_all", np.array([0.9]), np.array([0.9, 0.61]), theta=0.6).met


def test_nothing_labeled_never_stops_and_gives_no_nan_decision():
    for name in ("sc_min", "sc_all"):
        d = check_stop(name, np.array([]), np.array([]), theta=0.6)
        assert not d.met and d.value is None
        assert d.reason


def test_unknown_criterion_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown stopping criterion 'sc_max'; known: sc_min, sc_all"):
        check_stop("sc_max", np.array([1.0]), np.array([1.0]), theta=0.5)
