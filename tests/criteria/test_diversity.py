import numpy as np
import pytest
from criteria_testdata import grid_video, make_video

from vatl.criteria import SelectionContext, get_criterion
from vatl.criteria.base import Scorer
from vatl.criteria.diversity import DUWCriterion, kcenter_select, kmeans_select, min_sq_distances


def points(*xs):
    return np.asarray(xs, dtype=np.float32).reshape(-1, 1)


def naive_greedy(x, pool, labeled, k, first=None, bonus=None, weight=1.0, normalise=False):
    """Plain k-center greedy in float64, one candidate at a time (ties: smallest index)."""
    x = x.astype(np.float64)
    d = np.full(len(x), np.inf)
    for j in labeled:
        d = np.minimum(d, ((x - x[j]) ** 2).sum(1))
    cand = np.zeros(len(x), bool)
    cand[pool] = True
    picks = []
    if len(labeled) == 0:
        picks.append(first)
        cand[first] = False
        d = np.minimum(d, ((x - x[first]) ** 2).sum(1))
    scale = (np.sqrt(d[cand].max()) or 1.0) if normalise and cand.any() else 1.0
    bonus = np.zeros(len(x)) if bonus is None else bonus
    while len(picks) < k:
        key = np.where(cand, weight * np.sqrt(d) / scale + bonus, -np.inf)
        i = int(np.argmax(key))
        picks.append(i)
        cand[i] = False
        d = np.minimum(d, ((x - x[i]) ** 2).sum(1))
    return np.array(picks)


def test_coreset_on_1d_points_by_hand():
    x = points(0, 1, 2, 5, 9, 10)
    pool = np.arange(1, 6)
    np.testing.assert_array_equal(kcenter_select(x, pool, [0], 3, np.random.default_rng(0)), [5, 3, 2])
    # with no labeled sample the first pick is random (from the context's rng), then farthest-first
    first = int(pool[np.random.default_rng(7).integers(len(pool))])
    picked = kcenter_select(x, pool, [], 2, np.random.default_rng(7))
    assert picked[0] == first and picked[1] == pool[np.argmax(np.abs(x[pool, 0] - x[first, 0]))]


@pytest.mark.parametrize("block,working", [(2048, 1024), (5, 2), (3, 1)])
@pytest.mark.parametrize("seed", range(4))
def test_kcenter_equals_the_plain_greedy_algorithm(block, working, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 300))
    x = rng.integers(0, 4, size=(n, 3)).astype(np.float32)  # small integers: exact, with many ties
    labeled = rng.choice(n, size=int(rng.integers(0, 5)), replace=False)
    pool = np.setdiff1d(np.arange(n), labeled)
    k = int(rng.integers(1, len(pool)))
    c = rng.integers(0, 3, size=n) / 2.0
    if len(labeled):
        expected = naive_greedy(x, pool, labeled, k)
        got = kcenter_select(x, pool, labeled, k, rng, block=block, working=working)
        np.testing.assert_array_equal(got, expected)
    first = int(pool[np.flatnonzero(c[pool] == c[pool].max())[0]])
    expected = naive_greedy(x, pool, labeled, k, first=first, bonus=0.7 * c, weight=0.4, normalise=True)
    got = kcenter_select(x, pool, labeled, k, rng, uncertainty=c, distance_weight=0.4, uncertainty_weight=0.7,
                         normalise=True, first_most_uncertain=True, block=block, working=working)
    np.testing.assert_array_equal(got, expected)


def test_min_sq_distances_is_chunked_brute_force():
    rng = np.random.default_rng(0)
    x, c = rng.normal(size=(37, 5)).astype(np.float32), rng.normal(size=(11, 5)).astype(np.float32)
    brute = ((x[:, None] - c[None]) ** 2).sum(2).min(1)
    np.testing.assert_allclose(min_sq_distances(x, c, block=13), brute, rtol=1e-5, atol=1e-5)
    assert np.isinf(min_sq_distances(x, c[:0])).all()


class FixedScore(Scorer):
    name = "fixed"

    def __init__(self, values):
        self.values = np.asarray(values, dtype=np.float64)

    def score(self, ctx):
        return self.values


def duw_context(x, labeled, budget, G, seed=0):
    n = len(x)
    video = make_video([(i, 0) for i in range(n)])
    unlabeled = np.ones(n, bool)
    unlabeled[labeled] = False
    return SelectionContext(video=video, unlabeled=unlabeled, budget=budget,
                            keypoints=np.zeros((n, 17, 3)), features=x, rng=np.random.default_rng(seed), G=G)


