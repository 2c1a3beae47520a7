"""Diversity: k-means, Core-Set (k-center greedy, Eq. 8) and DUW (Eq. 9), over the pass's features.

k-center greedy (:class:`KCenterGreedy`) picks what the textbook one-candidate-at-a-time algorithm
picks (ties to the smaller index), exact up to float32 rounding of the distances (near-ties within
~0.3 % can go either way), and never forms an N×N matrix. Every candidate keeps an upper bound of its
squared distance to the nearest centre (L ∪ picked); candidates are brought up to date lazily, in order
of their bound, in blocks with one matrix product each (BLAS-3), skipping centres that the triangle
inequality rules out; picks are made in rounds inside a small working set of the best candidates.
Memory: O(N) plus O(block × D) and a copy of the pool's features; time: a fraction of N·k·D
multiply-adds (see docs/criteria_scale.md).

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
from contextlib import AbstractContextManager, nullcontext

import numpy as np

from vatl.criteria.base import Criterion, Scorer, SelectionContext

log = logging.getLogger(__name__)

BLOCK_ELEMENTS = 1 << 22  # elements of one distance block (16 MB in float32)
MAX_SPANS = 16  # round spans examined separately when bringing candidates up to date


def _sq_norms(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x, dtype=np.float32)


_BLAS_CONTROLLER: list = []


def _single_threaded_blas() -> AbstractContextManager:
    """BLAS limited to one thread inside the block (a threaded matrix-vector product on a busy machine
    can take 100× longer than a single-threaded one)."""
    if not _BLAS_CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController
            _BLAS_CONTROLLER.append(ThreadpoolController())
        except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
            _BLAS_CONTROLLER.append(None)
    controller = _BLAS_CONTROLLER[0]
    return nullcontext() if controller is None else controller.limit(limits=1, user_api="blas")


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
            d = xr @ centres[c:c + cols].T  # |x|² + |c|² − 2x·c, in place: min_j(|c_j|² − 2x·c_j) + |x|²
            d *= -2.0
            d += cn[None, c:c + cols]
            np.minimum(out[r:r + rows], d.min(axis=1) + xn[r:r + rows], out=out[r:r + rows])
    return np.maximum(out, 0.0)


class KCenterGreedy:
    """Exact k-center greedy with an optional additive bonus per candidate, organised for BLAS-3.

    Candidates are rows of ``x`` (U, D); the objective of candidate i is
    ``distance_weight · sqrt(d2_i) / scale + bonus_i`` with d2_i its squared distance to the nearest
    centre; ties go to the smaller row. ``bonus`` = None is plain Core-Set.

    Bookkeeping per candidate: ``ub`` an upper bound of d2, ``synced`` how many picked centres it
    accounts for, ``near`` the picked centre that realises ub (-1: a labeled one). Objectives only
    decrease, so a stale objective bounds the current one.

    Picks are made in rounds. A round brings candidates up to date in order of their stale objective,
    a block at a time with one matrix product against the centres they miss, until the ``working``
    best exact ones are known to beat every other candidate; it then picks greedily inside this working
    set (one small matrix-vector product per pick) while the best of it still beats the bound of
    everything outside. Bringing a candidate up to date is skipped when the triangle inequality shows
    that no centre it misses can be nearer: ``|c_near − c_j| >= 2·sqrt(ub)`` for every missed centre j
    (the distances from each centre to the centres of every later round are kept as an (m, rounds)
    table of minima). The picks equal those of the plain greedy algorithm.
    """

    def __init__(self, x: np.ndarray, initial_d2: np.ndarray, bonus: np.ndarray | None = None,
                 distance_weight: float = 1.0, block: int = 8192, working: int = 1024):
        self.x = np.ascontiguousarray(x, dtype=np.float32)
        u, dim = self.x.shape
        self.xn = _sq_norms(self.x)
        self.ub = np.asarray(initial_d2, dtype=np.float32).copy()
        self.synced = np.zeros(u, dtype=np.int64)  # picked centres accounted for in ub
        self.near = np.full(u, -1, dtype=np.int64)
        self.bonus = np.zeros(u) if bonus is None else np.asarray(bonus, dtype=np.float64)
        self.weight = float(distance_weight)
        self.scale = 1.0
        self.block = int(block)
        self.working = int(working)
        self.alive = np.ones(u, dtype=bool)
        self.centres = np.empty((16, dim), dtype=np.float32)
        self.centre_norms = np.empty(16, dtype=np.float32)
        self.picks: list[int] = []
        self.round_starts: list[int] = []
        # later[a, r]: min distance from centre a to the centres of rounds r, r+1, ... (after a's own)
        self.later = np.full((16, 8), np.inf, dtype=np.float32)
        self.updates = 0  # candidate-centre distances computed (for benchmarks)
        self.skipped = 0  # candidate-round updates skipped by the triangle inequality
        self._round_ends = np.zeros(0, dtype=np.int64)
        # distances come from |x|² + |c|² − 2x·c in float32: allow for its rounding in the skip test
        self.tolerance = 1e-3 * float(np.sqrt(self.xn.max())) if u else 0.0

    def keys(self, rows: np.ndarray | slice) -> np.ndarray:
        """Objective (upper bound unless synced) of ``rows``; -inf for centres."""
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

    def close_round(self, start: int) -> None:
        """Record the centres picked since ``start`` as one round (for the triangle-inequality test)."""
        m = len(self.picks)
        if m <= start:
            return
        r = len(self.round_starts)
        self.round_starts.append(start)
        if m > self.later.shape[0] or r >= self.later.shape[1]:
            grown = np.full((max(m, 2 * self.later.shape[0]), max(r + 1, 2 * self.later.shape[1])), np.inf,
                            dtype=np.float32)
            grown[:self.later.shape[0], :self.later.shape[1]] = self.later
            self.later = grown
        step = max(1, BLOCK_ELEMENTS // (m - start))
        for a in range(0, m, step):
            e = min(m, a + step)
            d2 = (self.centre_norms[a:e, None] + self.centre_norms[None, start:m]
                  - 2.0 * (self.centres[a:e] @ self.centres[start:m].T))
            self.later[a:e, r] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
        self._round_ends = np.asarray(self.round_starts[1:] + [m], dtype=np.int64)

    def sync(self, rows: np.ndarray) -> None:
        """Bring ub of ``rows`` up to date with every picked centre (matrix products per round).

        A row skips a round when the triangle inequality shows that none of its centres can be nearer
        than the row's current nearest centre.
        """
        m = len(self.picks)
        rows = rows[self.synced[rows] < m]
        if not len(rows):
            return
        synced, near = self.synced[rows], self.near[rows]
        limit = 2.0 * np.sqrt(self.ub[rows]) * (1.0 + 1e-4) + self.tolerance
        # closed rounds the rows miss, coalesced into at most MAX_SPANS spans of consecutive rounds
        # (a span's bound is the smallest of its rounds'); centres after the last closed round follow
        starts = np.asarray(self.round_starts, dtype=np.int64)
        first = int(np.searchsorted(self._round_ends, int(synced.min()), side="right")) if len(starts) else 0
        cuts = np.unique(np.linspace(first, len(starts), min(MAX_SPANS, len(starts) - first) + 1).astype(np.int64))
        spans = [(int(starts[a]), int(self._round_ends[b - 1]), a, b) for a, b in zip(cuts[:-1], cuts[1:])]
        closed = int(self._round_ends[-1]) if len(starts) else 0
        if closed < m:
            spans.append((closed, m, -1, -1))  # centres not in a closed round yet: always checked
        best, arg = self.ub[rows].copy(), near.copy()
        has_near = near >= 0
        for s0, e0, ra, rb in spans:
            need = synced < e0
            if ra >= 0:
                bound = self.later[np.maximum(near, 0), ra:rb].min(axis=1)
                far = has_near & (bound > limit)
                self.skipped += int((need & far).sum())
                need &= ~far
            idx = np.flatnonzero(need)
            if not len(idx):
                continue
            lo = max(s0, int(synced[idx].min()))
            xr, xn = self.x[rows[idx]], self.xn[rows[idx], None]
            step = max(1, BLOCK_ELEMENTS // len(idx))
            line = np.arange(len(idx))
            for c in range(lo, e0, step):
                e = min(e0, c + step)
                with _single_threaded_blas() if e - c < 16 else nullcontext():
                    d = xr @ self.centres[c:e].T
                d *= -2.0
                d += self.centre_norms[None, c:e]
                j = d.argmin(axis=1)
                dj = d[line, j] + xn[:, 0]
                better = dj < best[idx]
                best[idx] = np.where(better, dj, best[idx])
                arg[idx] = np.where(better, c + j, arg[idx])
                self.updates += d.size
        self.ub[rows] = np.maximum(best, 0.0)
        self.near[rows] = arg
        self.synced[rows] = m

    def sync_all(self) -> None:
        """Exact ub for every candidate."""
        for s in range(0, len(self.x), self.block):
            self.sync(np.arange(s, min(s + self.block, len(self.x))))

    def run(self, k: int) -> list[int]:
        """Pick until there are ``k`` picks (or no candidate is left); returns all picks in order."""
        while len(self.picks) < k and self.alive.any():
            start = len(self.picks)
            self._round(k)
            self.close_round(start)
        return self.picks

    def _exact_top(self) -> tuple[np.ndarray, float]:
        """The working set (rows, ascending) whose exact objectives beat every other candidate's bound,
        and the largest bound outside it."""
        t = min(self.working, int(self.alive.sum()))
        stale = self.keys(slice(None))
        size = min(len(stale), max(16 * t, 16384))
        while True:
            if size < len(stale):
                top = np.argpartition(-stale, size - 1)[:size]
                rest_mask = np.ones(len(stale), dtype=bool)
                rest_mask[top] = False
                outside = float(stale[rest_mask].max())
            else:
                top, outside = np.arange(len(stale)), -np.inf
            top = top[np.lexsort((top, -stale[top]))]
            top = top[stale[top] > -np.inf]
            exact_rows, exact_keys = [], []
            kth = -np.inf
            pos = 0
            while pos < len(top):
                blk = top[pos:pos + self.block]
                pos += len(blk)
                self.sync(blk)
                exact_rows.append(blk)
                exact_keys.append(self.keys(blk))
                keys = np.concatenate(exact_keys)
                if len(keys) >= t:
                    kth = np.partition(keys, len(keys) - t)[len(keys) - t]
                next_stale = stale[top[pos]] if pos < len(top) else outside
                if len(keys) >= t and kth > next_stale:
                    break
            else:
                if outside >= kth and size < len(stale):
                    size = min(len(stale), 4 * size)
                    continue
            rows = np.concatenate(exact_rows)
            keys = np.concatenate(exact_keys)
            order = np.lexsort((rows, -keys))
            work, rest = rows[order[:t]], order[t:]
            bound = max(float(keys[rest].max()) if len(rest) else -np.inf,
                        stale[top[pos]] if pos < len(top) else outside)
            return np.sort(work), bound

    def _round(self, k: int) -> None:
        work, bound = self._exact_top()
        wx, wn = self.x[work], self.xn[work]
        wub, wnear = self.ub[work].copy(), self.near[work].copy()
        live = self.alive[work].copy()
        wbonus = self.bonus[work]
        key = np.where(live, self.weight * np.sqrt(wub.astype(np.float64)) / self.scale + wbonus, -np.inf)
        with _single_threaded_blas():
            self._pick_in(work, wx, wn, wub, wnear, live, wbonus, key, bound, k)
        self.ub[work] = np.where(self.alive[work], wub, 0.0)
        self.near[work] = wnear
        self.synced[work] = len(self.picks)

    def _pick_in(self, work: np.ndarray, wx: np.ndarray, wn: np.ndarray, wub: np.ndarray, wnear: np.ndarray,
                 live: np.ndarray, wbonus: np.ndarray, key: np.ndarray, bound: float, k: int) -> None:
        """Greedy picks inside the working set (arrays updated in place)."""
        first = True
        while len(self.picks) < k and live.any():
            b = int(np.argmax(key))  # first maximum = smallest row (work is ascending)
            if not first and not key[b] > bound:
                break
            first = False
            row = int(work[b])
            self.add_centre(row)
            live[b] = False
            m = len(self.picks)
            d = wn + self.centre_norms[m - 1] - 2.0 * (wx @ self.x[row])
            better = np.flatnonzero((d < wub) & live)
            if len(better):
                wub[better] = np.maximum(d[better], 0.0)
                wnear[better] = m - 1
                key[better] = self.weight * np.sqrt(wub[better].astype(np.float64)) / self.scale + wbonus[better]
            key[b] = -np.inf
            self.updates += len(work)


def kcenter_select(features: np.ndarray, pool: np.ndarray, labeled: np.ndarray, k: int,
                   rng: np.random.Generator, uncertainty: np.ndarray | None = None,
                   distance_weight: float = 1.0, uncertainty_weight: float = 0.0,
                   normalise: bool = False, first_most_uncertain: bool = False, block: int = 8192,
                   working: int = 1024) -> np.ndarray:
    """k-center greedy over the pool, optionally with a DUW uncertainty term.

    features: (N, D); pool: (U,) candidate indices; labeled: (L,) indices of existing centres;
    uncertainty: (N,) C in [0, 1] (used where ``uncertainty_weight`` > 0).
    Objective: distance_weight · min-distance / s + uncertainty_weight · C, s = 1 or (``normalise``)
    the largest min-distance at the start. First pick with no labeled sample: the most uncertain
    (largest C, ties: smallest index) if ``first_most_uncertain``, else a random one.
    Returns (min(k, U),) int64 sample indices in pick order.
    """
    pool = np.asarray(pool, dtype=np.int64)
    labeled = np.asarray(labeled, dtype=np.int64)
    k = min(int(k), len(pool))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    feats = np.asarray(features, dtype=np.float32)
    x = feats if len(pool) == len(feats) and (pool == np.arange(len(feats))).all() else feats[pool]
    c = None if uncertainty is None else np.nan_to_num(np.asarray(uncertainty, dtype=np.float64)[pool], nan=0.0)
    bonus = uncertainty_weight * c if (c is not None and uncertainty_weight != 0.0) else None
    greedy = KCenterGreedy(x, min_sq_distances(x, feats[labeled]), bonus, distance_weight, block, working)
    if len(labeled) == 0:
        if first_most_uncertain and c is not None:
            first = int(np.flatnonzero(c == c.max())[0])
        else:
            first = int(rng.integers(len(pool)))
        greedy.add_centre(first)
        greedy.sync_all()
        greedy.close_round(0)
    if normalise:
        top = float(np.sqrt(np.float64(greedy.ub[greedy.alive].max()))) if greedy.alive.any() else 0.0
        greedy.scale = top if top > 0 else 1.0
    greedy.run(k)
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
                              normalise=self.normalise, first_most_uncertain=True)

