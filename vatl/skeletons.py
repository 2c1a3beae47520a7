"""Keypoint sets: names, left/right pairs, OKS sigmas, drawing skeleton and limb triples for angles.

A :class:`KeypointSet` is everything the rest of vatl needs to know about a skeleton. Indices are
0-based slots in the set's own order. Built-in sets: ``posetrack21``, ``coco17``, ``jrdb``; any COCO
``categories`` entry can be turned into a set with :meth:`KeypointSet.from_coco_category`.

Facts about a user's own skeleton are read from its names and edges:

* **sides** (:func:`side_and_base`): ``left_knee``, ``l_knee``, ``Left Knee``, ``LKnee``, ``knee_l``,
  ``kneeL``, ``wingL``, ``forelegR4`` (a one-letter side needs a separator, a case change or a digit
  next to it: ``leg`` is not ``l`` + ``eg``); left/right slots with the same rest are flip pairs;
* **angle triples** for WPU: the 8 limb angles when the human limb names exist
  (:func:`infer_angle_triples`), else one angle at every joint with exactly two neighbours in the
  skeleton's edges (:func:`angle_triples_from_edges`);
* **canonical names** (:func:`canonical_name`) compare names across sets (case, separators, side
  spellings, synonyms such as ``neck`` / ``head_bottom``): what the transfer of a pretrained model to a
  new set matches (:mod:`vatl.estimator.transfer`);
* **OKS sigmas** (:func:`default_sigmas`): COCO's sigma for a joint COCO has (by canonical name), else
  :data:`DEFAULT_SIGMA`; ``sigma_source`` says where a set's sigmas came from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

COCO_SIGMAS = (0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
               0.107, 0.107, 0.087, 0.087, 0.089, 0.089)
JRDB_SIGMAS = (0.079, 0.025, 0.025, 0.079, 0.026, 0.079, 0.072, 0.072, 0.107, 0.062, 0.107,
               0.107, 0.062, 0.087, 0.087, 0.089, 0.089)
# Sigma of a joint whose name says nothing COCO knows (a set read from a COCO category without sigmas):
# COCO's tightest (the eyes), as SLEAP's OKS uses for every node. An unknown point is judged as strictly as
# the most precisely annotated COCO points, so AP on it can only understate accuracy; a loose sigma makes
# AP@θ saturate (every prediction near the person counts as correct). Estimate a set's own sigmas from
# repeated labels or a labeled clip with `vatl sigmas` (vatl.metrics.sigmas).
DEFAULT_SIGMA = 0.025


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
        sigma_source: where the sigmas came from, for reports (not compared by ``==``).
    """

    name: str
    keypoints: tuple[str, ...]
    sigmas: tuple[float, ...]
    flip_pairs: tuple[tuple[int, int], ...] = ()
    skeleton: tuple[tuple[int, int], ...] = ()
    angle_triples: tuple[tuple[int, int, int], ...] = ()
    never_annotated: tuple[int, ...] = field(default=())
    sigma_source: str = field(default="", compare=False)

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
            "sigma_source": self.sigma_source,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> KeypointSet:
        """The set of :meth:`to_dict`. A built-in set (same name and slot names) is returned as vatl
        defines it now, so that files written by older versions get today's flip pairs, angles and sigmas."""
        builtin = KEYPOINT_SETS.get(str(d.get("name")))
        if builtin is not None and tuple(d.get("keypoints", ())) == builtin.keypoints:
            return builtin
        return cls(
            name=str(d["name"]),
            keypoints=tuple(d["keypoints"]),
            sigmas=tuple(float(s) for s in d["sigmas"]),
            flip_pairs=tuple(tuple(p) for p in d.get("flip_pairs", ())),
            skeleton=tuple(tuple(e) for e in d.get("skeleton", ())),
            angle_triples=tuple(tuple(t) for t in d.get("angle_triples", ())),
            never_annotated=tuple(d.get("never_annotated", ())),
            sigma_source=str(d.get("sigma_source", "")),
        )

    @classmethod
    def from_coco_category(cls, category: Mapping[str, Any], sigmas: Sequence[float] | None = None,
                           name: str | None = None) -> KeypointSet:
        """A set from a COCO ``categories`` entry.

        ``skeleton`` in COCO is 1-based; it is converted. Sigmas come from ``sigmas``, else from the
        category's own ``sigmas`` field, else those of a built-in set with the same names, else
        :func:`default_sigmas` (COCO's sigma by joint name, :data:`DEFAULT_SIGMA` for other names);
        ``sigma_source`` says which. Flip pairs come from the names (:func:`infer_flip_pairs`); angle
        triples from the limb names (:func:`infer_angle_triples`), else from the skeleton's edges
        (:func:`angle_triples_from_edges`).
        """
        if "keypoints" not in category:
            raise ValueError("COCO category has no 'keypoints' field (expected a list of keypoint names)")
        names = tuple(str(n) for n in category["keypoints"])
        source = "given"
        if sigmas is None and category.get("sigmas") is not None:
            sigmas, source = category["sigmas"], "the category's sigmas field"
        if sigmas is None:
            known = _known_set_with_names(names)
            if known is not None:
                sigmas, source = known.sigmas, f"{known.name} (same names)"
            else:
                sigmas, source = default_sigmas(names)
        edges = tuple((int(a) - 1, int(b) - 1) for a, b in category.get("skeleton", ()))
        return cls(
            name=name or str(category.get("name", "custom")),
            keypoints=names,
            sigmas=tuple(float(s) for s in sigmas),
            flip_pairs=infer_flip_pairs(names),
            skeleton=edges,
            angle_triples=infer_angle_triples(names) or angle_triples_from_edges(len(names), edges),
            sigma_source=source,
        )


