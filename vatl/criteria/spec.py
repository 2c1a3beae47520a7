"""Criterion specs: ``name`` or ``name:option=value,option=value``, checked against the registry.

Examples: ``random``, ``thc+wpu:weighting=increase``, ``thc+wpu+duw:normalise=false,lam=0.01``. The CLI
(``--criterion``) and the benchmark tables name criteria this way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vatl.criteria.registry import get_criterion


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
