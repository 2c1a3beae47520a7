"""Top-down heatmap pose estimators: the contract, its backends, checkpoints, crops, passes and training.

- :mod:`.contract`: :class:`~.contract.PoseEstimator`, what every estimator provides (start here);
- :mod:`.backends`: estimator backends by name (``simplebaseline``: :mod:`.models`; ``blazepose``:
  :mod:`.blazepose`), rebuilding models from checkpoints, and how to add one;
- :mod:`.checkpoint`: saving and (safely) loading checkpoints, ours and published SimpleBaseline/MMPose;
- :mod:`.crops`, :mod:`.heatmaps`: crop affines, Gaussian targets and decoding;
- :mod:`.estimate`, :mod:`.interface`: the estimator pass over a video;
- :mod:`.train`, :mod:`.pretrain`, :mod:`.dataset`: fine-tuning and pretraining.

Nothing is imported here, so that importing one submodule does not load the others.
"""
