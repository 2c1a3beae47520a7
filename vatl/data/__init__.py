"""Videos, labels and predictions, and the dataset formats that read and write them."""

from vatl.data.annotations import Label, LabelStore, Predictions
from vatl.data.video import Frame, Video

__all__ = ["Frame", "Label", "LabelStore", "Predictions", "Video"]
