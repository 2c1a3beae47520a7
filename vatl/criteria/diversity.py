"""Diversity: k-means, Core-Set (k-center greedy, Eq. 8) and DUW (Eq. 9), over the pass's features.

k-center greedy is exact and scales without an N×N matrix: every candidate keeps an upper bound of
its squared distance to the nearest centre (L ∪ picked) and the number of picked centres it has been
compared with. A pick takes the best candidate whose bound is exact; candidates are brought up to date
lazily, in blocks ordered by their (stale) bound, with one matrix product per block (BLAS-3), so
candidates far from the top are rarely touched. Memory: O(N) plus O(block · D) and the pool's features.

DUW (Eq. 9): u = argmax_{i∈U} (1 − G)·min_j Δ(x_i, x_j)/s + G·λ·C(x_i); "fixed": min_j Δ/s + λ·C(x_i).
C is the pool's uncertainty normalised to [0, 1] (as in the published code). Two scalings:

- ``normalise=True`` (default): s = the largest min-distance over the pool at the start of the cycle
  (after the first pick when L is empty), so both terms lie in [0, 1]; λ = 1.
- ``normalise=False`` (paper-exact): s = 1 (raw feature distances); λ = 0.01 as in the paper for
  PoseTrack21 (1000 for JRDB-Pose).

G of the previous cycle; at cycle 0 (G = None) G = 0 is used, as in the published code, so DUW is
Core-Set there. When L is empty the first pick is the most uncertain sample (published behaviour) for
DUW and a random one for Core-Set.
"""

from __future__ import annotations

import logging
import numpy as np

from vatl.criteria.base import Criterion, Scorer, SelectionContext

log = logging.getLogger(__name__)

BLOCK_ELEMENTS = 1 << 22  # elements of one distance block (16 MB in float32)


def _sq_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x, dtype=np.float32)


