"""Selection criteria: scores (LC, MPE, TPC, THC, WPU), selectors (top-k, k-means, Core-Set, DUW), by name.

See :mod:`vatl.criteria.registry` for the names and options and :mod:`vatl.criteria.base` for the
context every criterion receives.
"""

from vatl.criteria.base import Criterion, ScoreConsumer, Scorer, SelectionContext, collect_scores
from vatl.criteria.registry import CRITERIA, DEFAULT_CRITERION, criterion_options, get_criterion

__all__ = ["CRITERIA", "DEFAULT_CRITERION", "Criterion", "Scorer", "ScoreConsumer", "SelectionContext",
           "collect_scores", "criterion_options", "get_criterion"]
