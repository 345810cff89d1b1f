"""HTML to PDF (WeasyPrint), for the documents the registry prints: reports, labels, registers."""

from __future__ import annotations


def html_pdf(html: str) -> bytes:
    """The PDF of an HTML document (its CSS included), rendered by WeasyPrint."""
    # heavy: imported when used (docs/benchmarks.md, start-up); WeasyPrint ships no type information
    from weasyprint import HTML  # type: ignore[import-untyped]

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf
