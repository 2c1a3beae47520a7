"""Heatmap strips (t−1, t, t+1) of high- and low-THC samples, as the paper's Fig. 3.

Each row is one sample t and its temporal neighbours; every panel shows the heatmap of the joint whose
heatmaps change most around t (the largest sum of absolute differences to the neighbours, the per-joint
term of THC), warped from its own crop frame onto its display crop and laid over the image when one was
saved. The row's label gives THC and that joint's share of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import matplotlib.pyplot as plt
import numpy as np

from vatl.explain.crops import CROP_SIZE
from vatl.explain.figure_io import save_png


@dataclass
class StripPanel:
    """One panel: the sample (or None: no neighbour on that side), its heatmap (K, h, w) or None, image
    (h, w, 3) uint8 or None, and the affine (2, 3) heatmap -> display crop."""

    sample: int | None
    frame: int | None
    heatmaps: np.ndarray | None
    image: np.ndarray | None
    affine: np.ndarray | None


@dataclass
class Strip:
    """One row: ``kind`` ("high" / "low"), THC of the middle sample, the panels (t−1, t, t+1)."""

    kind: str
    thc: float
    panels: tuple[StripPanel, StripPanel, StripPanel]


def changing_joint(strip: Strip, slots: np.ndarray) -> tuple[int | None, float]:
    """The slot (of ``slots``) whose heatmap differs most between t and its neighbours, and that SAD (a
    missing side counts the other twice, as THC does); (None, 0) without heatmaps."""
    mid = strip.panels[1].heatmaps
    if mid is None:
        return None, 0.0
    sides = [p.heatmaps for p in (strip.panels[0], strip.panels[2]) if p.heatmaps is not None]
    if not sides:
        return None, 0.0
    sad = sum(np.abs(mid[slots] - s[slots]).reshape(len(slots), -1).sum(axis=1) for s in sides)
    sad = sad * (2.0 / len(sides))
    j = int(np.argmax(sad))
    return int(slots[j]), float(sad[j])


def heatmap_strips(strips: list[Strip], joint_names: list[str], slots: np.ndarray, path: Path, title: str) -> bytes:
    """One row per strip (t−1, t, t+1); written to ``path``; returns the PNG bytes."""
    w, h = CROP_SIZE
    rows = max(1, len(strips))
    fig, axes = plt.subplots(rows, 3, figsize=(5.4, 2.3 * rows + 0.4), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for row, strip in zip(axes, strips):
        joint, sad = changing_joint(strip, slots)
        vmax = max([float(p.heatmaps[joint].max()) for p in strip.panels if p.heatmaps is not None and joint is not None]
                   + [1e-6])  # one scale per row: the three panels compare
        for ax, panel, when in zip(row, strip.panels, ("t−1", "t", "t+1")):
            if panel.sample is None:
                ax.text(0.5, 0.5, f"{when}: no neighbour", ha="center", va="center", fontsize=7, transform=ax.transAxes)
                continue
            ax.imshow(panel.image if panel.image is not None else np.full((h, w, 3), 40, dtype=np.uint8))
            if joint is not None and panel.heatmaps is not None and panel.affine is not None:
                warped = cv2.warpAffine(panel.heatmaps[joint].astype(np.float32), panel.affine, (w, h),
                                        flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
                ax.imshow(np.clip(warped / vmax, 0, 1), cmap="inferno", alpha=np.clip(warped / vmax, 0, 1) * 0.85 + 0.1,
                          vmin=0, vmax=1)
            ax.set_title(f"{when}: sample {panel.sample}, frame {panel.frame}", fontsize=6.5)
        name = joint_names[joint] if joint is not None else "—"
        row[0].text(-0.08, 0.5, f"{strip.kind} THC\n{strip.thc:.1f}\n{name}\nSAD {sad:.1f}", transform=row[0].transAxes,
                    ha="right", va="center", fontsize=7)
    if not strips:
        axes[0][1].text(0.5, 0.5, "no sample with a temporal neighbour in the pool", ha="center", va="center",
                        fontsize=8, transform=axes[0][1].transAxes)
    fig.suptitle(title, fontsize=8.5, x=0.01, y=1 - 0.08 / fig.get_figheight(), ha="left", va="top")
    fig.subplots_adjust(left=0.2, right=0.99, top=1 - 0.55 / fig.get_figheight(), bottom=0.01, hspace=0.14, wspace=0.04)
    return save_png(fig, path, dpi=120, photo=True)
