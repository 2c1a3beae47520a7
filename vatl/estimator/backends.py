"""Estimator backends by name: rebuilding an untrained model from a vatl checkpoint.

A vatl checkpoint (:mod:`vatl.estimator.checkpoint`) names its architecture in ``model_type``; the
backend of that name rebuilds the untrained network from the checkpoint's ``model_config`` and
``keypoint_set`` dicts, and the loader then fills in the weights. Checkpoints without ``model_type``
(written before there was more than one architecture, e.g. the embedded default) are
``simplebaseline``.

Backends (:data:`BACKENDS`):

- ``simplebaseline``: :class:`~vatl.estimator.models.PoseModel` (ResNet + deconvolutions, the presets
  of :mod:`vatl.estimator.models`);
- ``blazepose``: :class:`~vatl.estimator.blazepose.model.BlazePoseModel` (a converted TFLite graph with a
  keypoint-set transfer head; its module is imported only when such a checkpoint is loaded);
- ``fastpose``: :class:`~vatl.estimator.fastpose.model.FastPoseModel` (AlphaPose's SE-ResNet + DUC network,
  the presets of :mod:`vatl.estimator.fastpose.model`).

Presets (:func:`preset_names`, :func:`build_preset`): the named untrained architectures ``vatl pretrain
--model`` offers, of the backends that have presets (SimpleBaseline's and FastPose's).

Adding a new backend:

1. write the model: a ``torch.nn.Module`` satisfying :class:`~vatl.estimator.contract.PoseEstimator`
   (read that module's contract), with a class attribute ``model_type = "<name>"`` and a ``config``
   whose ``to_dict()`` is plain data (numbers, strings, lists, dicts: checkpoints are loaded with
   ``torch.load(weights_only=True)``);
2. write ``build(payload) -> model``: the untrained model from ``payload["model_config"]`` and
   ``payload["keypoint_set"]`` (import heavy or optional modules inside it, not at the top);
3. register it: add it to :data:`BACKENDS` below, or call ``register_backend("<name>", build)``;
4. add an example factory for it to ``tests/estimator/backend_examples.py``: the template test
   ``tests/estimator/test_backend_template.py`` runs every registered backend through the contract (and
   fails for a backend without an example).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from vatl.estimator.contract import PoseEstimator
from vatl.estimator.models import ModelConfig, PoseModel
from vatl.skeletons import KeypointSet

Builder = Callable[[Mapping[str, Any]], PoseEstimator]
DEFAULT_BACKEND = "simplebaseline"


def build_simplebaseline(payload: Mapping[str, Any]) -> PoseModel:
    """An untrained :class:`PoseModel` from a checkpoint payload."""
    return PoseModel(ModelConfig.from_dict(payload["model_config"]), KeypointSet.from_dict(payload["keypoint_set"]))


def build_blazepose(payload: Mapping[str, Any]) -> PoseEstimator:
    """An untrained BlazePose model from a checkpoint payload (imports the BlazePose modules)."""
    from vatl.estimator.blazepose.model import model_from_checkpoint_payload

    return model_from_checkpoint_payload(payload)


def build_fastpose(payload: Mapping[str, Any]) -> PoseEstimator:
    """An untrained FastPose model from a checkpoint payload."""
    from vatl.estimator.fastpose.model import model_from_checkpoint_payload

    return model_from_checkpoint_payload(payload)


BACKENDS: dict[str, Builder] = {
    "simplebaseline": build_simplebaseline,
    "blazepose": build_blazepose,
    "fastpose": build_fastpose,
}


def register_backend(name: str, build: Builder) -> None:
    """Make checkpoints with ``model_type == name`` loadable by ``build(payload) -> untrained model``."""
    if name in BACKENDS:
        raise ValueError(f"estimator backend {name!r} is already registered")
    BACKENDS[name] = build


def backend_names() -> tuple[str, ...]:
    return tuple(BACKENDS)


def model_type_of(payload: Mapping[str, Any]) -> str:
    """The backend name of a vatl checkpoint payload (``simplebaseline`` when it names none)."""
    model_type = payload.get("model_type")
    return DEFAULT_BACKEND if model_type is None else model_type


def get_backend(name: str, source: object = "checkpoint") -> Builder:
    """The builder of backend ``name``; ``source`` (e.g. the checkpoint file) is named in the error."""
    if not isinstance(name, str) or name not in BACKENDS:
        raise ValueError(f"{source} has model_type {name!r}, which no estimator backend provides; "
                         f"known backends: {', '.join(BACKENDS)}")
    return BACKENDS[name]


def build_untrained(payload: Mapping[str, Any], source: object = "checkpoint") -> PoseEstimator:
    """The untrained model a vatl checkpoint payload describes (weights not loaded).

    ``payload`` must hold ``model_config`` and ``keypoint_set``; an unknown ``model_type`` or contents
    the backend cannot build from give a ValueError naming ``source``.
    """
    name = model_type_of(payload)
    build = get_backend(name, source)
    try:
        return build(payload)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{source}: its model_config / keypoint_set do not describe a {name} model: "
                         f"{type(exc).__name__}: {exc}") from None


def _presets() -> dict[str, Callable[..., PoseEstimator]]:
    """Preset name -> ``factory(name, keypoint_set, seed=...)``, over the backends that have presets."""
    from vatl.estimator.fastpose.model import FASTPOSE_PRESETS, build_fastpose
    from vatl.estimator.models import PRESETS, build_model

    return {**{name: build_model for name in PRESETS}, **{name: build_fastpose for name in FASTPOSE_PRESETS}}


def preset_names() -> tuple[str, ...]:
    """Every named architecture (SimpleBaseline's ``cpu_small``, ``simplebaseline_res50``…, FastPose's
    ``fastpose_cpu_small``, ``fastpose_res50``…)."""
    return tuple(_presets())


def build_preset(name: str, keypoint_set: KeypointSet | None = None, seed: int | None = None) -> PoseEstimator:
    """A freshly initialised model of preset ``name`` for ``keypoint_set`` (default PoseTrack21); ``seed``
    makes the initialisation reproducible."""
    presets = _presets()
    if name not in presets:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(presets)}")
    return presets[name](name, keypoint_set, seed=seed)