def _known_set_with_names(names: Sequence[str]) -> KeypointSet | None:
    for ks in KEYPOINT_SETS.values():
        if tuple(names) == ks.keypoints:
            return ks
    return None


_SIDES = {"left": "left", "l": "left", "lt": "left", "right": "right", "r": "right", "rt": "right"}
_TOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
# Bases that name the same point (after sides are taken off), mapped to one spelling.
SYNONYMS: dict[str, str] = {
    "head_bottom": "neck", "upper_neck": "neck", "neck_base": "neck",
    "top_head": "head_top", "headtop": "head_top", "top_of_head": "head_top", "crown": "head_top",
    "hand": "wrist", "foot": "ankle",
    "center_shoulder": "neck", "center_hip": "mid_hip", "tailbone": "mid_hip", "pelvis": "mid_hip",
}


def name_tokens(name: str) -> list[str]:
    """Lower-case words of a keypoint name: split at separators (space ``_ - . : /``), case changes
    (``wingL`` → wing, l; ``LKnee`` → l, knee) and digits (``forelegR4`` → foreleg, r, 4)."""
    tokens = []
    for part in re.split(r"[\s_\-.:/]+", str(name).strip()):
        tokens += _TOKEN.findall(part)
    tokens = [t.lower() for t in tokens]
    # glued whole-word sides: "leftknee", "kneeright"
    if len(tokens) >= 1 and not any(t in _SIDES for t in tokens):
        for word in ("left", "right"):
            if tokens[0].startswith(word) and len(tokens[0]) > len(word):
                return [word, tokens[0][len(word):], *tokens[1:]]
            if tokens[-1].endswith(word) and len(tokens[-1]) > len(word):
                return [*tokens[:-1], tokens[-1][:-len(word)], word]
    return tokens


def side_and_base(name: str) -> tuple[str | None, str]:
    """(``"left"`` | ``"right"`` | None, the rest of the name as lower-case words joined by ``_``).

    Exactly one side word (``left``, ``l``, ``lt``, ``right``, ``r``, ``rt``) anywhere among the words of
    :func:`name_tokens` makes the side; none, two, or a side word alone give side None.
    """
    tokens = name_tokens(name)
    sides = [i for i, t in enumerate(tokens) if t in _SIDES]
    if len(sides) != 1 or len(tokens) < 2:
        return None, "_".join(tokens)
    i = sides[0]
    return _SIDES[tokens[i]], "_".join(tokens[:i] + tokens[i + 1:])


def _side_and_base(name: str) -> tuple[str, str] | None:
    side, base = side_and_base(name)
    return None if side is None else (side, base)


def canonical_name(name: str, synonyms: bool = True) -> str:
    """A name in one spelling: ``left_<base>`` / ``right_<base>`` / ``<base>``, words lower-case and
    joined by ``_``; with ``synonyms`` the base takes its :data:`SYNONYMS` spelling (``head_bottom`` →
    ``neck``, ``hand`` → ``wrist``). ``L-Shoulder``, ``shoulderL`` and ``left shoulder`` all give
    ``left_shoulder``."""
    side, base = side_and_base(name)
    if synonyms:
        base = SYNONYMS.get(base, base)
    return base if side is None else f"{side}_{base}"


