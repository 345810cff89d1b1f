"""Figures as accessible inline SVG, drawn on the server with matplotlib's Figure (no pyplot).

The <svg> element gets role="img" and its alt text as a <title> referenced by aria-labelledby,
scales with the page (viewBox, no fixed size) and has ids of its own (the SVG hash salt), so
two figures on one page never share a clip-path id.
"""

from __future__ import annotations

import io
import re

import matplotlib as mpl
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from matplotlib.figure import Figure


def accessible_svg(fig: Figure, name: str, alt: str, *, salt: str, css_class: str = "chart") -> SafeString:
    """The figure as an <svg> element with role="img" and its alt text as <title>."""
    buffer = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none"}):
        fig.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r'^<svg([^>]*?) width="[^"]*" height="[^"]*"', r"<svg\1", text, count=1)
    title_id = f"{name}-title"
    opening_end = text.index(">") + 1
    opening = text[:opening_end].replace("<svg", f'<svg class="{css_class}" role="img" aria-labelledby="{title_id}"', 1)
    return mark_safe(f'{opening}<title id="{title_id}">{escape(alt)}</title>{text[opening_end:]}')  # noqa: S308


def png_bytes(fig: Figure, dpi: int = 150) -> bytes:
    """The figure as PNG (for the report and the analysis package)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight", metadata={"Software": None})
    return buffer.getvalue()
