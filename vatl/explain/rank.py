"""Ranking a saved cycle's samples by any criterion, without the model (``vatl explain --compare``).

The criteria are vatl's own selectors (:mod:`vatl.criteria`) over the saved pass: heatmap scores (LC,
MPE, THC, TPC) and WPU come from the file (:class:`SavedScore`), diversity (Core-Set, k-means, DUW)
from the saved features (float16: distances match the run's to about 0.1 %), randomness from the
cycle's selection stream, ``oracle`` from the saved true OKS. So ``rank(data, "coreset")`` is what a
Core-Set run would have selected from this cycle's pass, L and pool.

Per-sample measures for the report: the THC+WPU uncertainty C normalised over the pool (DUW's C), the
feature distance to the labeled set, the distance of each pick to L and the picks before it (what
k-center greedy maximises), and how a selection's values rank within the pool.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vatl.criteria.base import Criterion, Scorer, SelectionContext, UncertaintyCriterion
from vatl.criteria.combine import CombinedScorer, minmax
from vatl.criteria.diversity import CoreSetCriterion, DUWCriterion, KMeansCriterion, min_sq_distances
from vatl.criteria.random import RandomCriterion
from vatl.explain.record import CycleData

RANKABLE = ("random", "lc", "mpe", "tpc", "thc", "wpu", "thc+wpu", "kmeans", "coreset", "thc+duw", "wpu+duw",
            "thc+wpu+duw", "thc+wpu+duw-fixed", "oracle")
_OPTIONS = {"thc+wpu": ("weighting",), "thc+duw": ("lam", "normalise"), "wpu+duw": ("lam", "normalise"),
            "thc+wpu+duw": ("lam", "normalise", "weighting"), "thc+wpu+duw-fixed": ("lam", "normalise", "weighting"),
            "kmeans": ("n_init", "max_iter")}


class SavedScore(Scorer):
    """A score read from the context's ``scores`` (saved with the cycle)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def score(self, ctx: SelectionContext) -> np.ndarray:
        return self._streamed(ctx)


def parse_compare(text: str) -> list[tuple[str, dict]]:
    """``"mpe,coreset,thc+wpu+duw:lam=0.5"`` -> [(name, options), ...]; a ValueError names a criterion that
    cannot be ranked from saved data or an option it does not take. Criteria are separated by commas; an
    option list follows a colon and continues with ``;`` (``thc+wpu+duw:lam=0.5;normalise=false``)."""
    out = []
    for item in filter(None, (t.strip() for t in text.split(","))):
        name, _, rest = item.partition(":")
        name = name.strip().lower()
        if name not in RANKABLE:
            raise ValueError(f"--compare: {name!r} cannot be ranked from a saved pass; known: {', '.join(RANKABLE)}")
        options = {}
        for opt in filter(None, (o.strip() for o in rest.split(";"))):
            key, eq, value = opt.partition("=")
            key = key.strip()
            if not eq or key not in _OPTIONS.get(name, ()):
                allowed = ", ".join(_OPTIONS.get(name, ())) or "none"
                raise ValueError(f"--compare: {item!r}: option {opt!r} is not key=value with a key of {allowed}")
            options[key] = _value(value.strip())
        out.append((name, options))
    return out


def _value(text: str) -> object:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def saved_criterion(name: str, options: dict | None = None) -> Criterion:
    """The criterion ``name`` (one of :data:`RANKABLE`) built over saved scores."""
    o = dict(options or {})
    thc, wpu = SavedScore("thc"), SavedScore("wpu")
    weighting = o.pop("weighting", "const")
    if name == "random":
        c: Criterion = RandomCriterion()
    elif name in ("lc", "mpe", "tpc", "thc", "wpu", "oracle"):
        c = UncertaintyCriterion(SavedScore(name))
    elif name == "thc+wpu":
        c = UncertaintyCriterion(CombinedScorer((thc, wpu), weighting), name=name)
    elif name == "kmeans":
        c = KMeansCriterion(**o)
    elif name == "coreset":
        c = CoreSetCriterion()
    elif name in ("thc+duw", "wpu+duw", "thc+wpu+duw", "thc+wpu+duw-fixed"):
        parts = {"thc+duw": (thc,), "wpu+duw": (wpu,)}.get(name, (thc, wpu))
        c = DUWCriterion(CombinedScorer(parts, weighting if len(parts) == 2 else "const"),
                         lam=o.get("lam"), normalise=bool(o.get("normalise", True)), fixed=name.endswith("-fixed"),
                         name=name)
    else:
        raise ValueError(f"{name!r} cannot be ranked from a saved pass; known: {', '.join(RANKABLE)}")
    c.name = name
    return c