def test_duw_with_g_zero_is_coreset():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 6)).astype(np.float32)
    c = rng.random(60)
    core = kcenter_select(x, np.arange(2, 60), [0, 1], 10, rng)
    for normalise in (True, False):
        duw = DUWCriterion(FixedScore(c), normalise=normalise)
        np.testing.assert_array_equal(duw.select(duw_context(x, [0, 1], 10, G=0.0)), core)
        np.testing.assert_array_equal(duw.select(duw_context(x, [0, 1], 10, G=None)), core)  # cycle 0: G = 0


def test_duw_with_large_weight_follows_uncertainty():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(50, 6)).astype(np.float32)
    c = rng.random(50)
    pool = np.arange(1, 50)
    top = pool[np.argsort(-c[pool])][:8]
    paper = DUWCriterion(FixedScore(c), lam=1e4, normalise=False)
    np.testing.assert_array_equal(paper.select(duw_context(x, [0], 8, G=0.9)), top)
    full = DUWCriterion(FixedScore(c))  # normalised, lambda = 1, G = 1: only uncertainty counts
    np.testing.assert_array_equal(full.select(duw_context(x, [0], 8, G=1.0)), top)


def test_duw_fixed_variant_and_the_two_scalings_by_hand():
    x = points(0, 4, 5, 10)
    c = [0.0, 0.0, 1.0, 0.2]  # on the pool {1, 2, 3}: normalised to [0, 1, 0.2]
    ctx = lambda: duw_context(x, [0], 2, G=0.3)  # noqa: E731  (G is unused by the fixed variant)
    # normalised: distances / 10 -> keys 0.4, 1.5, 1.2: x=5 first; then 0.1 + 0, 0.5 + 0.2: x=10
    np.testing.assert_array_equal(DUWCriterion(FixedScore(c), fixed=True).select(ctx()), [2, 3])
    # paper-exact raw distances with lambda 1: keys 4, 6, 10.2: x=10 first (as Core-Set)
    np.testing.assert_array_equal(DUWCriterion(FixedScore(c), fixed=True, normalise=False).select(ctx()), [3, 2])
    assert DUWCriterion(FixedScore(c), normalise=False).lam == 0.01
    assert DUWCriterion(FixedScore(c)).weights(0.3) == pytest.approx((0.7, 0.3))
    assert DUWCriterion(FixedScore(c), fixed=True, lam=2.0).weights(0.3) == (1.0, 2.0)


def test_duw_first_pick_without_labels_is_the_most_uncertain():
    x = points(0, 4, 5, 10)
    duw = DUWCriterion(FixedScore([0.1, 0.9, 0.3, 0.2]))
    np.testing.assert_array_equal(duw.select(duw_context(x, [], 2, G=None)), [1, 3])  # then farthest (G = 0)


def test_kmeans_picks_the_member_nearest_each_centre():
    x = points(0, 1, 2, 100, 101, 102, 200, 202)
    picked = kmeans_select(x, np.arange(8), 3, np.random.default_rng(0), n_init=3)
    np.testing.assert_array_equal(picked, [1, 4, 6])  # by cluster size, ties by index; 200/202 tie -> 200
    # duplicates: fewer distinct clusters than k -> the rest drawn from the pool, still distinct
    dup = kmeans_select(points(1, 1, 1, 1, 5), np.arange(5), 4, np.random.default_rng(0))
    assert len(set(dup.tolist())) == 4


def test_registered_diversity_criteria_on_a_video():
    video = grid_video(6, 2)
    x = np.repeat(np.arange(6, dtype=np.float32), 2).reshape(-1, 1)  # frames 0..5, tracks share a feature
    unlabeled = np.ones(12, bool)
    unlabeled[0] = False
    ctx = SelectionContext(video=video, unlabeled=unlabeled, budget=2, keypoints=np.zeros((12, 17, 3)),
                           features=x, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(get_criterion("coreset").select(ctx), [10, 4])  # x=5, then x=2 (ties: index)


@pytest.mark.parametrize("working", [1024, 7])
def test_kcenter_never_picks_twice_even_when_rounding_makes_distances_negative(working):
    rng = np.random.default_rng(19)
    x = (rng.normal(size=(600, 2)) * 1e3).astype(np.float32)
    x[300:] = x[:300] + 1e-3  # near-duplicates: |x|² + |c|² − 2x·c rounds below zero
    c = rng.random(600)
    picked = kcenter_select(x, np.arange(600), [], 600, rng, uncertainty=c, distance_weight=0.5,
                            uncertainty_weight=0.5, normalise=True, first_most_uncertain=True, working=working)
    assert sorted(picked.tolist()) == list(range(600))
