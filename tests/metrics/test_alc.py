"""ALC: trapezoid area under AP (%) over labeled fraction (%), scaled to 0–100."""

import numpy as np
import pytest

from vatl.metrics import alc


def test_known_curve():
    # (0, 50) -> (50, 100): 50 * 75 = 3750; (50, 100) -> (100, 100): 50 * 100 = 5000; (3750 + 5000) / 100
    assert alc([0, 50, 100], [50, 100, 100]) == pytest.approx(87.5)


def test_constant_curves_give_their_value():
    assert alc([0, 100], [100, 100]) == pytest.approx(100.0)
    assert alc([0, 100], [0, 0]) == 0.0
    assert alc([0, 5, 20, 40, 100], [62.0] * 5) == pytest.approx(62.0)


def test_uneven_points_and_unsorted_input():
    # (0,40)-(5,60): 5*50=250; (5,60)-(20,80): 15*70=1050; (20,80)-(100,90): 80*85=6800 -> 8100 / 100
    assert alc([0, 5, 20, 100], [40, 60, 80, 90]) == pytest.approx(81.0)
    assert alc(np.array([20, 100, 0, 5]), np.array([80, 90, 40, 60])) == pytest.approx(81.0)


@pytest.mark.parametrize(
    ("fractions", "aps", "message"),
    [
        ([5, 50, 100], [50, 60, 70], r"0 % and 100 %.*missing \[0.0\]"),
        ([0, 50, 90], [50, 60, 70], r"missing \[100.0\]"),
        ([0, 50, 50, 100], [50, 60, 61, 70], r"50.0\] % evaluated more than once"),
        ([0, 50, 100], [50, np.nan, 70], "non-finite"),
        ([0, np.nan, 100], [50, 60, 70], "non-finite"),
        ([0, 50, 100], [50, 60], "equal length"),
        ([0, 50, 120], [50, 60, 70], "0..100"),
        ([0, 50, 100], [50, 160, 70], "AP values"),
        ([0], [50], "0 % and 100 %"),
    ],
)
def test_errors(fractions, aps, message):
    with pytest.raises(ValueError, match=message):
        alc(fractions, aps)
