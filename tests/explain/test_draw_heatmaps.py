"""Heatmap strips: the joint that changes most, as THC counts it."""

from __future__ import annotations

import numpy as np

from vatl.explain.draw_heatmaps import Strip, StripPanel, changing_joint, heatmap_strips


def _panel(sample, hm):
    return StripPanel(sample, sample, hm, None, np.array([[6.0, 0, 0], [0, 6.0, 0]]))


def test_the_changing_joint_is_the_one_with_the_largest_sad_and_a_missing_side_counts_twice(tmp_path):
    steady = np.zeros((3, 4, 4), dtype=np.float32)
    steady[:, 1, 1] = 1.0
    moved = steady.copy()
    moved[2] = 0.0
    moved[2, 3, 3] = 1.0  # joint 2 jumps
    strip = Strip("high", 4.0, (_panel(0, steady), _panel(1, moved), _panel(2, steady)))
    assert changing_joint(strip, np.arange(3)) == (2, 4.0)
    assert changing_joint(strip, np.array([0, 1])) == (0, 0.0)  # joint 2 not among the slots shown
    one_side = Strip("high", 4.0, (StripPanel(None, None, None, None, None), _panel(1, moved), _panel(2, steady)))
    assert changing_joint(one_side, np.arange(3)) == (2, 4.0)
    assert changing_joint(Strip("low", 0.0, (one_side.panels[0], _panel(1, None), one_side.panels[0])),
                          np.arange(3)) == (None, 0.0)
    png = heatmap_strips([strip, one_side], ["a", "b", "c"], np.arange(3), tmp_path / "h.png", "t")
    assert png.startswith(b"\x89PNG") and (tmp_path / "h.png").read_bytes() == png
    assert heatmap_strips([], ["a"], np.arange(1), tmp_path / "empty.png", "t").startswith(b"\x89PNG")
