"""Drawing a scene: an id map of who/which part covers every pixel, then colours, light, blur and noise.

Every frame is first drawn as an id map (uint16, painter's order: farther people and parts first) with
``id = 1 + slot * NUM_PARTS + part`` for people and ``OCCLUDER_BASE + j`` for occluders (0 = background).
The colour image is computed from it (clothing textures in body coordinates, depth shading, outlines
at part boundaries) over the warped background, then lit, blurred and made noisy. The id map is what
ground-truth visibility is read from, so flags match the pixels exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

from vatl.data.synthetic.appearance import (
    EYE_COLOUR,
    EYES_M,
    HAIR_M,
    PANTS_M,
    SHIRT_M,
    SHOES_M,
    SKIN_M,
    Appearance,
    texture_pattern,
)
from vatl.data.synthetic.body import EYES, HAIR_CENTRE, TORSO_CORNERS, J
from vatl.data.synthetic.domains import DomainSpec
from vatl.data.synthetic.figure import (
    CAPSULE_A,
    CAPSULE_B,
    EYE_RADIUS,
    FIRST_CAPSULE,
    HAIR,
    HEAD,
    L_EYE,
    NUM_PARTS,
    R_EYE,
    TORSO,
    Figure,
    part_materials,
)
from vatl.data.synthetic.scene import Scene

MAX_PERSONS = 64
OCCLUDER_BASE = 1 + MAX_PERSONS * NUM_PARTS
SHIFT = 4                     # cv2 fixed-point bits: sub-pixel accurate drawing
_ONE = 1 << SHIFT


@dataclass(frozen=True)
class RenderStyle:
    """Per-video image parameters drawn from a domain."""

    gain: float
    tint: tuple[float, float, float]
    gamma: float
    haze: float
    haze_colour: tuple[float, float, float]
    vignette: float
    light_slope: tuple[float, float]
    flicker: float
    edge_factor: float
    blur_sigma: float
    motion_blur_px: float
    motion_blur_angle: float
    noise_sigma: float


def sample_style(domain: DomainSpec, rng: np.random.Generator) -> RenderStyle:
    return RenderStyle(
        gain=float(rng.uniform(*domain.light_gain)),
        tint=tuple(float(rng.uniform(*r)) for r in domain.tint),
        gamma=float(rng.uniform(*domain.gamma)),
        haze=float(rng.uniform(*domain.haze)),
        haze_colour=tuple(float(c) for c in rng.uniform(170, 230, 3)),
        vignette=float(rng.uniform(*domain.vignette)),
        light_slope=tuple(float(v) for v in rng.uniform(-0.25, 0.25, 2)),
        flicker=domain.flicker,
        edge_factor=float(rng.uniform(*domain.edge_darkening)),
        blur_sigma=float(rng.uniform(*domain.blur_sigma)),
        motion_blur_px=float(rng.uniform(*domain.motion_blur_px)),
        motion_blur_angle=float(rng.uniform(0, 180)),
        noise_sigma=float(rng.uniform(*domain.noise_sigma)),
    )


def _fx(points: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(points) * _ONE).astype(np.int32)


def draw_capsule(img: np.ndarray, a: np.ndarray, b: np.ndarray, ra: float, rb: float, value: int) -> None:
    """Two discs joined by a tapered quad (sub-pixel accurate), filled with ``value``."""
    ra, rb = max(ra, 0.75), max(rb, 0.75)
    d = b - a
    length = float(np.hypot(d[0], d[1]))
    cv2.circle(img, tuple(_fx(a)), int(round(ra * _ONE)), value, -1, cv2.LINE_8, SHIFT)
    cv2.circle(img, tuple(_fx(b)), int(round(rb * _ONE)), value, -1, cv2.LINE_8, SHIFT)
    if length > 1e-3:
        n = np.array([-d[1], d[0]]) / length
        quad = np.stack([a + n * ra, b + n * rb, b - n * rb, a - n * ra])
        cv2.fillConvexPoly(img, _fx(quad), value, cv2.LINE_8, SHIFT)


def draw_ellipse(img: np.ndarray, centre: np.ndarray, along: float, across: float, angle: float, value: int) -> None:
    cv2.ellipse(img, tuple(_fx(centre)), (int(round(max(along, 0.75) * _ONE)), int(round(max(across, 0.75) * _ONE))),
                float(np.degrees(angle)), 0, 360, value, -1, cv2.LINE_8, SHIFT)


def draw_figure(ids: np.ndarray, fig: Figure, t: int, slot: int, materials: np.ndarray) -> None:
    """Draw person ``slot``'s parts at frame ``t`` into the id map, farthest part first."""
    base = 1 + slot * NUM_PARTS
    pts = fig.points[t]
    depth = fig.part_depth[t]
    for part in np.argsort(-depth, kind="stable"):
        if not np.isfinite(depth[part]):
            continue
        value = int(base + part)
        if part == TORSO:
            hull = cv2.convexHull(pts[TORSO_CORNERS].astype(np.float32))[:, 0]
            cv2.fillConvexPoly(ids, _fx(hull), value, cv2.LINE_8, SHIFT)
        elif part == HEAD:
            draw_ellipse(ids, pts[J["head_centre"]], fig.head[t, 0], fig.head[t, 1], fig.head[t, 2], value)
        elif part == HAIR:
            if materials[HAIR] >= 0:
                draw_ellipse(ids, pts[HAIR_CENTRE], fig.head[t, 0] * fig.hair_scale, fig.head[t, 1] * fig.hair_scale,
                             fig.head[t, 2], value)
        elif part in (L_EYE, R_EYE):
            r = max(EYE_RADIUS * fig.head[t, 1], 0.6)
            cv2.circle(ids, tuple(_fx(pts[EYES[part - L_EYE]])), int(round(r * _ONE)), value, -1, cv2.LINE_8, SHIFT)
        else:
            c = part - FIRST_CAPSULE
            draw_capsule(ids, pts[CAPSULE_A[c]], pts[CAPSULE_B[c]], fig.radii[t, c, 0], fig.radii[t, c, 1], value)


