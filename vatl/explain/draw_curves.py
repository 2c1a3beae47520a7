"""Per-cycle curves of a run from its records (``results.json``): AP and OKS > θ against labeled %, G_c,
E_c and |R|, both stopping criteria's values, the lowest true OKS, and the time per phase."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from vatl.atl.records import PHASES, CycleRecord
from vatl.explain.figure_io import save_png


def _values(records: Sequence[CycleRecord], key: str) -> np.ndarray:
    return np.array([np.nan if r.get(key) is None else float(r.get(key)) for r in records], dtype=np.float64)


def curves_figure(records: Sequence[CycleRecord], theta: float, path: Path, current: int | None = None,
                  final: dict | None = None) -> bytes:
    """Six panels over the run's cycles; ``current`` marks the report's cycle; ``final``: the run's final
    record (its AP point closes the learning curve). Written to ``path``; returns the PNG bytes."""
    fig, axes = plt.subplots(2, 3, figsize=(12.5, 6.6))
    cyc = np.array([r.cycle for r in records])
    pct = _values(records, "labeled_percent")

    ax = axes[0, 0]
    ap, ap_raw, correct = _values(records, "AP@0.6"), _values(records, "AP@0.6_raw"), _values(records, "correct")
    x_end = [final["labeled_percent"]] if final and final.get("AP@0.6") is not None else []
    if np.isfinite(ap).any():
        ax.plot(np.r_[pct, x_end], np.r_[ap, [final["AP@0.6"]] if x_end else []], marker="o",
                label="AP@0.6, labels counted correct")
        ax.plot(pct, ap_raw, marker=".", linestyle="--", label="AP@0.6 of the model alone")
        ax.plot(np.r_[pct, x_end], np.r_[correct, [final.get("correct") or np.nan] if x_end else []], marker="s",
                label=f"% samples with OKS > θ={theta:g} (labels correct)")
        ax.set_ylim(0, 101)
        ax.legend(fontsize=6.5, loc="lower right")
    else:
        ax.text(0.5, 0.5, "no ground truth: AP not measured", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("labeled samples (%) at the cycle's start")
    ax.set_title("learning curve", fontsize=9)

    ax = axes[0, 1]
    ax.plot(cyc, _values(records, "G"), marker="o", label="G_c: mean OKS of M_c on Q_c")
    ax.axhline(theta, color="#b45309", linestyle="--", linewidth=0.8, label=f"θ = {theta:g}")
    ax.set_ylim(0, 1.02)
    ax.set_title("G_c", fontsize=9)
    ax.legend(fontsize=6.5)

    ax = axes[0, 2]
    width = 0.4
    ax.bar(cyc - width / 2, _values(records, "epochs_planned"), width, label="E_c planned = ⌊α(1 − G_c)⌋ (capped)")
    ax.bar(cyc + width / 2, _values(records, "epochs"), width, label="E_c trained")
    twin = ax.twinx()
    twin.plot(cyc, _values(records, "num_retrained_R"), color="#15803d", marker="o", label="|R| (right axis)")
    twin.set_ylabel("|R|", fontsize=8)
    ax.set_title("retraining: E_c and |R|", fontsize=9)
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], fontsize=6.5, loc="upper right")

    ax = axes[1, 0]
    for key, label, marker in (("sc_all_value", "SC_All: lowest OKS over Q ∪ L", "o"),
                               ("sc_min_value", "SC_Min: mean OKS over Q", "s")):
        ax.plot(cyc, _values(records, key), marker=marker, label=label)
    ax.axhline(theta, color="#b45309", linestyle="--", linewidth=0.8, label=f"θ = {theta:g} (met above)")
    ax.set_ylim(0, 1.02)
    ax.set_title("stopping criteria", fontsize=9)
    ax.legend(fontsize=6.5)

    ax = axes[1, 1]
    oks_min = _values(records, "true_oks_min")
    if np.isfinite(oks_min).any():
        ax.plot(cyc, oks_min, marker="o", label="lowest true OKS, labels counted")
        ax.axhline(theta, color="#b45309", linestyle="--", linewidth=0.8)
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=6.5)
    else:
        ax.text(0.5, 0.5, "no ground truth", ha="center", va="center", transform=ax.transAxes)
    ax.set_title("every sample above θ? (ground truth)", fontsize=9)

    ax = axes[1, 2]
    bottom = np.zeros(len(records))
    for phase in PHASES:
        t = np.nan_to_num(_values(records, f"t_{phase}"))
        ax.bar(cyc, t, bottom=bottom, label=phase)
        bottom += t
    ax.set_ylabel("s")
    ax.set_title("time per phase", fontsize=9)
    ax.legend(fontsize=6.5)

    for ax in axes.ravel():
        ax.grid(alpha=0.3)
        if ax is not axes[0, 0]:
            ax.set_xlabel("cycle", fontsize=8)
            if len(cyc):
                ax.set_xticks(cyc)
            if current is not None:
                ax.axvline(current, color="#d97706", linewidth=0.8)
    fig.tight_layout()
    return save_png(fig, path)
