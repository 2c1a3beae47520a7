"""Synthetic multi-person videos with exact ground truth and a controllable domain gap.

Written in the PoseTrack21 layout through the real format's writer, so the same loader reads them.

- :mod:`~vatl.data.synthetic.domains`: named domains (``source`` and the targets ``night``, ``gym``,
  ``drone``, ``festival``);
- :mod:`~vatl.data.synthetic.generate`: ``synthesize_video`` (in memory), ``video_jobs``/``run_jobs``
  (to disk, in parallel, idempotent);
- :mod:`~vatl.data.synthetic.benchmark_set`: the standard set, ``generate_benchmark_set(root)``.

Inside: ``body`` (proportions, forward kinematics), ``motions`` (procedural motions), ``scene``
(people, occluders, camera), ``figure`` (projection, parts), ``backgrounds``, ``appearance``,
``render`` (id map + colour image), ``labels`` (visibility, boxes), ``contact_sheet``.
"""

from vatl.data.synthetic.benchmark_set import BENCHMARK_SET, IMAGE_SIZE, annotation_files, generate_benchmark_set
from vatl.data.synthetic.domains import DOMAINS, TARGET_DOMAINS, DomainSpec, get_domain
from vatl.data.synthetic.generate import (
                                          SyntheticVideo,
                                          VideoJob,
                                          VideoResult,
                                          run_jobs,
                                          synthesize_video,
                                          to_video,
                                          video_jobs,
                                          video_rng,
)

__all__ = ["BENCHMARK_SET", "DOMAINS", "IMAGE_SIZE", "TARGET_DOMAINS", "DomainSpec", "SyntheticVideo", "VideoJob",
           "VideoResult", "annotation_files", "generate_benchmark_set", "get_domain", "run_jobs",
           "synthesize_video", "to_video", "video_jobs", "video_rng"]