def on_screen(fig: Figure, t: int, width: int, height: int) -> bool:
    x0, y0, x1, y1 = fig.extent[t]
    return x1 >= -1 and y1 >= -1 and x0 <= width and y0 <= height


def _region(fig: Figure, t: int, width: int, height: int) -> tuple[slice, slice]:
    x0, y0, x1, y1 = fig.extent[t]
    xs = slice(int(np.clip(np.floor(x0) - 1, 0, width)), int(np.clip(np.ceil(x1) + 2, 0, width)))
    ys = slice(int(np.clip(np.floor(y0) - 1, 0, height)), int(np.clip(np.ceil(y1) + 2, 0, height)))
    return ys, xs


def colour_figure(out: np.ndarray, ids: np.ndarray, fig: Figure, t: int, slot: int, look: Appearance,
                  materials: np.ndarray, body_angle: float) -> None:
    """Paint the pixels person ``slot`` owns in ``out`` (float32 BGR, in place)."""
    ys, xs = _region(fig, t, ids.shape[1], ids.shape[0])
    local = ids[ys, xs].astype(np.int32) - (1 + slot * NUM_PARTS)
    own = (local >= 0) & (local < NUM_PARTS)
    if not own.any():
        return
    part = np.where(own, local, 0)
    mat = materials[part]
    depth = fig.part_depth[t]
    finite = np.isfinite(depth)
    centre = np.median(depth[finite])
    shade_lut = (1.0 - 0.22 * np.clip((np.where(finite, depth, centre) - centre) / 0.1, -1, 1)).astype(np.float32)
    # body coordinates (body heights, x right, y down along the figure) for the textures
    yy, xx = np.mgrid[ys, xs].astype(np.float32)
    pelvis = fig.points[t, J["pelvis"]]
    c, s = np.cos(-body_angle), np.sin(-body_angle)
    dx, dy = (xx - pelvis[0]) / fig.scale[t], (yy - pelvis[1]) / fig.scale[t]
    u, v = c * dx - s * dy, s * dx + c * dy
    col = np.zeros(local.shape + (3,), np.float32)
    for m, flat in ((SKIN_M, look.skin), (SHOES_M, look.shoes), (HAIR_M, look.hair), (EYES_M, EYE_COLOUR)):
        col[own & (mat == m)] = flat
    for m, garment in ((SHIRT_M, look.shirt), (PANTS_M, look.pants)):
        sel = own & (mat == m)
        if sel.any():
            p = texture_pattern(garment, u[sel], v[sel])[:, None]
            col[sel] = (1 - p) * np.array(garment.colour_a, np.float32) + p * np.array(garment.colour_b, np.float32)
    region = out[ys, xs]
    region[own] = col[own] * shade_lut[part[own]][:, None]


