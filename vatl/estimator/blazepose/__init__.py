"""BlazePose GHUM full (MediaPipe, Apache-2.0) as a fine-tunable vatl estimator.

:mod:`.fetch` obtains the TFLite file from the ``mediapipe`` wheel on PyPI, :mod:`.tflite_reader` parses
it into a plain :class:`~.tflite_reader.Graph`, :mod:`.convert` turns the graph into a PyTorch module and
:mod:`.model` wraps it as a pose model of the estimator interface with a keypoint-set transfer head.
"""
