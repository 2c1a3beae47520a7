"""The criteria of a benchmark: the paper's tables as rows of criterion specs (:mod:`vatl.criteria.spec`)."""

from __future__ import annotations

from vatl.criteria.spec import CriterionSpec, parse_spec

# The paper's tables as rows of specs (Table 2/4: comparison; Table 3: ablation), plus the oracle ceiling.
TABLE2 = ("random", "lc", "mpe", "tpc", "kmeans", "coreset", "thc+wpu+duw")
TABLE3 = ("coreset", "thc", "wpu", "thc+wpu", "thc+duw", "wpu+duw", "thc+wpu:weighting=increase",
          "thc+wpu:weighting=decrease", "thc+wpu+duw-fixed", "thc+wpu+duw",
          "thc+wpu+duw:weighting=increase", "thc+wpu+duw:weighting=decrease", "thc+wpu+duw:normalise=false")
ORACLE = "oracle"


def parse_specs(text: str) -> list[CriterionSpec]:
    """Specs separated by ``;`` (options use ``,``), or the table names ``table2``, ``table3``."""
    specs: list[CriterionSpec] = []
    for part in filter(None, (p.strip() for p in text.split(";"))):
        group = {"table2": TABLE2, "table3": TABLE3, "table4": TABLE2}.get(part.lower())
        for item in (group or (part,)):
            spec = parse_spec(item)
            if spec not in specs:
                specs.append(spec)
    if not specs:
        raise ValueError("no criterion given")
    return specs
