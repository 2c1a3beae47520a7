import pytest

from vatl.bench.tables import actual_point, ap_at, mean_ci, stop_point


def _result(points, cycles=(), final=None):
    return {"summary": {"curve_labeled_percent": [p for p, _ in points], "curve_ap60": [a for _, a in points]},
            "cycles": list(cycles), "final": final}


def test_ap_is_interpolated_on_the_curve():
    r = _result([(0, 50), (4.5, 59), (9.5, 69), (100, 100)])
    assert ap_at(r, 5) == pytest.approx(60.0)  # between (4.5, 59) and (9.5, 69)
    assert ap_at(r, 0) == 50
    assert ap_at(_result([(0, 50), (30, 80)]), 40) is None  # the curve does not reach 40 %


def test_mean_and_95_interval():
    mean, half, n = mean_ci([1.0, 2.0, 3.0, None])
    # sd = 1, t(0.975, 2) = 4.302653, half = 4.302653 / sqrt(3)
    assert (mean, n) == (2.0, 3) and half == pytest.approx(4.302653 / 3 ** 0.5, rel=1e-5)
    assert mean_ci([5.0]) == (5.0, None, 1)
    assert mean_ci([]) == (None, None, 0)


def test_stop_and_actual_points():
    cycles = [
        {"cycle": 0, "labeled_percent": 0, "labeled_percent_after": 10, "sc_min_met": True, "sc_all_met": False,
         "ap_after_labels": {"AP@0.6": 90.0}, "true_oks_min": 0.2, "true_oks_min_after": 0.3},
        {"cycle": 1, "labeled_percent": 10, "labeled_percent_after": 20, "sc_min_met": True, "sc_all_met": True,
         "ap_after_labels": {"AP@0.6": 97.0}, "true_oks_min": 0.5, "true_oks_min_after": 0.65},
    ]
    r = _result([], cycles, final={"labeled_percent": 100.0, "ap_with_labels": {"AP@0.6": 100.0}})
    assert stop_point(r, "sc_min", 0.6) == (90.0, 10)
    assert stop_point(r, "sc_all", 0.6) == (97.0, 20)
    assert actual_point(r, 0.6) == 20  # after cycle 1's labels every sample has OKS > 0.6
    assert actual_point(r, 0.7) == 100.0  # never before the end
    never = _result([], cycles[:1], final={"labeled_percent": 100.0, "ap_with_labels": {"AP@0.6": 100.0}})
    assert stop_point(never, "sc_all", 0.6) == (100.0, 100.0)


def test_paired_differences_use_the_same_videos():
    from vatl.bench.tables import paired_markdown, paired_rows

    alc = {"random": {"a": 90.0, "b": 80.0, "c": 70.0},
           "x": {"a": 91.0, "b": 82.0, "c": None},  # c unfinished: compared on a and b only
           "y": {"a": 89.0, "b": 80.0, "c": 70.0}}
    rows = {r["criterion"]: r for r in paired_rows(alc, ["random"])}
    mean, half, n, wins = rows["x"]["random"]
    # diffs 1, 2: mean 1.5, sd 0.7071, t(0.975, 1) = 12.7062 → half 12.7062 · 0.7071 / √2 = 6.3531
    assert (mean, n, wins) == (1.5, 2, 2) and half == pytest.approx(6.3531, rel=1e-4)
    assert rows["y"]["random"][0] == pytest.approx(-1 / 3) and rows["y"]["random"][3] == 0
    table = paired_markdown(list(rows.values()), ["random"])
    assert "| random | — |" in table and "| x | +1.50 ± 6.35 (2/2) |" in table
    assert "| y | -0.33 ± " in table


def test_alc_ceiling_sets_every_point_after_zero_to_100():
    from vatl.bench.tables import alc_ceiling

    r = _result([(0, 60), (5, 90), (10, 95), (100, 100)])
    # trapezoid: 0-5: (60 + 100) / 2 · 5 = 400, then 100 · 95 = 9500 → 9900 / 100
    assert alc_ceiling(r) == pytest.approx(99.0)
    assert alc_ceiling(_result([(0, 60), (40, 90)])) is None  # the curve does not reach 100 %


def test_table_points_include_10_percent_and_the_row_has_the_ceiling():
    from vatl.bench.tables import TABLE_POINTS, criterion_rows, rows_markdown

    assert TABLE_POINTS == (5, 10, 20, 40)
    r = _result([(0, 60), (5, 90), (10, 95), (100, 100)])
    r["summary"]["ALC"] = 97.0
    rows = criterion_rows({"x": [r, r]})
    assert rows[0]["AP@0.6@10%"][0] == pytest.approx(95.0)
    assert rows[0]["ALC_ceiling"][0] == pytest.approx(99.0)
    table = rows_markdown(rows)
    assert "| AP@0.6 10 % |" in table and table.rstrip().endswith("| 99.00 ± 0.00 |")


def test_paired_by_video_averages_each_videos_seeds_first():
    from vatl.bench.tables import paired_rows_by_video

    alc = {"ref": {("a", 0): 90.0, ("a", 1): 88.0, ("b", 0): 80.0, ("b", 1): 80.0},
           "x": {("a", 0): 91.0, ("a", 1): 91.0, ("b", 0): 81.0, ("b", 1): None}}
    row = {r["criterion"]: r for r in paired_rows_by_video(alc, ["ref"])}["x"]["ref"]
    # video a: (1 + 3) / 2 = 2; video b: only seed 0, 1 → mean 1.5 over 2 videos, 2 higher
    assert row[0] == pytest.approx(1.5) and row[2:] == (2, 2)
