"""vatl: video-specific active transfer learning of human pose estimators."""

__version__ = "0.1.0"
