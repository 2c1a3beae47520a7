"""Writing a matplotlib figure as a PNG file (atomically) and keeping its bytes for the HTML report."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from vatl.fileio import write_atomic  # noqa: E402

DPI = 110


def save_png(fig: Figure, path: Path, dpi: float = DPI, photo: bool = False) -> bytes:
    """Render ``fig`` as PNG at ``dpi``, write it to ``path`` and close it; returns the PNG bytes.

    ``photo``: a figure of image crops is stored with a 256-colour palette (Floyd–Steinberg dithered):
    about a third of the bytes, which keeps a report with many crops small enough to commit and mail.
    """
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    if photo:
        from PIL import Image

        with Image.open(io.BytesIO(buffer.getvalue())) as image:
            palette = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                                    dither=Image.Dither.FLOYDSTEINBERG)
        buffer = io.BytesIO()
        palette.save(buffer, format="PNG", optimize=True)
    data = buffer.getvalue()
    write_atomic(path, data)
    return data
