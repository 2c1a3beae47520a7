"""Selection criteria: scores (LC, MPE, TPC, THC, WPU), selectors (top-k, k-means, Core-Set, DUW), by name.

See :mod:`vatl.criteria.registry` for the names and options, :mod:`vatl.criteria.spec` for the
``name:option=value`` form and :mod:`vatl.criteria.base` for the context every criterion receives.
"""

from vatl.criteria.base import Criterion, ScoreConsumer, Scorer, SelectionContext, collect_scores
from vatl.criteria.registry import CRITERIA, DEFAULT_CRITERION, criterion_options, get_criterion
from vatl.criteria.spec import CriterionSpec, parse_spec

__all__ = ["CRITERIA", "DEFAULT_CRITERION", "Criterion", "CriterionSpec", "ScoreConsumer", "Scorer",
           "SelectionContext", "collect_scores", "criterion_options", "get_criterion", "parse_spec"]
