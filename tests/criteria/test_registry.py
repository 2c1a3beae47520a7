import numpy as np
import pytest
from criteria_testdata import grid_video, random_inputs

from vatl.criteria import CRITERIA, DEFAULT_CRITERION, SelectionContext, criterion_options, get_criterion
from vatl.criteria.base import Scorer
from vatl.criteria.combine import CombinedScorer, minmax, weights_for
from vatl.criteria.diversity import DUWCriterion


def test_every_name_of_the_paper_is_registered():
    assert set(CRITERIA) == {"random", "lc", "mpe", "tpc", "thc", "wpu", "thc+wpu", "kmeans", "coreset",
                             "thc+wpu+duw", "thc+duw", "wpu+duw", "thc+wpu+duw-fixed", "oracle",
                             "thc+wpu+duw+lap", "coreset+lap", "random+lap"}  # + label-anchored propagation
    assert DEFAULT_CRITERION in CRITERIA
    for name in CRITERIA:
        assert get_criterion(name).name == name
    assert get_criterion(" THC+WPU ").name == "thc+wpu"


def test_unknown_name_or_option_is_an_error_listing_what_exists():
    with pytest.raises(ValueError, match="known: random, lc, mpe"):
        get_criterion("entropy")
    with pytest.raises(ValueError, match="accepted: max_gap"):
        get_criterion("thc", lam=1.0)
    with pytest.raises(ValueError, match="known: const, increase, decrease"):
        get_criterion("thc+wpu", weighting="sideways")
    assert "weighting" in criterion_options("thc+wpu") and "lam" in criterion_options("thc+duw")


def test_duw_options_reach_the_criterion():
    paper = get_criterion("thc+wpu+duw", normalise=False)
    assert isinstance(paper, DUWCriterion) and paper.lam == 0.01 and not paper.fixed
    fixed = get_criterion("thc+wpu+duw-fixed")
    assert fixed.fixed and fixed.lam == 1.0
    assert get_criterion("wpu+duw", lam=5.0).lam == 5.0
    assert [c.name for c in get_criterion("thc+wpu+duw").pass_consumers(grid_video(2, 1))] == ["thc"]


def test_minmax_of_equal_scores_is_zero_not_nan():
    np.testing.assert_array_equal(minmax(np.array([3.0, 3.0, 3.0])), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(minmax(np.array([])), [])
    np.testing.assert_allclose(minmax(np.array([1.0, 3.0, 2.0])), [0.0, 1.0, 0.5])
    np.testing.assert_allclose(minmax(np.array([1.0, np.nan, np.inf, 2.0])), [0.0, np.nan, 1.0, 1.0])


def test_thc_wpu_weightings():
    assert weights_for("const", 0.3) == (1.0, 1.0)
    assert weights_for("increase", 0.3) == pytest.approx((0.3, 0.7))
    assert weights_for("decrease", 0.3) == pytest.approx((0.7, 0.3))


class Fixed(Scorer):
    def __init__(self, name, values):
        self.name, self.values = name, np.asarray(values, dtype=np.float64)

    def score(self, ctx):
        return self.values


@pytest.mark.parametrize("weighting,labeled,expected", [
    # pool = samples 1..3; THC normalised [0, .5, 1], WPU normalised [1, 0, 0]
    ("const", [0], [1.0, 0.0, 1.0]),           # sums 1, .5, 1 -> renormalised 1, 0, 1
    ("increase", [0], [1.0, 0.0, 0.2]),        # f = 1/4: .75, .125, .25 -> 1, 0, .2
    ("decrease", [0], [0.0, 0.25, 1.0]),       # .25, .375, .75 -> 0, .25, 1
])
def test_combined_scorer_normalises_over_the_pool(weighting, labeled, expected):
    video = grid_video(4, 1)
    _, features, keypoints, _ = random_inputs(video)
    unlabeled = np.ones(4, bool)
    unlabeled[labeled] = False
    ctx = SelectionContext(video=video, unlabeled=unlabeled, budget=1, keypoints=keypoints, features=features,
                           rng=np.random.default_rng(0))
    combined = CombinedScorer((Fixed("thc", [100.0, 0.0, 1.0, 2.0]), Fixed("wpu", [0.0, 5.0, 1.0, 1.0])), weighting)
    out = combined.score(ctx)
    np.testing.assert_allclose(out[1:], expected, atol=1e-12)
    assert out[0] == 0.0  # outside the pool
