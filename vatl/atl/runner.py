"""Building and running one ATL run from files: the one place where ``vatl run``, ``vatl demo`` and
``vatl bench`` turn (video file, checkpoint, settings, folder) into an :class:`ATLSession`.

:class:`RunSpec` is plain data (picklable: a worker process or a cluster job can receive it), and every
run is idempotent in its folder: running a spec again resumes it, a finished one returns its results.
:func:`open_session` records the spec's inputs in the folder (``inputs.json``), so that
:func:`spec_from_run_folder` can reopen a run from its folder alone (``vatl annotate RUN_DIR``).

:func:`prepare_run` makes the run's inputs fit each other before a session opens: a checkpoint for
another keypoint set is transferred to the video's (:mod:`vatl.estimator.transfer`, optionally with a
mapping file), and a criterion that cannot work on the video's skeleton (WPU without joint angles) is
refused before cycle 0, or replaced by ``RunSpec.fallback``. What it did is in ``RunInputs.notes`` (and
logged); the caller decides whether to show it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vatl.atl.config import ATLConfig
from vatl.atl.oracle import SimulatedOracle
from vatl.atl.session import ATLSession, ProgressCallback
from vatl.errors import UserError
from vatl.fileio import write_json

if TYPE_CHECKING:
    from vatl.data.video import Video
    from vatl.estimator.contract import PoseEstimator
    from vatl.estimator.transfer import TransferPlan

log = logging.getLogger(__name__)
TRANSFER_FILE = "transfer.json"  # in the run folder: how the checkpoint was transferred to the video's set


@dataclass(frozen=True)
class RunSpec:
    """One run: the video file, the checkpoint (None: the embedded default), ATLConfig fields, the folder.

    image_root: the folder the video file's image paths are relative to and must stay inside (None: the
    format's default, e.g. the PoseTrack root).
    mapping: a mapping file (target slot -> source slots) for transferring a checkpoint of another
    keypoint set to the video's (None: by names, :mod:`vatl.estimator.transfer`).
    fallback: a criterion (``name[:options]``) to run instead when ``config``'s cannot work on the video's
    skeleton (None: such a run is refused before cycle 0).
    video: how a clip (video file or frame folder) becomes samples, :class:`vatl.video.ingest.VideoOptions`
    as a dict (detector, tracker, keypoint set, overlay; ignored for annotation JSONs).
    """

    video_path: str
    out_dir: str
    config: dict[str, Any] = field(default_factory=dict, hash=False)
    checkpoint: str | None = None
    device: str = "cpu"
    image_root: str | None = None
    mapping: str | None = None
    fallback: str | None = None
    video: dict[str, Any] = field(default_factory=dict, hash=False)
    amp: bool = False

    def atl_config(self) -> ATLConfig:
        return ATLConfig.from_dict(self.config)


@dataclass
class RunInputs:
    """What :func:`prepare_run` made of a spec: the video, the model for its keypoint set, the config to
    run (the fallback criterion's when it took over), what was done (one line each) and the transfer plan
    (None when the checkpoint predicted the video's keypoints already)."""

    video: Video
    model: PoseEstimator
    config: ATLConfig
    notes: list[str] = field(default_factory=list)
    transfer: TransferPlan | None = None


def prepare_run(spec: RunSpec, progress: ProgressCallback | None = None) -> RunInputs:
    """Load the video and the estimator, transfer the estimator to the video's keypoint set when they
    differ, report the OKS sigmas, and check the criterion against the video's skeleton (refused with
    :class:`~vatl.criteria.base.UnsuitableCriterion`, or replaced by ``spec.fallback``)."""
    from vatl.data.formats import require_samples
    from vatl.estimator.checkpoint import default_checkpoint_path, load_checkpoint
    from vatl.estimator.transfer import load_mapping_file, transfer_model
    from vatl.video.ingest import default_clip_estimator, is_media, load_input

    config = spec.atl_config()
    options = {} if spec.image_root is None else {"image_root": spec.image_root}
    video = require_samples(load_input(spec.video_path, spec.video, spec.out_dir, progress, **options))
    checkpoint = spec.checkpoint or default_checkpoint_path()
    notes: list[str] = []
    if spec.checkpoint is None and is_media(spec.video_path):  # a real clip: BlazePose, not the synthetic default
        model, about = default_clip_estimator(video.keypoint_set, spec.device)
    else:
        model = load_checkpoint(checkpoint, device=spec.device)
        about = f"checkpoint {checkpoint}" + ("" if spec.checkpoint else " (the embedded default, trained on synthetic video)")
    notes.append(f"estimator: {about}")
    plan = None
    if model.keypoint_set.keypoints != video.keypoint_set.keypoints:
        mapping = load_mapping_file(spec.mapping) if spec.mapping else None
        model, plan = transfer_model(model, video.keypoint_set, mapping)
        notes.append(f"checkpoint {Path(checkpoint).name}: {plan.summary()}")
        notes.extend(f"  {line}" for line in plan.lines())
    else:
        model.keypoint_set = video.keypoint_set  # the video's sigmas, skeleton and flip pairs
        if spec.mapping:
            notes.append(f"mapping file {spec.mapping} not used: the checkpoint predicts the video's keypoints")
    ks = video.keypoint_set
    notes.append(f"OKS sigmas ({ks.name}): {ks.sigma_source or 'as read'}")
    config, note = _fitting_criterion(config, video, spec.fallback)
    if note:
        notes.append(note)
    for line in notes:
        log.info("%s", line)
    return RunInputs(video, model, config, notes, plan)


def _fitting_criterion(config: ATLConfig, video: Video, fallback: str | None) -> tuple[ATLConfig, str | None]:
    """``config`` when its criterion can work on ``video``, else the fallback's config and a note saying why;
    without a fallback the criterion's :class:`~vatl.criteria.base.UnsuitableCriterion` is raised."""
    from vatl.atl.session import _with_max_gap
    from vatl.criteria import get_criterion, parse_spec
    from vatl.criteria.base import UnsuitableCriterion

    try:
        get_criterion(config.criterion, **_with_max_gap(config)).check(video)
        return config, None
    except UnsuitableCriterion as exc:
        if not fallback:
            raise
        reason = str(exc)
    fb = parse_spec(fallback)
    new = replace(config, criterion=fb.name, criterion_options=dict(fb.options))
    try:
        get_criterion(new.criterion, **_with_max_gap(new)).check(video)
    except UnsuitableCriterion as exc:
        raise UnsuitableCriterion(f"{reason}; the fallback {fallback!r} cannot run either: {exc}") from None
    why = reason.split(": ", 1)[-1].split(";")[0]
    return new, f"criterion {config.criterion!r}: {why} — running {fb.name!r} instead (fallback)"


def open_session(spec: RunSpec, progress: ProgressCallback | None = None,
                 inputs: RunInputs | None = None) -> ATLSession:
    """Open (or resume) the run folder of ``spec`` with the inputs :func:`prepare_run` makes (pass them when
    they were prepared already, e.g. to show their notes first)."""
    inputs = inputs or prepare_run(spec, progress)
    session = ATLSession(inputs.video, inputs.model, inputs.config, Path(spec.out_dir), progress=progress,
                         amp=spec.amp)
    try:
        save_inputs(spec)
        if inputs.transfer is not None:
            write_json(Path(spec.out_dir) / TRANSFER_FILE, inputs.transfer.to_dict())
    except BaseException:
        session.close()
        raise
    return session


INPUTS_FILE = "inputs.json"  # in the run folder: what reopens it (vatl annotate RUN_DIR)
_INPUT_FIELDS = ("video_path", "checkpoint", "device", "image_root", "mapping", "video", "amp")


def save_inputs(spec: RunSpec) -> Path:
    """Write ``<out_dir>/inputs.json``: the video file, checkpoint, device and image root of ``spec`` (paths
    made absolute), so that :func:`spec_from_run_folder` can reopen the run from its folder alone."""
    def absolute(path: str | None) -> str | None:
        return None if path is None else str(Path(path).expanduser().resolve())

    inputs = {"video_path": absolute(spec.video_path), "checkpoint": absolute(spec.checkpoint),
              "device": spec.device, "image_root": absolute(spec.image_root), "mapping": absolute(spec.mapping),
              "video": dict(spec.video), "amp": spec.amp}
    return write_json(Path(spec.out_dir) / INPUTS_FILE, inputs)


def spec_from_run_folder(run_dir: str | Path) -> RunSpec:
    """The :class:`RunSpec` of an existing run folder, from its ``inputs.json`` and ``config.json``.

    Raises a UserError naming the folder when either file is missing (e.g. a run made before vatl recorded
    its inputs) and a ValueError naming the file and field when one is malformed."""
    from vatl.atl.config import without_legacy_fields
    from vatl.atl.run_store import read_json_file

    root = Path(run_dir)
    inputs_path, config_path = root / INPUTS_FILE, root / "config.json"
    for path, what in ((inputs_path, "the video and checkpoint it was made with"), (config_path, "its settings")):
        if not path.is_file():
            raise UserError(f"{root}: not a run folder that can be reopened: {path.name} ({what}) is missing; "
                            "start the run with `vatl run VIDEO --out RUN_DIR ...` (it records both)")
    inputs = read_json_file(inputs_path, "run inputs")
    config = read_json_file(config_path, "run config")
    if not isinstance(inputs, dict) or not isinstance(config, dict):
        raise ValueError(f"{inputs_path if not isinstance(inputs, dict) else config_path}: expected a JSON object")
    unknown = sorted(set(inputs) - set(_INPUT_FIELDS))
    if unknown:
        raise ValueError(f"{inputs_path}: unknown fields {unknown}; expected {', '.join(_INPUT_FIELDS)}")
    if not isinstance(inputs.get("video", {}), dict):
        raise ValueError(f"{inputs_path}: field 'video' must be an object of video options")
    if not isinstance(inputs.get("amp", False), bool):
        raise ValueError(f"{inputs_path}: field 'amp' must be true or false, got {inputs['amp']!r}")
    for name in _INPUT_FIELDS[:-2]:  # the paths and the device; "video" and "amp" are checked above
        value = inputs.get(name)
        optional = name in ("checkpoint", "image_root", "mapping")
        if not (isinstance(value, str) and value) and not (value is None and optional):
            raise ValueError(f"{inputs_path}: field {name!r} must be a non-empty string"
                             + (" or null" if optional else "") + f", got {value!r}")
    config = without_legacy_fields(config)
    ATLConfig.from_dict(config)  # a clear error now rather than when the session opens
    return RunSpec(inputs["video_path"], str(root), config, inputs.get("checkpoint"), inputs["device"],
                   inputs.get("image_root"), inputs.get("mapping"), video=dict(inputs.get("video", {})),
                   amp=inputs.get("amp", False))


def run_simulated(spec: RunSpec, progress: ProgressCallback | None = None) -> dict[str, Any]:
    """Run (or resume) ``spec`` to its end with the ground truth answering; returns the run's results."""
    with open_session(spec, progress) as session:
        return session.run(SimulatedOracle(session.video))
