"""Keypoint sets: names, left/right pairs, OKS sigmas, drawing skeleton and limb triples for angles.

A :class:`KeypointSet` is everything the rest of vatl needs to know about a skeleton. Indices are
0-based slots in the set's own order. Built-in sets: ``posetrack21``, ``coco17``, ``jrdb``; any COCO
``categories`` entry can be turned into a set with :meth:`KeypointSet.from_coco_category`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

COCO_SIGMAS = (0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
               0.107, 0.107, 0.087, 0.087, 0.089, 0.089)
JRDB_SIGMAS = (0.079, 0.025, 0.025, 0.079, 0.026, 0.079, 0.072, 0.072, 0.107, 0.062, 0.107,
               0.107, 0.062, 0.087, 0.087, 0.089, 0.089)
# Used for sets read from a COCO category without sigmas: about the mean of COCO's 17 sigmas.
DEFAULT_SIGMA = 0.0625


@dataclass(frozen=True)
class KeypointSet:
    """A named keypoint layout.

    Attributes:
        name: identifier (``posetrack21``, ``coco17``, ``jrdb`` or a custom name).
        keypoints: (K,) slot names.
        sigmas: (K,) OKS sigmas, one per slot.
        flip_pairs: left/right slot pairs swapped by a horizontal flip.
        skeleton: 0-based edges for drawing.
        angle_triples: (a, vertex, b) slots; the angle at ``vertex`` between a and b (for WPU).
        never_annotated: slots the dataset never labels (PoseTrack21's ears).
    """

    name: str
    keypoints: tuple[str, ...]
    sigmas: tuple[float, ...]
    flip_pairs: tuple[tuple[int, int], ...] = ()
    skeleton: tuple[tuple[int, int], ...] = ()
    angle_triples: tuple[tuple[int, int, int], ...] = ()
    never_annotated: tuple[int, ...] = field(default=())

    def __post_init__(self) -> None:
        k = len(self.keypoints)
        if len(self.sigmas) != k:
            raise ValueError(f"keypoint set {self.name!r}: {len(self.sigmas)} sigmas for {k} keypoints")
        if len(set(self.keypoints)) != k:
            raise ValueError(f"keypoint set {self.name!r}: duplicate keypoint names")
        used = [i for pair in self.flip_pairs for i in pair]
        if len(used) != len(set(used)):
            raise ValueError(f"keypoint set {self.name!r}: a slot appears in two flip pairs")
        for group in (*self.flip_pairs, *self.skeleton, *self.angle_triples, self.never_annotated):
            for i in group:
                if not 0 <= i < k:
                    raise ValueError(f"keypoint set {self.name!r}: slot index {i} out of range 0..{k - 1}")

    @property
    def num_keypoints(self) -> int:
        return len(self.keypoints)

    @property
    def sigma_array(self) -> np.ndarray:
        """(K,) float64 sigmas."""
        return np.asarray(self.sigmas, dtype=np.float64)

    @property
    def flip_index(self) -> np.ndarray:
        """(K,) permutation: slot i of a flipped pose takes slot ``flip_index[i]`` of the original."""
        perm = np.arange(self.num_keypoints)
        for a, b in self.flip_pairs:
            perm[a], perm[b] = b, a
        return perm

    @property
    def annotated_slots(self) -> np.ndarray:
        """(K,) bool: slots that can carry a label."""
        mask = np.ones(self.num_keypoints, dtype=bool)
        mask[list(self.never_annotated)] = False
        return mask

    def index(self, name: str) -> int:
        return self.keypoints.index(name)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (stored in checkpoints and results)."""
        return {
            "name": self.name,
            "keypoints": list(self.keypoints),
            "sigmas": list(self.sigmas),
            "flip_pairs": [list(p) for p in self.flip_pairs],
            "skeleton": [list(e) for e in self.skeleton],
            "angle_triples": [list(t) for t in self.angle_triples],
            "never_annotated": list(self.never_annotated),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> KeypointSet:
        return cls(
            name=str(d["name"]),
            keypoints=tuple(d["keypoints"]),
            sigmas=tuple(float(s) for s in d["sigmas"]),
            flip_pairs=tuple(tuple(p) for p in d.get("flip_pairs", ())),
            skeleton=tuple(tuple(e) for e in d.get("skeleton", ())),
            angle_triples=tuple(tuple(t) for t in d.get("angle_triples", ())),
            never_annotated=tuple(d.get("never_annotated", ())),
        )

    @classmethod
    def from_coco_category(cls, category: Mapping[str, Any], sigmas: Sequence[float] | None = None,
                           name: str | None = None) -> KeypointSet:
        """A set from a COCO ``categories`` entry.

        ``skeleton`` in COCO is 1-based; it is converted. Sigmas come from ``sigmas``, else from the
        category's own ``sigmas`` field, else those of a built-in set with the same names, else
        :data:`DEFAULT_SIGMA`. Flip pairs are
        inferred from ``left_``/``right_`` (or ``l_``/``r_``) name prefixes; angle triples from
        ``shoulder``/``elbow``/``wrist``/``hip``/``knee``/``ankle`` names when all are present.
        """
        if "keypoints" not in category:
            raise ValueError("COCO category has no 'keypoints' field (expected a list of keypoint names)")
        names = tuple(str(n) for n in category["keypoints"])
        if sigmas is None:
            sigmas = category.get("sigmas")
        if sigmas is None:
            known = _known_set_with_names(names)
            sigmas = known.sigmas if known is not None else (DEFAULT_SIGMA,) * len(names)
        edges = tuple((int(a) - 1, int(b) - 1) for a, b in category.get("skeleton", ()))
        return cls(
            name=name or str(category.get("name", "custom")),
            keypoints=names,
            sigmas=tuple(float(s) for s in sigmas),
            flip_pairs=infer_flip_pairs(names),
            skeleton=edges,
            angle_triples=infer_angle_triples(names),
        )


def _known_set_with_names(names: Sequence[str]) -> KeypointSet | None:
    for ks in KEYPOINT_SETS.values():
        if tuple(names) == ks.keypoints:
            return ks
    return None


def _side_and_base(name: str) -> tuple[str, str] | None:
    # "left knee" / "left-knee" (as annotation tools and JRDB-Pose's files spell them) mean left_knee
    lowered = "_".join(name.lower().replace("-", " ").split())
    for side, prefixes in (("left", ("left_", "l_")), ("right", ("right_", "r_"))):
        for p in prefixes:
            if lowered.startswith(p):
                return side, lowered[len(p):]
    return None


def infer_flip_pairs(names: Sequence[str]) -> tuple[tuple[int, int], ...]:
    """Left/right pairs from names such as ``left_knee``/``right_knee`` (or ``left knee``), in left-slot order."""
    by_key = {}
    for i, n in enumerate(names):
        sb = _side_and_base(n)
        if sb is not None:
            by_key[sb] = i
    pairs = []
    for (side, base), i in sorted(by_key.items(), key=lambda kv: kv[1]):
        if side == "left" and ("right", base) in by_key:
            pairs.append((i, by_key[("right", base)]))
    return tuple(pairs)


def infer_angle_triples(names: Sequence[str]) -> tuple[tuple[int, int, int], ...]:
    """The 8 joint angles of WPU (shoulders, elbows, hips, knees) when the limb names exist.

    Hand/foot names (``hand``, ``foot``) stand in for ``wrist``/``ankle``.
    """
    lookup = {}
    for i, n in enumerate(names):
        sb = _side_and_base(n)
        if sb is not None:
            side, base = sb
            base = {"hand": "wrist", "foot": "ankle"}.get(base, base)
            lookup[(side, base)] = i
    triples = []
    for side in ("left", "right"):
        def g(b: str, side: str = side) -> int | None:
            return lookup.get((side, b))
        sh, el, wr, hp, kn, an = (g(b) for b in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"))
        for a, v, b in ((el, sh, hp), (sh, el, wr), (sh, hp, kn), (hp, kn, an)):
            if None not in (a, v, b):
                triples.append((a, v, b))
    return tuple(triples)


_COCO_NAMES = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
               "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
               "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
_PT21_NAMES = ("nose", "head_bottom", "head_top", "left_ear", "right_ear", "left_shoulder",
               "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
               "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle")
# COCO's skeleton (1-based in the files) as 0-based edges.
_COCO_SKELETON = ((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6),
                  (5, 7), (6, 8), (7, 9), (8, 10), (1, 2), (0, 1), (0, 2), (1, 3), (2, 4), (3, 5),
                  (4, 6))
_PT21_SKELETON = ((15, 13), (13, 11), (16, 14), (14, 12), (11, 12), (5, 11), (6, 12), (5, 6),
                  (5, 7), (6, 8), (7, 9), (8, 10), (0, 1), (1, 2), (1, 5), (1, 6))
_JRDB_NAMES = ("head", "right_eye", "left_eye", "right_shoulder", "neck", "left_shoulder",
               "right_elbow", "left_elbow", "tailbone", "right_hand", "right_hip", "left_hip",
               "left_hand", "right_knee", "left_knee", "right_foot", "left_foot")
_JRDB_SKELETON = ((0, 1), (0, 2), (0, 4), (4, 3), (4, 5), (3, 6), (5, 7), (6, 9), (7, 12), (4, 8),
                  (8, 10), (8, 11), (10, 13), (11, 14), (13, 15), (14, 16))

POSETRACK21 = KeypointSet(
    name="posetrack21",
    keypoints=_PT21_NAMES,
    sigmas=COCO_SIGMAS,  # PoseTrack's evaluation uses COCO's sigmas slot by slot
    flip_pairs=infer_flip_pairs(_PT21_NAMES),
    skeleton=_PT21_SKELETON,
    angle_triples=infer_angle_triples(_PT21_NAMES),
    never_annotated=(3, 4),
)
COCO17 = KeypointSet(
    name="coco17",
    keypoints=_COCO_NAMES,
    sigmas=COCO_SIGMAS,
    flip_pairs=infer_flip_pairs(_COCO_NAMES),
    skeleton=_COCO_SKELETON,
    angle_triples=infer_angle_triples(_COCO_NAMES),
)
JRDB = KeypointSet(
    name="jrdb",
    keypoints=_JRDB_NAMES,
    sigmas=JRDB_SIGMAS,
    flip_pairs=infer_flip_pairs(_JRDB_NAMES),
    skeleton=_JRDB_SKELETON,
    angle_triples=infer_angle_triples(_JRDB_NAMES),
)

KEYPOINT_SETS: dict[str, KeypointSet] = {ks.name: ks for ks in (POSETRACK21, COCO17, JRDB)}


def get_keypoint_set(name: str) -> KeypointSet:
    """A built-in set by name; a clear error listing the known names otherwise."""
    try:
        return KEYPOINT_SETS[name]
    except KeyError:
        raise ValueError(f"unknown keypoint set {name!r}; known: {', '.join(sorted(KEYPOINT_SETS))}") from None