def saved_scores(data: CycleData) -> dict[str, np.ndarray]:
    """The cycle's scores by name, with ``oracle`` = 1 − true OKS (0 without ground truth)."""
    scores = dict(data.scores)
    if data.has_ground_truth:
        scores["oracle"] = np.nan_to_num(1.0 - data.true_oks, nan=0.0)
    return scores


def selection_context(data: CycleData, budget: int) -> SelectionContext:
    """The cycle's selection context rebuilt from saved data (rng: the cycle's selection stream)."""
    from vatl.atl.session import cycle_rng

    return SelectionContext(video=data.as_video(), unlabeled=data.pool, labeled=data.labeled, budget=budget,
                            keypoints=data.keypoints, features=data.features,
                            rng=cycle_rng(int(data.meta["seed"]), data.cycle, 0), scores=saved_scores(data),
                            cycle=data.cycle, G=data.meta.get("G_prev"))


def needed_scores(name: str) -> tuple[str, ...]:
    """The saved scores criterion ``name`` reads."""
    if name in ("lc", "mpe", "tpc", "thc", "wpu", "oracle"):
        return (name,)
    if name in ("thc+wpu", "thc+wpu+duw", "thc+wpu+duw-fixed"):
        return ("thc", "wpu")
    return {"thc+duw": ("thc",), "wpu+duw": ("wpu",)}.get(name, ())


def rank(data: CycleData, name: str, options: dict | None = None, budget: int | None = None) -> np.ndarray:
    """(k,) int64 the samples criterion ``name`` selects from the cycle's pool, in its order; k = ``budget``
    (default: the cycle's |Q|). A ValueError says when the cycle lacks a score the criterion needs."""
    have = saved_scores(data)
    missing = [s for s in needed_scores(name) if s not in have]
    if missing:
        why = {"oracle": "the video has no ground truth", "wpu": str(data.meta.get("wpu", "not computed"))}
        raise ValueError(f"{data.path}: criterion {name!r} needs the score(s) {', '.join(missing)}, which cycle "
                         f"{data.cycle} did not save ({'; '.join(why.get(m, 'not saved') for m in missing)})")
    k = len(data.selected) if budget is None else int(budget)
    return np.asarray(saved_criterion(name, options).select(selection_context(data, k)), dtype=np.int64)


# ----------------------------------------------------------------------------------------- measures
def uncertainty(data: CycleData) -> np.ndarray:
    """(N,) C in [0, 1]: THC and WPU min–max normalised over the pool, added, normalised again (DUW's C);
    THC alone when WPU was not computed; 0 outside the pool."""
    parts = tuple(SavedScore(s) for s in ("thc", "wpu") if s in data.scores)
    if not parts:
        return np.zeros(data.num_samples)
    return CombinedScorer(parts).score(selection_context(data, 0))


def distance_to_labeled(data: CycleData) -> np.ndarray:
    """(N,) Euclidean feature distance of every sample to its nearest labeled sample; NaN when L is empty."""
    if not data.labeled.any():
        return np.full(data.num_samples, np.nan)
    return np.sqrt(min_sq_distances(data.features, data.features[data.labeled])).astype(np.float64)


def pick_distances(data: CycleData, order: np.ndarray) -> np.ndarray:
    """(Q,) distance of each pick of ``order`` to L and the picks before it (NaN for a first pick without L)."""
    order = np.asarray(order, dtype=np.int64)
    out = np.full(len(order), np.nan)
    x = data.features
    best = (min_sq_distances(x[order], x[data.labeled]) if data.labeled.any()
            else np.full(len(order), np.inf, dtype=np.float32)).astype(np.float64)
    for j in range(len(order)):
        out[j] = np.sqrt(best[j]) if np.isfinite(best[j]) else np.nan
        if j + 1 < len(order):
            d = ((x[order[j + 1:]] - x[order[j]]) ** 2).sum(axis=1)
            best[j + 1:] = np.minimum(best[j + 1:], d)
    return out


