"""Stopping criteria (Sec. 3.3): SC_Min (mean OKS of Q > θ) and SC_All (OKS > θ for all of Q ∪ L).

OKS values are those of the cycle's model M_c, predicted before retraining, against the labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STOP_MODES = ("off", "report", "stop")


@dataclass(frozen=True)
class StopDecision:
    criterion: str
    met: bool
    value: float | None  # None when there is nothing to judge (no label yet)
    reason: str


def sc_min(oks_query: np.ndarray, theta: float) -> StopDecision:
    """Met when the mean OKS over the newly labeled samples exceeds θ (Eq. 4)."""
    if len(oks_query) == 0:
        return StopDecision("sc_min", False, None, "no newly labeled sample this cycle")
    value = float(np.mean(oks_query))
    return StopDecision("sc_min", value > theta, value,
                        f"mean OKS of the {len(oks_query)} new labels = {value:.3f} {'>' if value > theta else '<='} θ={theta}")


def sc_all(oks_labeled: np.ndarray, theta: float) -> StopDecision:
    """Met when every labeled sample (Q ∪ L) has OKS above θ (Eq. 5)."""
    if len(oks_labeled) == 0:
        return StopDecision("sc_all", False, None, "no labeled sample yet")
    value = float(np.min(oks_labeled))
    return StopDecision("sc_all", value > theta, value,
                        f"min OKS over the {len(oks_labeled)} labeled samples = {value:.3f} "
                        f"{'>' if value > theta else '<='} θ={theta}")


STOPPING_CRITERIA = ("sc_min", "sc_all")


def check_stop(criterion: str, oks_query: np.ndarray, oks_labeled: np.ndarray, theta: float) -> StopDecision:
    """Evaluate ``criterion`` (``sc_min`` or ``sc_all``); a clear error for any other name."""
    if criterion == "sc_min":
        return sc_min(oks_query, theta)
    if criterion == "sc_all":
        return sc_all(oks_labeled, theta)
    raise ValueError(f"unknown stopping criterion {criterion!r}; known: {', '.join(STOPPING_CRITERIA)}")
