"""A self-contained HTML page: inline CSS, images embedded as base64 PNGs, every text escaped.

Run and video names come from files a user did not write: they are data, and :func:`text` escapes them.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping, Sequence

CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1280px; padding: 0 1em; color: #1f2937; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
p, li { line-height: 1.45; } .meta { color: #555; font-size: 0.92em; }
img { max-width: 100%; border: 1px solid #e5e7eb; } table { border-collapse: collapse; font-size: 0.85em; margin: 0.6em 0; }
th, td { border: 1px solid #e5e7eb; padding: 2px 7px; text-align: right; } th { background: #f3f4f6; }
td:first-child, th:first-child { text-align: left; } .note { background: #fffbeb; border-left: 3px solid #d97706;
padding: 0.3em 0.8em; } details { margin: 0.5em 0; } code { background: #f3f4f6; padding: 0 3px; }
"""


def text(value: object) -> str:
    """``value`` as escaped HTML text."""
    return html.escape(str(value), quote=True)


def image(png: bytes, alt: str) -> str:
    """An <img> with the PNG embedded."""
    return f'<img alt="{text(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def fmt(value: object, digits: int = 3) -> str:
    """Numbers rounded, None / NaN as an en dash (escaped)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "–" if value != value else f"{value:.{digits}g}" if abs(value) >= 1000 else f"{value:.{digits}f}"
    return text(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], digits: int = 3) -> str:
    """A table; cells are formatted with :func:`fmt`."""
    head = "".join(f"<th>{text(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{fmt(c, digits)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, body: Sequence[str], meta: Mapping[str, str] | None = None) -> str:
    """The whole document; ``meta``: ``<meta name=… content=…>`` tags for programs reading it."""
    tags = "".join(f'<meta name="{text(k)}" content="{text(v)}">' for k, v in (meta or {}).items())
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{tags}<title>{text(title)}</title>"
            f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n")
