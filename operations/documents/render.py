"""HTML → PDF with WeasyPrint (Debian's Noto CJK fonts), the QR code drawn by segno as SVG."""

from __future__ import annotations

import segno
from django.template.loader import render_to_string

from .codes import display
from .content import Content

#: The font stack of the printed page: Debian's fonts-noto-cjk (installed by bin/start and .ci/run).
FONTS = '"Noto Sans CJK SC", "Noto Serif CJK SC", "WenQuanYi Zen Hei", sans-serif'


def qr_data_uri(url: str) -> str:
    """The verification URL as a QR code (error correction M), an SVG data URI for the page."""
    return segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=2)


def html_of(content: Content, *, code: str, verify_url: str, issued_at, issuer: str) -> str:
    return render_to_string(
        "documents/pdf.html",
        {
            "c": content,
            "code": display(code),
            "verify_url": verify_url,
            "qr": qr_data_uri(verify_url),
            "issued_at": issued_at,
            "issuer": issuer,
            "fonts": FONTS,
        },
    )


def pdf_of(content: Content, *, code: str, verify_url: str, issued_at, issuer: str) -> bytes:
    """The document as PDF bytes."""
    from weasyprint import HTML  # imported on use: loading pango costs a little at start-up

    html = html_of(content, code=code, verify_url=verify_url, issued_at=issued_at, issuer=issuer)
    return HTML(string=html).write_pdf()
