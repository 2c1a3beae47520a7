"""2-D embeddings of the estimator's features: DensMAP (umap-learn, as the paper's Fig. 5) or PCA.

DensMAP needs the optional extra ``pip install 'vatl[explain]'`` (umap-learn); without it, or for fewer
than :data:`MIN_DENSMAP` points, PCA (scikit-learn) is used, and the method returned says which one and why.
Both are deterministic for a seed (DensMAP then runs single-threaded).
"""

from __future__ import annotations

import logging
import warnings

import numpy as np

log = logging.getLogger(__name__)

METHODS = ("auto", "densmap", "pca")
MIN_DENSMAP = 16  # fewer points than this: PCA (UMAP's neighbour graph needs a few)
MAX_POINTS = 5000  # larger pools are subsampled for the plot (the selected and labeled samples always kept)


def densmap_available() -> bool:
    try:
        import umap  # noqa: F401
    except ImportError:
        return False
    return True


def embed(features: np.ndarray, method: str = "auto", seed: int = 0) -> tuple[np.ndarray, str]:
    """(N, 2) float64 coordinates of features (N, D) and a sentence naming the method used.

    method: ``auto`` (DensMAP when umap-learn is installed and N >= :data:`MIN_DENSMAP`, else PCA),
    ``densmap`` (an ImportError saying how to install it when umap-learn is missing) or ``pca``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown embedding {method!r}; known: {', '.join(METHODS)}")
    x = np.asarray(features, dtype=np.float32)
    n = len(x)
    if method == "densmap" and not densmap_available():
        raise ImportError("the DensMAP embedding needs umap-learn: pip install 'vatl[explain]' (or use --embedding pca)")
    if method in ("auto", "densmap") and n >= MIN_DENSMAP and densmap_available():
        return _densmap(x, seed), f"DensMAP (umap-learn {_umap_version()}, n_neighbors={min(15, n - 1)}, seed {seed})"
    why = ("umap-learn is not installed (pip install 'vatl[explain]' for DensMAP)" if not densmap_available()
           else f"{n} points are too few for DensMAP" if method != "pca" else "asked for")
    return _pca(x), f"PCA (scikit-learn; {why})"


def _densmap(x: np.ndarray, seed: int) -> np.ndarray:
    import umap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # n_jobs overridden by random_state; numba's own notices
        reducer = umap.UMAP(n_components=2, n_neighbors=min(15, len(x) - 1), densmap=True, random_state=seed,
                            n_jobs=1, low_memory=True)
        return np.asarray(reducer.fit_transform(x), dtype=np.float64)


def _pca(x: np.ndarray) -> np.ndarray:
    from sklearn.decomposition import PCA

    n, d = x.shape
    out = np.zeros((n, 2))
    k = min(2, n, d)
    if n >= 2 and k >= 1 and np.ptp(x, axis=0).max() > 0:
        out[:, :k] = PCA(n_components=k).fit_transform(x.astype(np.float64))
    return out


def _umap_version() -> str:
    from importlib.metadata import version

    return version("umap-learn")


def plot_subset(num_samples: int, keep: np.ndarray, max_points: int = MAX_POINTS, seed: int = 0) -> np.ndarray:
    """(M,) ascending sample indices to embed: every sample when N <= ``max_points``, else the ``keep``
    ones (N,) bool and a seeded random draw of the others up to ``max_points``."""
    if num_samples <= max_points:
        return np.arange(num_samples)
    keep = np.asarray(keep, dtype=bool)
    rest = np.flatnonzero(~keep)
    extra = max(0, max_points - int(keep.sum()))
    drawn = np.random.default_rng(seed).choice(rest, size=min(extra, len(rest)), replace=False)
    return np.sort(np.concatenate([np.flatnonzero(keep), drawn])).astype(np.int64)
