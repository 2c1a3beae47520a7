"""Clothing, skin and hair colours, and clothing textures as functions of body coordinates."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from vatl.data.synthetic.domains import HAIR, PALETTES, SKIN, DomainSpec, Swatch

MATERIALS = ("skin", "shirt", "pants", "shoes", "hair", "eyes")
SKIN_M, SHIRT_M, PANTS_M, SHOES_M, HAIR_M, EYES_M = range(6)
EYE_COLOUR = (35.0, 30.0, 30.0)


def hsv_to_bgr(hsv: np.ndarray) -> np.ndarray:
    """(..., 3) OpenCV HSV (H 0–180, S and V 0–255) -> (..., 3) float BGR 0–255."""
    hsv = np.asarray(hsv, dtype=np.float64)
    h = (hsv[..., 0] % 180.0) / 30.0          # 0..6
    s = hsv[..., 1] / 255.0
    v = hsv[..., 2]
    c = v * s
    x = c * (1 - np.abs(h % 2 - 1))
    m = v - c
    sector = np.floor(h).astype(int) % 6
    zero = np.zeros_like(c)
    r = np.choose(sector, [c, x, zero, zero, x, c])
    g = np.choose(sector, [x, c, c, x, zero, zero])
    b = np.choose(sector, [zero, zero, x, c, c, x])
    return np.stack([b + m, g + m, r + m], axis=-1)


def sample_colour(swatches: Sequence[Swatch], rng: np.random.Generator) -> np.ndarray:
    """(3,) float BGR from a weighted choice of colour families."""
    w = np.array([s.weight for s in swatches], dtype=np.float64)
    sw = swatches[int(rng.choice(len(swatches), p=w / w.sum()))]
    hsv = [rng.uniform(*sw.hue), rng.uniform(*sw.sat), rng.uniform(*sw.val)]
    return hsv_to_bgr(np.array(hsv))


def weighted_choice(weights: Mapping[str, float], rng: np.random.Generator) -> str:
    names = sorted(k for k, v in weights.items() if v > 0)
    w = np.array([weights[n] for n in names], dtype=np.float64)
    return names[int(rng.choice(len(names), p=w / w.sum()))]


@dataclass(frozen=True)
class Garment:
    """A textured piece of clothing: two colours mixed by a pattern."""

    colour_a: tuple[float, float, float]
    colour_b: tuple[float, float, float]
    texture: str
    period: float       # body heights
    phase: float
    angle: float        # radians, orientation of stripes/checks


@dataclass(frozen=True)
class Appearance:
    """How one person looks."""

    skin: tuple[float, float, float]
    hair: tuple[float, float, float]
    shoes: tuple[float, float, float]
    shirt: Garment
    pants: Garment
    long_sleeves: bool
    long_pants: bool
    has_hair: bool


def _garment(domain: DomainSpec, rng: np.random.Generator) -> Garment:
    palette = PALETTES[domain.palette]
    a = sample_colour(palette, rng)
    texture = weighted_choice(domain.textures, rng)
    b = sample_colour(palette, rng)
    if texture != "solid" and np.abs(a - b).sum() < 90:   # a visible pattern
        b = np.clip(255 - a + rng.uniform(-40, 40, 3), 0, 255)
    return Garment(tuple(a), tuple(b), texture, float(rng.uniform(*domain.texture_period)),
                   float(rng.uniform(0, 1)), float(rng.uniform(-0.5, 0.5)))


def sample_appearance(domain: DomainSpec, rng: np.random.Generator) -> Appearance:
    shirt = _garment(domain, rng)
    pants = _garment(domain, rng)
    return Appearance(
        skin=tuple(sample_colour(SKIN, rng)), hair=tuple(sample_colour(HAIR, rng)),
        shoes=tuple(sample_colour(PALETTES["dark"] + PALETTES[domain.palette], rng)),
        shirt=shirt, pants=pants,
        long_sleeves=bool(rng.random() < domain.long_sleeve_prob),
        long_pants=bool(rng.random() < domain.long_pants_prob),
        has_hair=bool(rng.random() < domain.hair_prob),
    )


def texture_pattern(garment: Garment, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Mix weight in [0, 1] of colour B at body coordinates (u right, v down, in body heights).

    Args:
        u, v: (h, w) float arrays.
    Returns:
        (h, w) float32.
    """
    c, s = np.cos(garment.angle), np.sin(garment.angle)
    a = (c * u + s * v) / garment.period + garment.phase
    b = (-s * u + c * v) / garment.period + garment.phase
    kind = garment.texture
    if kind == "solid":
        out = np.zeros_like(u)
    elif kind == "hstripes":
        out = (np.floor(b) % 2 == 0).astype(np.float64)
    elif kind == "vstripes":
        out = (np.floor(a) % 2 == 0).astype(np.float64)
    elif kind == "diagonal":
        out = (np.floor((a + b) * 0.7) % 2 == 0).astype(np.float64)
    elif kind == "checker":
        out = ((np.floor(a) + np.floor(b)) % 2 == 0).astype(np.float64)
    elif kind == "dots":
        fa, fb = a - np.floor(a) - 0.5, b - np.floor(b) - 0.5
        out = (fa * fa + fb * fb < 0.09).astype(np.float64)
    elif kind == "blotches":   # smooth camouflage-like blobs from a few sinusoids
        out = (np.sin(a * 1.7) + np.sin(b * 1.3 + 1.1) + np.sin((a - b) * 0.9 + 2.0) > 0.4).astype(np.float64)
    elif kind == "gradient":
        out = np.clip(0.5 + 0.5 * np.sin(b * 0.6), 0, 1)
    else:
        raise ValueError(f"unknown texture {kind!r}")
    return out.astype(np.float32)