def infer_flip_pairs(names: Sequence[str]) -> tuple[tuple[int, int], ...]:
    """Left/right pairs from names (``left_knee``/``right_knee``, ``kneeL``/``kneeR``, ``l_eye``/``r_eye``,
    ``forelegL4``/``forelegR4``; see :func:`side_and_base`), in left-slot order."""
    by_key = {}
    for i, n in enumerate(names):
        sb = _side_and_base(n)
        if sb is not None:
            by_key.setdefault(sb, i)
    pairs = []
    for (side, base), i in sorted(by_key.items(), key=lambda kv: kv[1]):
        if side == "left" and ("right", base) in by_key:
            pairs.append((i, by_key[("right", base)]))
    return tuple(pairs)


def infer_angle_triples(names: Sequence[str]) -> tuple[tuple[int, int, int], ...]:
    """The 8 joint angles of WPU (shoulders, elbows, hips, knees) when the limb names exist.

    As the published code: elbow–shoulder–hip, shoulder–elbow–wrist, *other hip*–hip–knee and
    hip–knee–ankle per side. Hand/foot names (``hand``, ``foot``) stand in for ``wrist``/``ankle``.
    """
    lookup = {}
    for i, n in enumerate(names):
        sb = _side_and_base(n)
        if sb is not None:
            side, base = sb
            base = {"hand": "wrist", "foot": "ankle"}.get(base, base)
            lookup.setdefault((side, base), i)
    triples = []
    for side, other in (("left", "right"), ("right", "left")):
        def g(b: str, side: str = side) -> int | None:
            return lookup.get((side, b))
        sh, el, wr, hp, kn, an = (g(b) for b in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"))
        other_hip = lookup.get((other, "hip"))
        for a, v, b in ((el, sh, hp), (sh, el, wr), (other_hip, hp, kn), (hp, kn, an)):
            if None not in (a, v, b):
                triples.append((a, v, b))
    return tuple(triples)


def angle_triples_from_edges(num_keypoints: int, edges: Sequence[tuple[int, int]]
                             ) -> tuple[tuple[int, int, int], ...]:
    """One angle (a, vertex, b) at every joint with exactly two neighbours in the 0-based ``edges``
    (a < b), in vertex order: a chain ``tip–knee–hip`` bends at the knee. Repeated edges and self-loops
    are ignored."""
    neighbours: list[set[int]] = [set() for _ in range(num_keypoints)]
    for a, b in edges:
        a, b = int(a), int(b)
        if a != b and 0 <= a < num_keypoints and 0 <= b < num_keypoints:
            neighbours[a].add(b)
            neighbours[b].add(a)
    return tuple((min(n), v, max(n)) for v, n in enumerate(neighbours) if len(n) == 2)


def default_sigmas(names: Sequence[str]) -> tuple[tuple[float, ...], str]:
    """Per-joint OKS sigmas for a set without its own: COCO's sigma where a name is a COCO joint by
    :func:`canonical_name` (``L_Shoulder`` 0.079, ``hand`` as wrist 0.062), :data:`DEFAULT_SIGMA` for
    the others. Returns (sigmas, a description of where they came from)."""
    coco = {canonical_name(n): s for n, s in zip(_COCO_NAMES, COCO_SIGMAS)}
    coco.update({f"{side}_eye": 0.025 for side in ("left", "right")})
    sigmas, unknown = [], []
    for n in names:
        c = canonical_name(n)
        if c in coco:
            sigmas.append(coco[c])
        else:
            sigmas.append(DEFAULT_SIGMA)
            unknown.append(str(n))
    if not unknown:
        source = "COCO's sigmas by joint name"
    elif len(unknown) == len(names):
        source = f"the default sigma {DEFAULT_SIGMA} for every joint"
    else:
        source = (f"COCO's sigmas by joint name; the default {DEFAULT_SIGMA} for "
                  f"{', '.join(unknown[:6])}{' …' if len(unknown) > 6 else ''}")
    return tuple(sigmas), source


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
    sigma_source="COCO's sigmas slot by slot (PoseTrack's evaluation)",
    flip_pairs=infer_flip_pairs(_PT21_NAMES),
    skeleton=_PT21_SKELETON,
    angle_triples=infer_angle_triples(_PT21_NAMES),
    never_annotated=(3, 4),
)
COCO17 = KeypointSet(
    name="coco17",
    keypoints=_COCO_NAMES,
    sigmas=COCO_SIGMAS,
    sigma_source="COCO's sigmas",
    flip_pairs=infer_flip_pairs(_COCO_NAMES),
    skeleton=_COCO_SKELETON,
    angle_triples=infer_angle_triples(_COCO_NAMES),
)
JRDB = KeypointSet(
    name="jrdb",
    keypoints=_JRDB_NAMES,
    sigmas=JRDB_SIGMAS,
    sigma_source="JRDB-Pose's sigmas",
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
