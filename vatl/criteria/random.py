"""Random selection: k pool samples uniformly without replacement."""

from __future__ import annotations

import numpy as np

from vatl.criteria.base import Criterion, SelectionContext


class RandomCriterion(Criterion):
    """Uniform sampling of the pool with ``ctx.rng`` (the order of the draw is the selection order)."""

    name = "random"

    def select(self, ctx: SelectionContext) -> np.ndarray:
        pool = ctx.pool
        return ctx.rng.choice(pool, size=ctx.k, replace=False).astype(np.int64) if ctx.k else pool[:0]