def min_sq_distances(x: np.ndarray, centres: np.ndarray, block: int = BLOCK_ELEMENTS) -> np.ndarray:
    """(M,) float32 squared Euclidean distance of each row of x (M, D) to its nearest row of centres (C, D).

    Chunked: never more than ``block`` distances at once. +inf when there are no centres.
    """
    x = np.asarray(x, dtype=np.float32)
    centres = np.asarray(centres, dtype=np.float32)
    out = np.full(len(x), np.inf, dtype=np.float32)
    if len(centres) == 0 or len(x) == 0:
        return out
    xn, cn = _sq_norms(x), _sq_norms(centres)
    cols = max(1, min(len(centres), block // max(1, min(len(x), 4096))))
    rows = max(1, block // cols)
    for r in range(0, len(x), rows):
        xr = x[r:r + rows]
        for c in range(0, len(centres), cols):
            d = xn[r:r + rows, None] + cn[None, c:c + cols] - 2.0 * (xr @ centres[c:c + cols].T)
            np.minimum(out[r:r + rows], d.min(axis=1), out=out[r:r + rows])
    return np.maximum(out, 0.0)


class KCenterGreedy:
    """Exact (lazy) k-center greedy with an optional additive bonus per candidate.

    Candidates are rows of ``x`` (U, D); the objective of candidate i is
    ``distance_weight · sqrt(d2_i) / scale + bonus_i`` with d2_i its squared distance to the nearest
    centre; ties go to the smaller row. ``bonus`` = None is plain Core-Set.

    Lazy evaluation: ``ub`` holds an upper bound of d2 for every candidate and ``synced`` how many picked
    centres it accounts for. Candidates are ordered by their objective at the last re-sort (an upper
    bound of the current one); a pick brings candidates up to date in that order, a block at a time,
    until no stale bound can beat the best exact objective. Brought-up-to-date candidates stay in an
    "active" buffer (contiguous rows) that follows every new centre with one matrix-vector product;
    the buffer is emptied by a re-sort when it grows past ``max_active`` rows.
    """

    def __init__(self, x: np.ndarray, initial_d2: np.ndarray, bonus: np.ndarray | None = None,
                 distance_weight: float = 1.0, block: int = 1024, max_active: int = 16384):
        self.x = np.ascontiguousarray(x, dtype=np.float32)
        u, dim = self.x.shape
        self.xn = _sq_norms(self.x)
        self.ub = np.asarray(initial_d2, dtype=np.float32).copy()
        self.synced = np.zeros(u, dtype=np.int64)  # picked centres accounted for in ub
        self.bonus = np.zeros(u) if bonus is None else np.asarray(bonus, dtype=np.float64)
        self.weight = float(distance_weight)
        self.scale = 1.0
        self.block = int(block)
        self.max_active = max(int(max_active), 2 * self.block)
        self.alive = np.ones(u, dtype=bool)
        self.centres = np.empty((16, dim), dtype=np.float32)
        self.centre_norms = np.empty(16, dtype=np.float32)
        self.picks: list[int] = []
        self.updates = 0  # candidate-centre distances computed (for benchmarks)
        self.resorts = 0
        self._order: np.ndarray | None = None
        self._act_rows = np.empty(0, dtype=np.int64)
        self._act_x = np.empty((0, dim), dtype=np.float32)

    # objective -----------------------------------------------------------------------------------
    def keys(self, rows: np.ndarray) -> np.ndarray:
        k = self.weight * np.sqrt(self.ub[rows].astype(np.float64)) / self.scale + self.bonus[rows]
        return np.where(self.alive[rows], k, -np.inf)

    def add_centre(self, row: int) -> None:
        """Make candidate ``row`` a centre (it leaves the candidates)."""
        m = len(self.picks)
        if m == len(self.centres):
            self.centres = np.concatenate([self.centres, np.empty_like(self.centres)])
            self.centre_norms = np.concatenate([self.centre_norms, np.empty_like(self.centre_norms)])
        self.centres[m] = self.x[row]
        self.centre_norms[m] = self.xn[row]
        self.picks.append(int(row))
        self.alive[row] = False
        self.ub[row] = 0.0

    def sync(self, rows: np.ndarray, xr: np.ndarray | None = None) -> None:
        """Bring ub of ``rows`` up to date with every picked centre (one matrix product).

        xr: the rows' features (len(rows), D) if already gathered.
        """
        m = len(self.picks)
        start = int(self.synced[rows].min()) if len(rows) else m
        if start >= m:
            return
        xr = self.x[rows] if xr is None else xr
        d = self.xn[rows, None] + self.centre_norms[None, start:m] - 2.0 * (xr @ self.centres[start:m].T)
        self.ub[rows] = np.minimum(self.ub[rows], np.maximum(d.min(axis=1), 0.0))
        self.synced[rows] = m
        self.updates += d.size

    def sync_all(self) -> None:
        """Exact ub for every candidate (chunked)."""
        rows_per = max(1, BLOCK_ELEMENTS // max(1, len(self.picks)))
        for s in range(0, len(self.x), rows_per):
            self.sync(np.arange(s, min(s + rows_per, len(self.x))))

    # selection -----------------------------------------------------------------------------------
    def _resort(self) -> None:
        keys = self.keys(np.arange(len(self.x)))
        self._order = np.argsort(-keys, kind="stable")
        self._stale = keys[self._order]
        self._pos = 0
        self._act_rows = np.empty(0, dtype=np.int64)
        self._act_x = np.empty((0, self.x.shape[1]), dtype=np.float32)
        self.resorts += 1

    def _update_active(self) -> None:
        live = self.alive[self._act_rows]
        if not live.all():
            self._act_rows, self._act_x = self._act_rows[live], self._act_x[live]
        if len(self._act_rows):
            self.sync(self._act_rows, self._act_x)

    def next_pick(self) -> int:
        """Pick the best candidate (exact), make it a centre and return its row; -1 if none is left."""
        if not self.alive.any():
            return -1
        if self._order is None or len(self._act_rows) > self.max_active:
            self._resort()
        self._update_active()
        best_key, best_row = -np.inf, len(self.x)
        if len(self._act_rows):
            k = self.keys(self._act_rows)
            best_key = k.max()
            best_row = int(self._act_rows[k == best_key].min())
        order, stale = self._order, self._stale
        pulled_rows, pulled_x = [], []
        while self._pos < len(order) and (stale[self._pos] > best_key or
                                          (stale[self._pos] == best_key and order[self._pos] < best_row)):
            new = order[self._pos:self._pos + self.block]
            self._pos += len(new)
            new = new[self.alive[new]]
            if not len(new):
                continue
            xr = self.x[new]
            self.sync(new, xr)
            pulled_rows.append(new)
            pulled_x.append(xr)
            k = self.keys(new)
            top = k.max()
            row = int(new[k == top].min())
            if top > best_key or (top == best_key and row < best_row):
                best_key, best_row = top, row
        if pulled_rows:
            self._act_rows = np.concatenate([self._act_rows, *pulled_rows])
            self._act_x = np.concatenate([self._act_x, *pulled_x])
        if best_row >= len(self.x):
            best_row = int(np.flatnonzero(self.alive)[0])  # only -inf objectives left
        self.add_centre(best_row)
        return best_row


def kcenter_select(features: np.ndarray, pool: np.ndarray, labeled: np.ndarray, k: int,
                   rng: np.random.Generator, uncertainty: np.ndarray | None = None,
                   distance_weight: float = 1.0, uncertainty_weight: float = 0.0,
                   normalise: bool = False, block: int = 1024) -> np.ndarray:
    """k-center greedy over the pool, optionally with a DUW uncertainty term.

    features: (N, D); pool: (U,) candidate indices; labeled: (L,) indices of existing centres;
    uncertainty: (N,) C in [0, 1] (used where ``uncertainty_weight`` > 0).
    Objective: distance_weight · min-distance / s + uncertainty_weight · C, s = 1 or (``normalise``)
    the largest min-distance at the start. First pick with no labeled sample: the highest objective
    bonus (most uncertain) if uncertainty_weight > 0, else a random one.
    Returns (min(k, U),) int64 sample indices in pick order.
    """
    pool = np.asarray(pool, dtype=np.int64)
    labeled = np.asarray(labeled, dtype=np.int64)
    k = min(int(k), len(pool))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    feats = np.asarray(features, dtype=np.float32)
    x = feats if len(pool) == len(feats) and (pool == np.arange(len(feats))).all() else feats[pool]
    bonus = None
    if uncertainty_weight != 0.0 and uncertainty is not None:
        bonus = uncertainty_weight * np.nan_to_num(np.asarray(uncertainty, dtype=np.float64)[pool], nan=0.0)
    greedy = KCenterGreedy(x, min_sq_distances(x, feats[labeled]), bonus, distance_weight, block)
    if len(labeled) == 0:
        if bonus is not None:
            first = int(np.flatnonzero(bonus == bonus.max())[0])
        else:
            first = int(rng.integers(len(pool)))
        greedy.add_centre(first)
        greedy.sync_all()
    if normalise:
        top = float(np.sqrt(greedy.ub[greedy.alive].max())) if greedy.alive.any() else 0.0
        greedy.scale = top if top > 0 else 1.0
    while len(greedy.picks) < k:
        greedy.next_pick()
    return pool[np.asarray(greedy.picks, dtype=np.int64)]


def kmeans_select(features: np.ndarray, pool: np.ndarray, k: int, rng: np.random.Generator,
                  n_init: int = 1, max_iter: int = 100) -> np.ndarray:
    """k clusters of the pool's features (sklearn KMeans); the member nearest each centre.

    Clusters are visited by size (largest first, ties by their nearest member's index); when there are
    fewer distinct clusters than k (duplicate features), the rest is drawn at random from the pool.
    Returns (min(k, U),) int64 distinct sample indices.
    """
    from sklearn.cluster import KMeans

    pool = np.asarray(pool, dtype=np.int64)
    k = min(int(k), len(pool))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    x = np.asarray(features, dtype=np.float32)[pool]
    if k == len(pool):
        return pool.copy()
    seed = int(rng.integers(2**31))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning on duplicate points: handled below
        km = KMeans(n_clusters=k, n_init=n_init, max_iter=max_iter, random_state=seed).fit(x)
    labels = km.labels_
    dist = np.einsum("ij,ij->i", x - km.cluster_centers_[labels], x - km.cluster_centers_[labels])
    order = np.lexsort((np.arange(len(x)), dist, labels))  # by cluster, then distance, then index
    first = order[np.r_[True, labels[order][1:] != labels[order][:-1]]]
    sizes = np.bincount(labels, minlength=k)[labels[first]]
    first = first[np.lexsort((first, -sizes))]
    picked = pool[first]
    if len(picked) < k:
        rest = np.setdiff1d(pool, picked)
        picked = np.concatenate([picked, rng.choice(rest, size=k - len(picked), replace=False)])
    return picked.astype(np.int64)


class KMeansCriterion(Criterion):
    """k-means over the pool's features (representativeness)."""

    name = "kmeans"

    def __init__(self, n_init: int = 1, max_iter: int = 100):
        self.n_init = n_init
        self.max_iter = max_iter

    def select(self, ctx: SelectionContext) -> np.ndarray:
        return kmeans_select(ctx.features, ctx.pool, ctx.k, ctx.rng, self.n_init, self.max_iter)


class CoreSetCriterion(Criterion):
    """Core-Set: k-center greedy over Euclidean feature distance to L ∪ picked (Eq. 8)."""

    name = "coreset"

    def select(self, ctx: SelectionContext) -> np.ndarray:
        return kcenter_select(ctx.features, ctx.pool, np.flatnonzero(ctx.labeled), ctx.k, ctx.rng)


class DUWCriterion(Criterion):
    """Dynamic uncertainty weighting of Core-Set (Eq. 9), or its fixed-λ variant.

    uncertainty: the scorer of C (normalised to [0, 1] over the pool before use).
    lam: λ (default 1 when ``normalise``, else 0.01 as in the paper; 1 for the fixed variant).
    """

    def __init__(self, uncertainty: Scorer, lam: float | None = None, normalise: bool = True,
                 fixed: bool = False, name: str | None = None):
        from vatl.criteria.combine import CombinedScorer

        self.uncertainty = uncertainty if isinstance(uncertainty, CombinedScorer) else CombinedScorer((uncertainty,))
        self.scorers = (self.uncertainty,)
        self.normalise = bool(normalise)
        self.fixed = bool(fixed)
        self.lam = float(lam if lam is not None else (1.0 if (normalise or fixed) else 0.01))
        self.name = name or f"{uncertainty.name}+duw{'-fixed' if fixed else ''}"

    def weights(self, G: float | None) -> tuple[float, float]:
        """(distance weight, uncertainty weight) for the previous cycle's G (None -> 0)."""
        if self.fixed:
            return 1.0, self.lam
        g = 0.0 if G is None else float(np.clip(G, 0.0, 1.0))
        return 1.0 - g, g * self.lam

    def select(self, ctx: SelectionContext) -> np.ndarray:
        if ctx.k == 0:
            return np.zeros(0, dtype=np.int64)
        c = self.uncertainty.score(ctx)
        a, b = self.weights(ctx.G)
        return kcenter_select(ctx.features, ctx.pool, np.flatnonzero(ctx.labeled), ctx.k, ctx.rng,
                              uncertainty=c, distance_weight=a, uncertainty_weight=b,
                              normalise=self.normalise)

