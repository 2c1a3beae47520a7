"""One example per registered tracker for the template test (a registered tracker without one fails there)."""

from __future__ import annotations

from collections.abc import Callable

from vatl.video.tracking import Tracker, get_tracker

EXAMPLES: dict[str, Callable[[], Tracker]] = {
    "bytetrack": lambda: get_tracker("bytetrack", frame_rate=25.0),
    "sort": lambda: get_tracker("sort", frame_rate=25.0),
}
