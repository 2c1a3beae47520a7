"""vatl: video-specific active transfer learning of human pose estimators."""

import os

# Idle OpenMP threads sleep instead of spinning: with spinning, 2 torch threads on a 2-core machine that
# is busy with anything else train ~17x slower (benchmarks/results/estimator_speed*.json). Must be set
# before torch is imported; a user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