def pick_distance_percentile(data: CycleData, order: np.ndarray, max_picks: int = 500) -> float | None:
    """How Core-Set-like the picks are: the mean, over the first ``max_picks`` picks of ``order``, of the
    percentile (0–100) of each pick's distance to L and the picks before it among the same distances of
    the other samples still in the pool (100 = the farthest, as k-center greedy picks; 50 = as random).
    The first pick of a cycle without L has no distance and is left out; None when no pick has one."""
    order = np.asarray(order, dtype=np.int64)[:max_picks]
    pool = data.pool.copy()
    x = data.features
    d2 = (min_sq_distances(x, x[data.labeled]) if data.labeled.any()
          else np.full(data.num_samples, np.inf, dtype=np.float32)).astype(np.float64)
    scores = []
    for s in order.tolist():
        pool[s] = False
        ref = d2[pool]  # the other candidates of this pick
        if np.isfinite(d2[s]) and len(ref):
            scores.append(((ref < d2[s]).sum() + 0.5 * (ref == d2[s]).sum()) / len(ref))
        d2 = np.minimum(d2, ((x - x[s]) ** 2).sum(axis=1, dtype=np.float64))
    return float(np.mean(scores) * 100.0) if scores else None


def mean_pairwise_distance(data: CycleData, order: np.ndarray) -> float | None:
    """Mean feature distance between the samples of ``order`` (None for fewer than two)."""
    x = data.features[np.asarray(order, dtype=np.int64)].astype(np.float64)
    if len(x) < 2:
        return None
    d2 = np.maximum((x ** 2).sum(1)[:, None] + (x ** 2).sum(1)[None, :] - 2 * x @ x.T, 0.0)
    iu = np.triu_indices(len(x), 1)
    return float(np.sqrt(d2[iu]).mean())


def pool_percentile(values: np.ndarray, pool: np.ndarray, chosen: np.ndarray) -> float | None:
    """Mean percentile (0–100) of ``values`` of ``chosen`` among the pool's values (50 = as random; ties
    count half); None when nothing is finite."""
    v = np.asarray(values, dtype=np.float64)
    ref = v[pool & np.isfinite(v)]
    mine = v[np.asarray(chosen, dtype=np.int64)]
    mine = mine[np.isfinite(mine)]
    if not len(ref) or not len(mine):
        return None
    ref = np.sort(ref)
    below = np.searchsorted(ref, mine, side="left")
    equal = np.searchsorted(ref, mine, side="right") - below
    return float(np.mean((below + 0.5 * equal) / len(ref)) * 100.0)


@dataclass
class GroupSummary:
    """How a set of picks looks: mean scores, distances, spread, true OKS, pool percentiles."""

    name: str
    count: int
    thc: float | None
    wpu: float | None
    uncertainty: float | None
    uncertainty_percentile: float | None
    distance: float | None
    distance_percentile: float | None
    spread: float | None
    true_oks: float | None

    @classmethod
    def of(cls, name: str, data: CycleData, order: np.ndarray, c: np.ndarray, d_labeled: np.ndarray) -> GroupSummary:
        order = np.asarray(order, dtype=np.int64)

        def mean(values: np.ndarray | None) -> float | None:
            if values is None or not len(order):
                return None
            v = np.asarray(values, dtype=np.float64)[order]
            v = v[np.isfinite(v)]
            return float(v.mean()) if len(v) else None

        pool = data.pool
        return cls(name, len(order), mean(data.scores.get("thc")), mean(data.scores.get("wpu")), mean(c),
                   pool_percentile(c, pool, order), mean(d_labeled), pool_percentile(d_labeled, pool, order),
                   mean_pairwise_distance(data, order), mean(data.true_oks))


def normalised(values: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """(N,) ``values`` min–max normalised over the pool (NaN elsewhere)."""
    out = np.full(len(values), np.nan)
    out[pool] = minmax(np.asarray(values, dtype=np.float64)[pool])
    return out
