"""Per-cycle curves draw with and without ground truth."""

from __future__ import annotations

from vatl.atl.records import CycleRecord
from vatl.explain.draw_curves import curves_figure


def test_curves_without_ground_truth_and_with_missing_values(tmp_path):
    records = [CycleRecord(cycle=0, G=0.5, epochs=3, epochs_planned=3, t_estimate=1.0),
               CycleRecord(cycle=1, labeled_percent=5.0, G=None, sc_all_value=0.4, t_retrain=2.0)]
    png = curves_figure(records, 0.6, tmp_path / "c.png", current=1)
    assert png.startswith(b"\x89PNG") and (tmp_path / "c.png").stat().st_size == len(png)
    assert curves_figure([], 0.6, tmp_path / "none.png").startswith(b"\x89PNG")
