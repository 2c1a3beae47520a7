import numpy as np
import pytest

from vatl.atl.schedule import DEFAULT_SCHEDULE, cumulative_targets, parse_schedule


def test_default_schedule_on_150_samples():
    # floor(150 * p / 100) for 5, 10, 15, 20, 30, 40, 60, 80, 100 %
    assert cumulative_targets(150, DEFAULT_SCHEDULE).tolist() == [7, 15, 22, 30, 45, 60, 90, 120, 150]


def test_small_video_adds_at_least_one_sample_per_cycle():
    # N = 10: floor(N·p) = 0, 1, 1, 2, 3, 4, 6, 8, 10, each raised to at least one more than the previous
    assert cumulative_targets(10, DEFAULT_SCHEDULE).tolist() == [1, 2, 3, 4, 5, 6, 7, 8, 10]


def test_tiny_video_stops_adding_cycles_once_every_sample_is_targeted():
    assert cumulative_targets(3, DEFAULT_SCHEDULE).tolist() == [1, 2, 3]
    assert cumulative_targets(1, DEFAULT_SCHEDULE).tolist() == [1]


def test_targets_increase_strictly_and_end_at_n():
    for n in (1, 7, 19, 20, 21, 164, 1000):
        t = cumulative_targets(n, DEFAULT_SCHEDULE)
        assert t[-1] == n
        assert np.all(np.diff(t) >= 1)


def test_empty_video_and_bad_schedules_are_clear_errors():
    with pytest.raises(ValueError, match="no samples"):
        cumulative_targets(0, DEFAULT_SCHEDULE)
    with pytest.raises(ValueError, match="increase"):
        parse_schedule("10,5")
    with pytest.raises(ValueError, match=r"\(0, 100\]"):
        parse_schedule("5,120")
    with pytest.raises(ValueError, match="comma-separated"):
        parse_schedule("5,ten")
    assert parse_schedule("5, 50,100") == (5.0, 50.0, 100.0)
