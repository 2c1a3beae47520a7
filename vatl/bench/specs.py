"""Criterion specs of a benchmark: ``name`` or ``name:option=value,option=value`` with a label.

Examples: ``random``, ``thc+wpu:weighting=increase``, ``thc+wpu+duw:normalise=false,lam=0.01``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vatl.criteria import get_criterion

# The paper's tables as rows of specs (Table 2/4: comparison; Table 3: ablation), plus the oracle ceiling.
TABLE2 = ("random", "lc", "mpe", "tpc", "kmeans", "coreset", "thc+wpu+duw")
TABLE3 = ("coreset", "thc", "wpu", "thc+wpu", "thc+duw", "wpu+duw", "thc+wpu:weighting=increase",
          "thc+wpu:weighting=decrease", "thc+wpu+duw-fixed", "thc+wpu+duw",
          "thc+wpu+duw:weighting=increase", "thc+wpu+duw:weighting=decrease", "thc+wpu+duw:normalise=false")
ORACLE = "oracle"


@dataclass(frozen=True)
class CriterionSpec:
    name: str
    options: dict[str, Any] = field(default_factory=dict, hash=False, compare=True)

    @property
    def label(self) -> str:
        """A folder-safe unique label, e.g. ``thc+wpu@weighting=increase``."""
        if not self.options:
            return self.name
        return self.name + "@" + ",".join(f"{k}={v}" for k, v in sorted(self.options.items()))


def _value(text: str) -> Any:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "none":
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_spec(text: str) -> CriterionSpec:
    """``name[:key=value,...]`` -> :class:`CriterionSpec`, checked against the registry."""
    name, _, rest = text.strip().partition(":")
    options = {}
    for item in filter(None, (s.strip() for s in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise ValueError(f"criterion spec {text!r}: option {item!r} is not key=value")
        options[key.strip()] = _value(value.strip())
    get_criterion(name, **options)  # raises a clear error for unknown names and options
    return CriterionSpec(name.strip().lower(), options)


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
