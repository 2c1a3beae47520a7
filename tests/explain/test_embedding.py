"""Embeddings: PCA always, DensMAP when umap-learn is installed; the method used is said."""

from __future__ import annotations

import numpy as np
import pytest

from vatl.explain import embedding
from vatl.explain.embedding import embed, plot_subset


def _clusters(n=60, d=32, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 5, (3, d))
    labels = np.arange(n) % 3
    return (centres[labels] + rng.normal(0, 0.3, (n, d))).astype(np.float32), labels


def test_pca_is_deterministic_and_separates_clusters():
    x, labels = _clusters()
    coords, method = embed(x, "pca")
    assert coords.shape == (60, 2) and method.startswith("PCA (scikit-learn; asked for)")
    np.testing.assert_array_equal(coords, embed(x, "pca")[0])
    spread = [coords[labels == k].std(axis=0).max() for k in range(3)]
    centres = np.stack([coords[labels == k].mean(axis=0) for k in range(3)])
    assert min(np.linalg.norm(centres[a] - centres[b]) for a in range(3) for b in range(a + 1, 3)) > 5 * max(spread)


def test_degenerate_inputs_give_zeros_not_nan():
    assert (embed(np.ones((5, 4), dtype=np.float32), "pca")[0] == 0).all()
    assert embed(np.zeros((1, 4), dtype=np.float32), "pca")[0].shape == (1, 2)
    with pytest.raises(ValueError, match="unknown embedding 'tsne'"):
        embed(np.zeros((3, 2)), "tsne")


def test_without_umap_auto_falls_back_to_pca_and_says_why(monkeypatch):
    monkeypatch.setattr(embedding, "densmap_available", lambda: False)
    coords, method = embed(_clusters()[0], "auto")
    assert method == "PCA (scikit-learn; umap-learn is not installed (pip install 'vatl[explain]' for DensMAP))"
    with pytest.raises(ImportError, match="pip install 'vatl\\[explain\\]'"):
        embed(_clusters()[0], "densmap")


def test_too_few_points_for_densmap_use_pca():
    coords, method = embed(_clusters(n=9)[0], "auto")
    assert coords.shape == (9, 2)
    if embedding.densmap_available():
        assert "9 points are too few for DensMAP" in method


def test_plot_subset_keeps_the_marked_samples():
    keep = np.zeros(100, dtype=bool)
    keep[[3, 50, 97]] = True
    assert plot_subset(100, keep, max_points=200).tolist() == list(range(100))
    subset = plot_subset(100, keep, max_points=10, seed=1)
    assert len(subset) == 10 and {3, 50, 97} <= set(subset.tolist()) and (np.diff(subset) > 0).all()
    np.testing.assert_array_equal(subset, plot_subset(100, keep, max_points=10, seed=1))


@pytest.mark.slow
@pytest.mark.skipif(not embedding.densmap_available(), reason="umap-learn is not installed (pip install 'vatl[explain]')")
def test_densmap_is_deterministic_for_a_seed():
    x, labels = _clusters()
    a, method = embed(x, "densmap", seed=2)
    assert method.startswith("DensMAP (umap-learn") and np.isfinite(a).all()
    np.testing.assert_array_equal(a, embed(x, "densmap", seed=2)[0])
