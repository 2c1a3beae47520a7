"""Ranking a saved cycle by any criterion: it reproduces what a run of that criterion selected."""

from __future__ import annotations

import numpy as np
import pytest
from explain_runs import make_run

from vatl.explain.rank import (
    distance_to_labeled,
    mean_pairwise_distance,
    parse_compare,
    pick_distance_percentile,
    pick_distances,
    pool_percentile,
    rank,
    uncertainty,
)
from vatl.explain.record import cycle_path, load_cycle, saved_cycles


@pytest.mark.parametrize("criterion", ["thc", "wpu", "mpe", "random", "coreset", "thc+wpu+duw", "oracle"])
def test_ranking_the_saved_pass_gives_the_runs_own_selection(criterion, finished_run, tmp_path):
    run = finished_run[1] if criterion == "thc+wpu+duw" else make_run(tmp_path, criterion)[1]
    for c in saved_cycles(run):
        data = load_cycle(cycle_path(run, c))
        assert rank(data, criterion).tolist() == data.selected.tolist(), f"cycle {c}"
        if criterion == "coreset" and len(data.selected) > 1:  # k-center greedy: always the farthest
            assert pick_distance_percentile(data, data.selected) == pytest.approx(100.0)


def test_kmeans_on_float16_features_picks_distinct_pool_samples(finished_run):
    data = load_cycle(cycle_path(finished_run[1], 2))
    picks = rank(data, "kmeans", budget=5)
    assert len(set(picks.tolist())) == 5 and data.pool[picks].all()


def test_compare_names_and_options_are_checked():
    assert parse_compare("mpe, coreset,thc+wpu+duw:lam=0.5;normalise=false") == [
        ("mpe", {}), ("coreset", {}), ("thc+wpu+duw", {"lam": 0.5, "normalise": False})]
    with pytest.raises(ValueError, match="'thc\\+lap' cannot be ranked from a saved pass; known: random, lc"):
        parse_compare("mpe,thc+lap")
    with pytest.raises(ValueError, match="option 'lam=1' is not key=value with a key of none"):
        parse_compare("coreset:lam=1")


def test_a_criterion_whose_score_was_not_saved_is_refused_with_the_reason(finished_run):
    data = load_cycle(cycle_path(finished_run[1], 1))
    del data.scores["wpu"]
    data.meta["wpu"] = "skeleton without joint angles"
    with pytest.raises(ValueError, match="needs the score\\(s\\) wpu, which cycle 1 did not save \\(skeleton without"):
        rank(data, "thc+wpu+duw")
    data.true_oks[:] = np.nan
    with pytest.raises(ValueError, match="video has no ground truth"):
        rank(data, "oracle")


def test_measures(finished_run):
    data = load_cycle(cycle_path(finished_run[1], 2))
    c = uncertainty(data)
    assert c[data.pool].min() == 0.0 and c[data.pool].max() == 1.0 and (c[~data.pool] == 0).all()
    x, lab = data.features.astype(np.float64), np.flatnonzero(data.labeled)
    brute = np.sqrt(((x[:, None] - x[None, lab]) ** 2).sum(2)).min(1)
    np.testing.assert_allclose(distance_to_labeled(data), brute, rtol=1e-4, atol=2e-3)  # float32 |x|²+|c|²−2x·c
    order = data.selected
    expected = [np.sqrt(((x[s] - x[np.r_[lab, order[:j]].astype(int)]) ** 2).sum(1)).min() for j, s in enumerate(order)]
    np.testing.assert_allclose(pick_distances(data, order), expected, rtol=1e-4, atol=1e-4)
    pair = [np.linalg.norm(x[a] - x[b]) for i, a in enumerate(order) for b in order[i + 1:]]
    assert mean_pairwise_distance(data, order) == pytest.approx(np.mean(pair), rel=1e-6)
    assert mean_pairwise_distance(data, order[:1]) is None
    assert 0 <= pick_distance_percentile(data, order) <= 100
    rng_order = np.flatnonzero(data.pool)[:3]
    assert pick_distance_percentile(data, rng_order) < 100


def test_pool_percentile_is_50_for_the_middle_and_counts_ties_half():
    pool = np.ones(5, dtype=bool)
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert pool_percentile(values, pool, np.array([2])) == pytest.approx(50.0)
    assert pool_percentile(values, pool, np.array([4])) == pytest.approx(90.0)
    assert pool_percentile(np.ones(5), pool, np.array([0, 1])) == pytest.approx(50.0)
    assert pool_percentile(np.full(5, np.nan), pool, np.array([0])) is None
