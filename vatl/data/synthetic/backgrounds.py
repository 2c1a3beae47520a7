"""Background canvases: a few scene families drawn with OpenCV, plus clutter and limb-like distractors.

A canvas covers the base image plus a margin on every side (the camera pans, zooms and rolls over it);
``horizon`` is given in canvas pixels. All drawing is vectorised or done by cv2 primitives.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from vatl.data.synthetic.appearance import hsv_to_bgr, sample_colour
from vatl.data.synthetic.domains import PALETTES, SKIN

Canvas = np.ndarray  # (H, W, 3) uint8 BGR


def smooth_noise(rng: np.random.Generator, h: int, w: int, cell: float) -> np.ndarray:
    """(h, w) float32 smooth noise, roughly N(0, 1), with features about ``cell`` pixels wide."""
    gh, gw = max(2, int(h / cell) + 2), max(2, int(w / cell) + 2)
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)


def _hsv(h: float, s: float, v: float) -> tuple[float, float, float]:
    return tuple(float(c) for c in hsv_to_bgr(np.array([h, s, v])))


def _vertical_gradient(h: int, w: int, top, bottom, y0: int = 0, y1: int | None = None) -> np.ndarray:
    y1 = h if y1 is None else y1
    a = np.clip((np.arange(h, dtype=np.float32) - y0) / max(y1 - y0, 1), 0, 1)[:, None, None]
    col = (1 - a) * np.array(top, np.float32) + a * np.array(bottom, np.float32)
    return np.broadcast_to(col, (h, w, 3)).copy()


def _textured(img: np.ndarray, rng: np.random.Generator, amount: float, cell: float) -> np.ndarray:
    n = smooth_noise(rng, img.shape[0], img.shape[1], cell) + 0.5 * smooth_noise(rng, img.shape[0], img.shape[1], cell / 4)
    return img * (1.0 + amount * n[..., None])


def _ground_split(h: int, horizon: float) -> int:
    return int(np.clip(horizon, 0, h))


def _rect(img: Canvas, x0: float, y0: float, x1: float, y1: float, colour, thickness: int = -1) -> None:
    cv2.rectangle(img, (int(x0), int(y0)), (int(x1), int(y1)), tuple(float(c) for c in colour), thickness)


def _buildings(img: Canvas, rng: np.random.Generator, base_y: int, dark: bool) -> None:
    h, w = img.shape[:2]
    x = -rng.uniform(0, 60)
    while x < w:
        bw = rng.uniform(0.08, 0.25) * w
        bh = rng.uniform(0.25, 0.9) * max(base_y, 40)
        colour = np.array(_hsv(rng.uniform(0, 30), rng.uniform(10, 90), rng.uniform(25, 60) if dark else rng.uniform(90, 210)))
        _rect(img, x, base_y - bh, x + bw, base_y, colour)
        cols, rows = int(bw // 18), int(bh // 22)
        for i in range(cols):
            for j in range(rows):
                if dark:
                    if rng.random() < 0.3:
                        _rect(img, x + 6 + 18 * i, base_y - bh + 6 + 22 * j, x + 14 + 18 * i, base_y - bh + 16 + 22 * j,
                              _hsv(rng.uniform(18, 30), rng.uniform(80, 180), rng.uniform(160, 255)))
                else:
                    _rect(img, x + 6 + 18 * i, base_y - bh + 6 + 22 * j, x + 14 + 18 * i, base_y - bh + 16 + 22 * j,
                          colour * rng.uniform(0.5, 0.8))
        x += bw + rng.uniform(0, 20)


def street(rng: np.random.Generator, h: int, w: int, horizon: float) -> Canvas:
    gy = _ground_split(h, horizon)
    sky = _hsv(rng.uniform(95, 110), rng.uniform(20, 110), rng.uniform(200, 250))
    img = _vertical_gradient(h, w, sky, (235, 235, 235), 0, gy)
    road = np.array(_hsv(rng.uniform(0, 30), rng.uniform(0, 30), rng.uniform(90, 160)))
    img[gy:] = _textured(np.broadcast_to(road, (h - gy, w, 3)).copy(), rng, 0.05, 12)
    img = np.clip(img, 0, 255).astype(np.uint8)
    _buildings(img, rng, gy, dark=False)
    for _ in range(int(rng.integers(3, 8))):  # kerb lines, markings, lamp posts
        y = int(rng.uniform(gy, h))
        cv2.line(img, (0, y), (w, y + int(rng.uniform(-20, 20))), _hsv(0, 0, rng.uniform(150, 240)), int(rng.integers(1, 4)))
    for _ in range(int(rng.integers(1, 4))):
        x = int(rng.uniform(0, w))
        _rect(img, x, gy - rng.uniform(80, 200), x + 4, gy + 10, _hsv(0, 0, rng.uniform(30, 80)))
    return img


def indoor(rng: np.random.Generator, h: int, w: int, horizon: float) -> Canvas:
    gy = _ground_split(h, horizon + rng.uniform(0.05, 0.2) * h)
    wall = np.array(_hsv(rng.uniform(0, 180), rng.uniform(10, 70), rng.uniform(150, 235)))
    img = _textured(np.broadcast_to(wall, (h, w, 3)).copy(), rng, 0.05, 80)
    floor = np.array(_hsv(rng.uniform(8, 22), rng.uniform(60, 160), rng.uniform(70, 170)))
    planks = (np.arange(h - gy) // max(int(rng.uniform(6, 14)), 1)) % 2
    img[gy:] = floor * (0.85 + 0.15 * planks[:, None, None])
    img = np.clip(_textured(img, rng, 0.06, 12), 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(3, 8))):  # doors, windows, frames, furniture
        x0, y0 = rng.uniform(0, w), rng.uniform(0.1 * h, gy)
        x1, y1 = x0 + rng.uniform(30, 140), min(gy, y0 + rng.uniform(30, 160))
        colour = sample_colour(PALETTES["everyday"], rng)
        _rect(img, x0, y0, x1, y1, colour)
        _rect(img, x0, y0, x1, y1, colour * 0.5, 2)
    return img


def park(rng: np.random.Generator, h: int, w: int, horizon: float) -> Canvas:
    gy = _ground_split(h, horizon)
    img = _vertical_gradient(h, w, _hsv(rng.uniform(95, 110), rng.uniform(40, 120), 240), (230, 230, 225), 0, gy)
    grass = np.array(_hsv(rng.uniform(35, 55), rng.uniform(90, 190), rng.uniform(90, 170)))
    img[gy:] = _textured(np.broadcast_to(grass, (h - gy, w, 3)).copy(), rng, 0.2, 10)
    img = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(6, 16))):  # tree line
        x, r = int(rng.uniform(0, w)), int(rng.uniform(20, 70))
        cv2.rectangle(img, (x - 4, gy - r), (x + 4, gy), _hsv(15, 120, 60), -1)
        cv2.ellipse(img, (x, gy - r - r // 2), (r, int(r * rng.uniform(0.8, 1.3))), 0, 0, 360,
                    _hsv(rng.uniform(35, 65), rng.uniform(100, 220), rng.uniform(50, 130)), -1)
    pts = np.array([[rng.uniform(0.3, 0.5) * w, gy], [rng.uniform(0.5, 0.7) * w, gy], [rng.uniform(0.6, 1.0) * w, h],
                    [rng.uniform(0.0, 0.4) * w, h]], dtype=np.int32)
    cv2.fillConvexPoly(img, pts, _hsv(rng.uniform(10, 25), rng.uniform(30, 90), rng.uniform(150, 210)))
    return img


def gym(rng: np.random.Generator, h: int, w: int, horizon: float) -> Canvas:
    gy = _ground_split(h, horizon + rng.uniform(0.1, 0.25) * h)
    wall = np.array(_hsv(rng.uniform(0, 180), rng.uniform(0, 40), rng.uniform(190, 245)))
    img = np.broadcast_to(wall, (h, w, 3)).copy()
    floor = np.array(_hsv(rng.uniform(10, 20), rng.uniform(120, 200), rng.uniform(150, 220)))
    planks = (np.arange(w) // max(int(rng.uniform(10, 20)), 1)) % 3
    img[gy:] = floor * (0.9 + 0.05 * planks[None, :, None])
    img = np.clip(_textured(img, rng, 0.05, 20), 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(2, 6))):  # mats on the wall
        x0 = rng.uniform(0, w)
        _rect(img, x0, gy - rng.uniform(60, 160), x0 + rng.uniform(40, 120), gy,
              _hsv(rng.uniform(100, 125), rng.uniform(120, 230), rng.uniform(100, 200)))
    x0 = rng.uniform(0, w)
    for i in range(int(rng.integers(4, 10))):  # wall bars
        cv2.line(img, (int(x0 + 14 * i), int(gy - 220)), (int(x0 + 14 * i), gy), _hsv(15, 110, 140), 3)
    for _ in range(int(rng.integers(2, 5))):  # court lines
        line_col = _hsv(rng.uniform(0, 180), rng.uniform(0, 220), 240)
        cv2.line(img, (0, int(rng.uniform(gy, h))), (w, int(rng.uniform(gy, h))), line_col, int(rng.integers(2, 5)))
        cv2.ellipse(img, (int(rng.uniform(0, w)), int(rng.uniform(gy, h))), (int(rng.uniform(40, 160)), int(rng.uniform(15, 50))),
                    0, 0, 360, line_col, 3)
    return img


def night_street(rng: np.random.Generator, h: int, w: int, horizon: float) -> Canvas:
    gy = _ground_split(h, horizon)
    img = _vertical_gradient(h, w, (40, 15, 5), (70, 40, 30), 0, gy)
    road = np.array(_hsv(110, rng.uniform(20, 60), rng.uniform(25, 50)))
    img[gy:] = _textured(np.broadcast_to(road, (h - gy, w, 3)).copy(), rng, 0.15, 25)
    img = np.clip(img, 0, 255).astype(np.uint8)
    _buildings(img, rng, gy, dark=True)
    glow = np.zeros((h, w), np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    for _ in range(int(rng.integers(2, 6))):  # street lamps and their light
        x, top = rng.uniform(0, w), gy - rng.uniform(100, 220)
        cv2.line(img, (int(x), int(top)), (int(x), gy + 20), (20, 20, 20), 4)
        r = rng.uniform(30, 90)
        glow += np.exp(-((xx - x) ** 2 + (yy - top) ** 2) / (2 * r * r)) * rng.uniform(0.6, 1.2)
        glow += 0.4 * np.exp(-((xx - x) ** 2 / (2 * r * r) + (yy - gy - 40) ** 2 / (2 * (3 * r) ** 2)))
    light = np.array(_hsv(rng.uniform(15, 28), rng.uniform(80, 200), 255), np.float32)
    return np.clip(img + glow[..., None] * light * 0.8, 0, 255).astype(np.uint8)


def field(rng: np.random.Generator, h: int, w: int, horizon: float) -> Canvas:
    base = np.array(_hsv(rng.uniform(25, 50), rng.uniform(70, 170), rng.uniform(80, 150)), np.float32)
    img = base * (1 + 0.25 * smooth_noise(rng, h, w, 60)[..., None] + 0.12 * smooth_noise(rng, h, w, 6)[..., None])
    rows = rng.uniform(8, 20)
    angle = rng.uniform(0, np.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img *= (1 + 0.08 * np.sin((np.cos(angle) * xx + np.sin(angle) * yy) * 2 * np.pi / rows))[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8)
    for _ in range(int(rng.integers(1, 4))):  # dirt paths
        pts = np.cumsum(rng.normal(0, 60, (6, 2)), axis=0) + [rng.uniform(0, w), rng.uniform(0, h)]
        cv2.polylines(img, [pts.astype(np.int32)], False, _hsv(rng.uniform(12, 22), rng.uniform(50, 120), rng.uniform(130, 190)),
                      int(rng.integers(8, 25)))
    for _ in range(int(rng.integers(10, 30))):  # bushes and rocks
        c = (int(rng.uniform(0, w)), int(rng.uniform(0, h)))
        ax = (int(rng.uniform(5, 25)), int(rng.uniform(5, 25)))
        colour = _hsv(rng.uniform(35, 65), rng.uniform(100, 200), rng.uniform(40, 90)) if rng.random() < 0.7 else _hsv(0, 0, rng.uniform(100, 180))
        cv2.ellipse(img, c, ax, rng.uniform(0, 180), 0, 360, colour, -1)
    return img


def festival(rng: np.random.Generator, h: int, w: int, horizon: float) -> Canvas:
    gy = _ground_split(h, horizon)
    img = _vertical_gradient(h, w, _hsv(rng.uniform(110, 160), rng.uniform(100, 200), rng.uniform(40, 120)),
                             _hsv(rng.uniform(0, 30), rng.uniform(100, 200), rng.uniform(120, 200)), 0, gy)
    ground = np.array(_hsv(rng.uniform(10, 40), rng.uniform(40, 120), rng.uniform(80, 150)))
    img[gy:] = _textured(np.broadcast_to(ground, (h - gy, w, 3)).copy(), rng, 0.12, 8)
    img = np.clip(img, 0, 255).astype(np.uint8)
    _rect(img, rng.uniform(0, 0.3) * w, gy - rng.uniform(120, 220), rng.uniform(0.7, 1.0) * w, gy - 40, (20, 20, 25))
    for _ in range(int(rng.integers(2, 5))):  # flag garlands
        x0, x1 = rng.uniform(0, w / 2), rng.uniform(w / 2, w)
        y0 = rng.uniform(0.05, 0.4) * gy
        n = int((x1 - x0) // 16)
        for i in range(n):
            x = x0 + 16 * i
            y = y0 + 25 * np.sin(np.pi * i / max(n - 1, 1))
            tri = np.array([[x, y], [x + 12, y], [x + 6, y + 16]], dtype=np.int32)
            cv2.fillConvexPoly(img, tri, tuple(float(c) for c in sample_colour(PALETTES["festive"], rng)))
    for _ in range(int(rng.integers(15, 40))):  # a distant crowd: heads and shoulders
        x, s = rng.uniform(0, w), rng.uniform(8, 16)
        colour = sample_colour(PALETTES["dark"], rng)
        cv2.ellipse(img, (int(x), int(gy - s)), (int(1.6 * s), int(1.4 * s)), 0, 180, 360, colour, -1)
        cv2.circle(img, (int(x), int(gy - 2.6 * s)), int(0.55 * s), colour * 1.3, -1)
    for _ in range(int(rng.integers(5, 12))):  # stage lights
        cv2.circle(img, (int(rng.uniform(0, w)), int(rng.uniform(0, gy))), int(rng.uniform(3, 10)),
                   _hsv(rng.uniform(0, 180), rng.uniform(50, 200), 255), -1)
    return img


def abstract(rng: np.random.Generator, h: int, w: int, horizon: float) -> Canvas:
    img = _vertical_gradient(h, w, sample_colour(PALETTES["festive"], rng), sample_colour(PALETTES["everyday"], rng))
    img = np.clip(_textured(img, rng, 0.15, 40), 0, 255).astype(np.uint8)
    add_clutter(img, rng, int(rng.integers(20, 40)), "festive", scale=60)
    return img


FAMILIES: dict[str, Callable[[np.random.Generator, int, int, float], Canvas]] = {
    "street": street, "indoor": indoor, "park": park, "gym": gym, "night_street": night_street,
    "field": field, "festival": festival, "abstract": abstract,
}


def add_clutter(img: Canvas, rng: np.random.Generator, count: int, palette: str, scale: float) -> None:
    """Random rectangles, ellipses, lines and triangles (in place); sizes around ``scale`` pixels."""
    h, w = img.shape[:2]
    for _ in range(count):
        colour = tuple(float(c) for c in sample_colour(PALETTES[palette], rng))
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        size = rng.uniform(0.2, 1.0) * scale
        kind = rng.integers(4)
        if kind == 0:
            _rect(img, cx, cy, cx + size * rng.uniform(0.3, 2), cy + size * rng.uniform(0.3, 2), colour)
        elif kind == 1:
            cv2.ellipse(img, (int(cx), int(cy)), (int(size / 2) + 1, int(size * rng.uniform(0.2, 0.6)) + 1),
                        rng.uniform(0, 180), 0, 360, colour, -1)
        elif kind == 2:
            a = rng.uniform(0, np.pi)
            d = np.array([np.cos(a), np.sin(a)]) * size
            cv2.line(img, (int(cx - d[0]), int(cy - d[1])), (int(cx + d[0]), int(cy + d[1])), colour, int(rng.integers(1, 5)))
        else:
            tri = (np.array([cx, cy]) + rng.uniform(-size, size, (3, 2))).astype(np.int32)
            cv2.fillConvexPoly(img, tri, colour)


def add_limb_distractors(img: Canvas, rng: np.random.Generator, count: int, palette: str, limb_px: float) -> None:
    """Skin- and cloth-coloured capsules about the size of a limb (in place): hard negatives."""
    h, w = img.shape[:2]
    for _ in range(count):
        colour = sample_colour(SKIN if rng.random() < 0.5 else PALETTES[palette], rng)
        a = np.array([rng.uniform(0, w), rng.uniform(0, h)])
        angle = rng.uniform(0, 2 * np.pi)
        b = a + limb_px * rng.uniform(0.6, 1.2) * np.array([np.cos(angle), np.sin(angle)])
        cv2.line(img, tuple(int(v) for v in a), tuple(int(v) for v in b), tuple(float(c) for c in colour),
                 max(2, int(limb_px * rng.uniform(0.12, 0.25))))


def make_background(family: str, rng: np.random.Generator, height: int, width: int, horizon: float,
                    clutter: int = 0, limb_distractors: int = 0, palette: str = "everyday",
                    person_px: float = 100.0) -> Canvas:
    """A (height, width, 3) uint8 BGR canvas of a family, with clutter and distractors drawn on it."""
    if family not in FAMILIES:
        raise ValueError(f"unknown background family {family!r}; known: {', '.join(FAMILIES)}")
    img = FAMILIES[family](rng, height, width, horizon)
    img = np.ascontiguousarray(img, dtype=np.uint8)
    add_clutter(img, rng, clutter, palette, scale=0.3 * person_px)
    add_limb_distractors(img, rng, limb_distractors, palette, limb_px=0.25 * person_px)
    return img