def light_field(style: RenderStyle, width: int, height: int) -> np.ndarray:
    """(H, W, 3) float32 multiplicative light: gain, tint, slope, vignette."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    nx, ny = xx / width - 0.5, yy / height - 0.5
    g = style.gain * (1 + style.light_slope[0] * nx + style.light_slope[1] * ny) * (1 - style.vignette * (nx * nx + ny * ny) * 2)
    return g[..., None] * np.array(style.tint, np.float32)


def motion_kernel(length: float, angle_deg: float) -> np.ndarray | None:
    if length < 1.5:
        return None
    size = int(np.ceil(length)) | 1
    k = np.zeros((size, size), np.float32)
    c = size // 2
    d = 0.5 * length * np.array([np.cos(np.radians(angle_deg)), np.sin(np.radians(angle_deg))])
    cv2.line(k, (int(round(c - d[0])), int(round(c - d[1]))), (int(round(c + d[0])), int(round(c + d[1]))), 1.0, 1)
    return k / k.sum()


def render_frames(scene: Scene, figures: list[Figure], canvas: np.ndarray, margin: float, style: RenderStyle,
                  rng: np.random.Generator) -> Iterator[tuple[np.ndarray, np.ndarray, list[int]]]:
    """Yield ``(image, ids, drawn)`` per frame: (H, W, 3) uint8 BGR, (H, W) uint16 id map, person slots drawn.

    ``canvas`` is the background over the base image grown by ``margin`` pixels on every side.
    """
    w, h = scene.width, scene.height
    if len(figures) > MAX_PERSONS:
        raise ValueError(f"at most {MAX_PERSONS} people per video, got {len(figures)}")
    materials = [part_materials(p.appearance.long_sleeves, p.appearance.long_pants, p.appearance.has_hair)
                 for p in scene.persons]
    light = light_field(style, w, h)
    kernel = motion_kernel(style.motion_blur_px, style.motion_blur_angle)
    shift = np.array([[1.0, 0.0, -margin], [0.0, 1.0, -margin], [0.0, 0.0, 1.0]])
    for t in range(scene.num_frames):
        cam = scene.camera.matrices[t]
        bg = cv2.warpAffine(canvas, cam @ shift, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)
        ids = np.zeros((h, w), np.uint16)
        items = [(float(fig.depth[t]), 0, p) for p, fig in enumerate(figures) if on_screen(fig, t, w, h)]
        items += [(occ.depth, 1, j) for j, occ in enumerate(scene.occluders)]
        items.sort(key=lambda it: (-it[0], it[1], it[2]))
        drawn = []
        for _, kind, idx in items:
            if kind == 0:
                draw_figure(ids, figures[idx], t, idx, materials[idx])
                drawn.append(idx)
            else:
                poly = scene.occluders[idx].polygon @ cam[:, :2].T + cam[:, 2]
                cv2.fillConvexPoly(ids, _fx(poly), OCCLUDER_BASE + idx, cv2.LINE_8, SHIFT)
        out = bg.astype(np.float32)
        for idx in drawn:
            angle = float(scene.persons[idx].pose[t, 1] + scene.camera.roll[t])
            colour_figure(out, ids, figures[idx], t, idx, scene.persons[idx].appearance, materials[idx], angle)
        for j, occ in enumerate(scene.occluders):
            out[ids == OCCLUDER_BASE + j] = occ.colour
        edge = np.zeros((h, w), bool)
        dh, dv = ids[:, 1:] != ids[:, :-1], ids[1:] != ids[:-1]
        edge[:, 1:] |= dh
        edge[:, :-1] |= dh
        edge[1:] |= dv
        edge[:-1] |= dv
        edge &= ids > 0
        out[edge] *= style.edge_factor
        flicker = 1.0 + style.flicker * float(rng.standard_normal()) if style.flicker else 1.0
        out *= light * flicker
        out = 255.0 * np.power(np.clip(out, 0, 255) / 255.0, style.gamma, dtype=np.float32)
        if style.haze > 0:
            out = (1 - style.haze) * out + style.haze * np.array(style.haze_colour, np.float32)
        if kernel is not None:
            out = cv2.filter2D(out, -1, kernel, borderType=cv2.BORDER_REFLECT_101)
        if style.blur_sigma > 0.3:
            out = cv2.GaussianBlur(out, (0, 0), style.blur_sigma)
        if style.noise_sigma > 0:
            out += style.noise_sigma * rng.standard_normal(out.shape, dtype=np.float32)
        image = np.clip(out + 0.5, 0, 255).astype(np.uint8)
        yield image, ids, drawn
