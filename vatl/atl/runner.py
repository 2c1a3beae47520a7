"""Building and running one ATL run from files: the one place where ``vatl run``, ``vatl demo`` and
``vatl bench`` turn (video file, checkpoint, settings, folder) into an :class:`ATLSession`.

:class:`RunSpec` is plain data (picklable: a worker process or a cluster job can receive it), and every
run is idempotent in its folder: running a spec again resumes it, a finished one returns its results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vatl.atl.config import ATLConfig
from vatl.atl.oracle import SimulatedOracle
from vatl.atl.session import ATLSession, ProgressCallback


@dataclass(frozen=True)
class RunSpec:
    """One run: the video file, the checkpoint (None: the embedded default), ATLConfig fields, the folder.

    image_root: the folder the video file's image paths are relative to and must stay inside (None: the
    format's default, e.g. the PoseTrack root).
    """

    video_path: str
    out_dir: str
    config: dict[str, Any] = field(default_factory=dict, hash=False)
    checkpoint: str | None = None
    device: str = "cpu"
    image_root: str | None = None

    def atl_config(self) -> ATLConfig:
        return ATLConfig.from_dict(self.config)


def open_session(spec: RunSpec, progress: ProgressCallback | None = None) -> ATLSession:
    """Load the video and the estimator and open (or resume) the run folder."""
    from vatl.data.formats import load_video, require_samples
    from vatl.estimator.checkpoint import default_checkpoint_path, load_checkpoint

    config = spec.atl_config()
    options = {} if spec.image_root is None else {"image_root": spec.image_root}
    video = require_samples(load_video(spec.video_path, **options))
    model = load_checkpoint(spec.checkpoint or default_checkpoint_path(), device=spec.device)
    return ATLSession(video, model, config, Path(spec.out_dir), progress=progress)


def run_simulated(spec: RunSpec, progress: ProgressCallback | None = None) -> dict[str, Any]:
    """Run (or resume) ``spec`` to its end with the ground truth answering; returns the run's results."""
    with open_session(spec, progress) as session:
        return session.run(SimulatedOracle(session.video))
