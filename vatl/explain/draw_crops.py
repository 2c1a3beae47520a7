"""A grid of person crops with the model's prediction drawn (skeleton; joints coloured by confidence).

Each tile is a display crop (:mod:`.crops`) or, when no image is available, a grey tile of the same
geometry with "no image" on it: the skeleton is drawn either way, from the keypoints (image pixels)
mapped by the tile's affine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from vatl.estimator.crops import apply_affine
from vatl.explain.crops import CROP_SIZE
from vatl.explain.figure_io import save_png
from vatl.skeletons import KeypointSet

COLUMNS = 8


@dataclass
class Tile:
    """One crop: image (h, w, 3) uint8 or None, affine (2, 3) image -> tile pixels, keypoints (K, 3) x, y,
    confidence, and the caption lines."""

    image: np.ndarray | None
    affine: np.ndarray
    keypoints: np.ndarray
    caption: list[str]


def draw_pose(ax: plt.Axes, tile_kp: np.ndarray, confidence: np.ndarray, keypoint_set: KeypointSet) -> None:
    """Skeleton edges and joints of one pose in tile pixels (K, 2); confidence (K,) colours the joints."""
    shown = keypoint_set.annotated_slots
    for a, b in keypoint_set.skeleton:
        if shown[a] and shown[b]:
            ax.plot(tile_kp[[a, b], 0], tile_kp[[a, b], 1], color="#00e5ff", linewidth=1.4, alpha=0.9)
    ax.scatter(tile_kp[shown, 0], tile_kp[shown, 1], c=np.clip(confidence[shown], 0, 1), cmap="RdYlGn", vmin=0,
               vmax=1, s=10, edgecolors="black", linewidths=0.4, zorder=3)


def crop_grid(tiles: list[Tile], keypoint_set: KeypointSet, path: Path, title: str, columns: int = COLUMNS) -> bytes:
    """The tiles in rows of ``columns``, captions under each; written to ``path``; returns the PNG bytes."""
    w, h = CROP_SIZE
    cols = max(1, min(columns, len(tiles)))
    rows = max(1, -(-len(tiles) // cols))
    lines = max((len(t.caption) for t in tiles), default=1)
    cell_w, gap, head = 1.7, 0.06, 0.35  # inches
    cell_h = cell_w * h / w
    text_h = 0.12 * lines + 0.08
    fig_w, fig_h = cols * (cell_w + gap) + gap, head + rows * (cell_h + text_h)
    fig = plt.figure(figsize=(max(fig_w, 3.6), fig_h))
    fw = fig.get_figwidth()
    for j, tile in enumerate(tiles):
        r, c = divmod(j, cols)
        left = gap + c * (cell_w + gap)
        top = fig_h - head - r * (cell_h + text_h)
        ax = fig.add_axes((left / fw, (top - cell_h) / fig_h, cell_w / fw, cell_h / fig_h))
        ax.axis("off")
        if tile.image is not None:
            ax.imshow(tile.image)
        else:
            ax.imshow(np.full((h, w, 3), 200, dtype=np.uint8))
            ax.text(w / 2, 12, "no image", ha="center", va="top", fontsize=7, color="#555")
        kp = apply_affine(tile.affine[None], tile.keypoints[None, :, :2])[0]
        draw_pose(ax, kp, tile.keypoints[:, 2], keypoint_set)
        ax.set_xlim(-0.5, w - 0.5)
        ax.set_ylim(h - 0.5, -0.5)
        fig.text(left / fw, (top - cell_h - 0.03) / fig_h, "\n".join(tile.caption), fontsize=6.2, va="top",
                 ha="left", family="monospace")
    if not tiles:
        fig.text(0.5, 0.4, "no samples", ha="center", va="center")
    fig.text(gap / fw, 1 - 0.08 / fig_h, title, fontsize=9, ha="left", va="top")
    return save_png(fig, path, dpi=1.25 * w / cell_w, photo=True)  # a crop pixel ≈ 1.25 figure pixels
