import numpy as np

from vatl.criteria.base import SelectionContext
from vatl.criteria.oracle import OracleCriterion, true_error
from vatl.data.video import Frame, Video
from vatl.skeletons import POSETRACK21


def test_oracle_picks_the_worst_estimated_unlabeled_samples():
    n = 4
    gt = np.zeros((n, 17, 3))
    gt[:, 5] = [50, 50, 1]
    video = Video("v", POSETRACK21, [Frame(None, 0)], np.zeros(n), np.arange(n), np.tile([0, 0, 100, 100], (n, 1)),
                  gt, np.arange(n))
    pred = gt.copy()
    pred[:, 5, 0] += [0, 30, 5, 60]  # sample 3 worst, then 1, then 2, sample 0 exact
    ctx = SelectionContext(video=video, unlabeled=np.array([True, True, True, False]), budget=2, keypoints=pred,
                           features=np.zeros((n, 2)), rng=np.random.default_rng(0))
    err = true_error(ctx)
    assert err[0] == 0.0 and err[3] > err[1] > err[2] > 0
    # sample 3 is labeled already: the two worst unlabeled ones are 1 and 2
    assert OracleCriterion().select(ctx).tolist() == [1, 2]
