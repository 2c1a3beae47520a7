"""Every selection criterion by name.

>>> criterion = get_criterion("thc+wpu+duw")           # the paper's method, default options
>>> consumers = criterion.pass_consumers(video)         # before the estimator pass
>>> ...  # stream the pass through the consumers, then
>>> ctx = SelectionContext(video=video, unlabeled=..., budget=k, keypoints=..., features=...,
...                        rng=rng, scores=collect_scores(consumers), G=g_prev, label_keypoints=...)
>>> query = criterion.select(ctx)                        # (min(k, |U|),) distinct unlabeled indices

Names (:data:`CRITERIA`) and their options (keyword arguments of :func:`get_criterion`):

- ``random``
- ``lc``, ``mpe`` (num_peaks=5, min_distance=5)
- ``tpc`` (max_gap=1, threshold=0.01), ``thc`` (max_gap=1)
- ``wpu`` (model_path=None: the shipped AE; epochs=20, lr=8e-4, batch_size=10, min_confidence=0.0)
- ``thc+wpu`` (weighting="const" | "increase" | "decrease", and the thc / wpu options)
- ``kmeans`` (n_init=1, max_iter=100), ``coreset``
- ``thc+wpu+duw``, ``thc+duw``, ``wpu+duw``, ``thc+wpu+duw-fixed``
  (lam=None: 1 normalised / 0.01 paper-exact / 1 fixed; normalise=True, i.e. not paper-exact;
  weighting for the THC+WPU uncertainty, and the thc / wpu options)
- ``oracle``: the true error (1 − OKS against ground truth); a benchmark ceiling, not a method
- ``thc+wpu+duw+lap``, ``coreset+lap``, ``random+lap``: the base's selection with label-anchored
  propagation of the predictions (:mod:`vatl.criteria.propagating`; reach=1e6 frames (no decay), smooth=2,
  span=60, spacing=5, pseudo=0 — chosen on the paper-regime validation videos — and the base's options)

Adding a new criterion: write a :class:`~vatl.criteria.base.Criterion` (``select(ctx)``; if it needs
heatmaps, give it :class:`~vatl.criteria.base.Scorer` objects whose ``pass_consumers`` stream them, or
reuse :class:`~vatl.criteria.base.UncertaintyCriterion` around a new scorer), add a factory to
:data:`_FACTORIES` below, and it is in :data:`CRITERIA`; the template test in
``tests/criteria/test_criteria_template.py`` then runs it automatically.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vatl.criteria.base import Criterion, UncertaintyCriterion
from vatl.criteria.combine import CombinedScorer
from vatl.criteria.confidence import LCScorer, MPEScorer
from vatl.criteria.diversity import CoreSetCriterion, DUWCriterion, KMeansCriterion
from vatl.criteria.oracle import OracleCriterion
from vatl.criteria.random import RandomCriterion
from vatl.criteria.temporal import THCScorer, TPCScorer

if TYPE_CHECKING:
    from vatl.criteria.wpu import WPUScorer


def _thc(max_gap: int = 1) -> THCScorer:
    return THCScorer(max_gap=max_gap)


def _wpu(model_path: str | None = None, epochs: int = 20, lr: float = 8e-4, batch_size: int = 10,
         min_confidence: float = 0.0) -> WPUScorer:
    from vatl.criteria.wpu import WPUScorer  # torch: imported when a WPU criterion is built, not for the names

    return WPUScorer(model_path=model_path, epochs=epochs, lr=lr, batch_size=batch_size,
                     min_confidence=min_confidence)


def _thc_wpu(weighting: str = "const", max_gap: int = 1, model_path: str | None = None, epochs: int = 20,
             lr: float = 8e-4, batch_size: int = 10, min_confidence: float = 0.0) -> CombinedScorer:
    wpu = _wpu(model_path=model_path, epochs=epochs, lr=lr, batch_size=batch_size, min_confidence=min_confidence)
    return CombinedScorer((_thc(max_gap), wpu), weighting)


def _duw(parts: str, fixed: bool = False) -> Callable[..., Criterion]:
    name = parts + ("+duw-fixed" if fixed else "+duw")

    def make(lam: float | None = None, normalise: bool = True, weighting: str = "const", max_gap: int = 1,
             model_path: str | None = None, epochs: int = 20, lr: float = 8e-4, batch_size: int = 10,
             min_confidence: float = 0.0) -> Criterion:
        wpu = _wpu(model_path=model_path, epochs=epochs, lr=lr, batch_size=batch_size,
                   min_confidence=min_confidence)
        if parts == "thc+wpu":
            scorer = CombinedScorer((_thc(max_gap), wpu), weighting)
        elif parts == "thc":
            scorer = CombinedScorer((_thc(max_gap),))
        else:
            scorer = CombinedScorer((wpu,))
        return DUWCriterion(scorer, lam=lam, normalise=normalise, fixed=fixed, name=name)

    make.__name__ = name
    return make


def _lap(base: str) -> Callable[..., Criterion]:
    """``<base>+lap``: the base criterion's selection with label-anchored propagation
    (:mod:`vatl.criteria.propagating`); its options are the propagation's and the base's."""
    from vatl.atl.propagation import Propagation
    from vatl.criteria.propagating import PropagatingCriterion

    # defaults: the settings chosen on the paper-regime validation videos (docs/results/benchmark_paper_regime/)
    own = {"reach": 1e6, "smooth": 2, "span": 60, "spacing": 5, "pseudo": 0}

    def make(**options: Any) -> Criterion:
        mine = {key: options.pop(key, default) for key, default in own.items()}
        propagation = Propagation(reach=float(mine["reach"]), max_gap=mine["span"], smooth=mine["smooth"])
        return PropagatingCriterion(get_criterion(base, **options), propagation, spacing=mine["spacing"],
                                    pseudo=mine["pseudo"], name=f"{base}+lap")

    base_params = list(inspect.signature(_FACTORIES[base]).parameters.values())
    make.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, default=value) for key, value in own.items()]
        + [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in base_params
           if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)])
    make.__name__ = f"{base}+lap"
    return make


def _top(scorer_factory: Callable[..., Any], name: str) -> Callable[..., Criterion]:
    def make(**options: Any) -> Criterion:
        return UncertaintyCriterion(scorer_factory(**options), name=name)

    make.__signature__ = inspect.signature(scorer_factory)  # type: ignore[attr-defined]
    return make


_FACTORIES: dict[str, Callable[..., Criterion]] = {
    "random": RandomCriterion,
    "lc": _top(LCScorer, "lc"),
    "mpe": _top(MPEScorer, "mpe"),
    "tpc": _top(TPCScorer, "tpc"),
    "thc": _top(_thc, "thc"),
    "wpu": _top(_wpu, "wpu"),
    "thc+wpu": _top(_thc_wpu, "thc+wpu"),
    "kmeans": KMeansCriterion,
    "coreset": CoreSetCriterion,
    "thc+wpu+duw": _duw("thc+wpu"),
    "thc+duw": _duw("thc"),
    "wpu+duw": _duw("wpu"),
    "thc+wpu+duw-fixed": _duw("thc+wpu", fixed=True),
    "oracle": OracleCriterion,  # benchmarks only: selects by the true error (reads the ground truth)
}
# label-anchored propagation (LAP) around the paper's method and two baselines
_FACTORIES.update({f"{base}+lap": _lap(base) for base in ("thc+wpu+duw", "coreset", "random")})

CRITERIA: list[str] = list(_FACTORIES)
DEFAULT_CRITERION = "thc+wpu+duw"


def criterion_options(name: str) -> list[str]:
    """The option names ``get_criterion(name, ...)`` accepts."""
    params = inspect.signature(_factory(name)).parameters.values()
    return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


def _factory(name: str) -> Callable[..., Criterion]:
    try:
        return _FACTORIES[name.strip().lower()]
    except KeyError:
        raise ValueError(f"unknown criterion {name!r}; known: {', '.join(CRITERIA)}") from None


def get_criterion(name: str, **options: Any) -> Criterion:
    """A fresh criterion by name (case-insensitive); unknown names or options raise ValueError."""
    factory = _factory(name)
    accepted = criterion_options(name)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"criterion {name!r} has no option {', '.join(unknown)}; "
                         f"accepted: {', '.join(accepted) or 'none'}")
    criterion = factory(**options)
    criterion.name = name.strip().lower()
    return criterion
