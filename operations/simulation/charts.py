"""Charts of the result page drawn on the server as SVG (no script, no CDN): horizontal bars that may be
negative (the change by group) and a histogram (persons per band of per-person change)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

BAR_H, GAP, LABEL_W, WIDTH = 18, 6, 170, 640
POSITIVE, NEGATIVE = "#417690", "#ba2121"


def bars(items: list[tuple[str, Decimal | int]], *, title: str) -> SafeString:
    """One bar per (label, value) around a zero axis; values printed beside the bars."""
    if not items:
        return mark_safe("")
    values = [Decimal(v) for _, v in items]
    low, high = min(min(values), Decimal(0)), max(max(values), Decimal(0))
    span = (high - low) or Decimal(1)
    plot = WIDTH - LABEL_W - 90
    zero_x = LABEL_W + float((0 - low) / span) * plot
    height = len(items) * (BAR_H + GAP) + 30
    rows = []
    for i, ((label, _), value) in enumerate(zip(items, values, strict=True)):
        y = 24 + i * (BAR_H + GAP)
        x_end = LABEL_W + float((value - low) / span) * plot
        x, w = min(zero_x, x_end), abs(x_end - zero_x)
        rows.append(
            (
                LABEL_W - 6,
                y + BAR_H - 5,
                label,
                f"{x:.1f}",
                y,
                f"{max(w, 0.5):.1f}",
                BAR_H,
                NEGATIVE if value < 0 else POSITIVE,
                f"{max(x_end, zero_x) + 4:.1f}",
                y + BAR_H - 5,
                f"{value:,}",
            )
        )
    body = format_html_join(
        "",
        '<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"></rect>'
        '<text x="{}" y="{}" font-size="11">{}</text>',
        rows,
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" role="img" aria-label="{}">'
        '<text x="0" y="14" font-size="13" font-weight="bold">{}</text>'
        '<line x1="{}" y1="20" x2="{}" y2="{}" stroke="#999"></line>{}</svg>',
        WIDTH,
        height,
        title,
        title,
        f"{zero_x:.1f}",
        f"{zero_x:.1f}",
        height - 4,
        body,
    )


def histogram(bins: list[tuple[str, int]], *, title: str) -> SafeString:
    """Vertical bars: persons per band of change."""
    if not bins:
        return mark_safe("")
    top = max(n for _, n in bins) or 1
    plot_h, bar_w = 180, max(int((WIDTH - 40) / len(bins)) - 4, 8)
    cols = []
    for i, (label, n) in enumerate(bins):
        h = plot_h * n / top
        x = 20 + i * (bar_w + 4)
        cols.append(
            (
                x,
                f"{24 + plot_h - h:.1f}",
                bar_w,
                f"{max(h, 0.5):.1f}",
                f"{label}：{n} 人",
                x + bar_w / 2,
                f"{20 + plot_h - h:.1f}",
                n,
            )
        )
    body = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="#417690"><title>{}</title></rect>'
        '<text x="{}" y="{}" text-anchor="middle" font-size="11">{}</text>',
        cols,
    )
    first, last = bins[0][0].split("～")[0], bins[-1][0].split("～")[-1]
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" role="img" aria-label="{}">'
        '<text x="0" y="14" font-size="13" font-weight="bold">{}</text>{}'
        '<text x="20" y="{}" font-size="11">{}</text><text x="{}" y="{}" text-anchor="end" font-size="11">{}</text>'
        "</svg>",
        WIDTH,
        plot_h + 50,
        title,
        title,
        body,
        plot_h + 42,
        first,
        WIDTH - 20,
        plot_h + 42,
        last,
    )
