"""Charts drawn on the server as SVG: no JavaScript library, nothing from a CDN.

Every text in a chart (model names come from the history file) is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

__all__ = ["COLORS", "hbars", "stacked_days"]

COLORS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
          "#9c755f", "#bab0ac")


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def hbars(title: str, items: Sequence[tuple[str, float | None]], fmt: Callable[[float], str],
          top: float | None = None, width: int = 640) -> Markup:
    """Horizontal bars, one per (label, value); a None value is drawn as "no data"."""
    row, label_w, pad = 22, 230, 8
    height = pad * 2 + 20 + row * max(len(items), 1)
    biggest = top if top is not None else max((v for _, v in items if v is not None), default=0.0)
    scale = (width - label_w - 90) / biggest if biggest else 0.0
    parts = [f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="{pad}" y="{pad + 12}" class="chart-title">{_e(title)}</text>']
    if not items:
        parts.append(f'<text x="{pad}" y="{pad + 40}">no data</text>')
    for i, (label, value) in enumerate(items):
        y = pad + 20 + i * row
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end">{_e(label[:34])}</text>')
        if value is None:
            parts.append(f'<text x="{label_w}" y="{y + 15}" class="muted">no data</text>')
            continue
        w = max(value * scale, 1.0)
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
                     f'fill="{COLORS[i % len(COLORS)]}"><title>{_e(label)}: {_e(fmt(value))}</title></rect>')
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 15}">{_e(fmt(value))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def stacked_days(title: str, days: Sequence[str], series: dict[str, list[float]], width: int = 760,
                 height: int = 260) -> Markup:
    """One stacked bar per day, one colour per series (e.g. cost per provider/model), with a legend."""
    left, bottom, top_pad = 60, 40, 28
    names = sorted(series)
    legend_h = 18 * len(names)
    totals = [sum(series[n][i] for n in names) for i in range(len(days))]
    peak = max(totals, default=0.0) or 1.0
    plot_h = height - bottom - top_pad
    bar_w = (width - left - 10) / max(len(days), 1)
    h_all = height + legend_h
    parts = [f'<svg class="chart" role="img" aria-label="{_e(title)}" width="{width}" height="{h_all}" '
             f'viewBox="0 0 {width} {h_all}" xmlns="http://www.w3.org/2000/svg">',
             f'<text x="8" y="18" class="chart-title">{_e(title)}</text>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" '
             'stroke="#999"/>',
             f'<text x="{left - 4}" y="{top_pad + 10}" text-anchor="end">${peak:,.2f}</text>',
             f'<text x="{left - 4}" y="{height - bottom}" text-anchor="end">$0</text>']
    for i, day in enumerate(days):
        x = left + i * bar_w
        y: float = height - bottom
        for j, name in enumerate(names):
            v = series[name][i]
            if v <= 0:
                continue
            h = v / peak * plot_h
            y -= h
            color = COLORS[j % len(COLORS)]
            parts.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(bar_w - 2, 1):.1f}" '
                         f'height="{h:.1f}" fill="{color}">'
                         f'<title>{_e(day)} {_e(name)}: ${v:,.2f}</title></rect>')
        if i % 7 == 0 or i == len(days) - 1:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                         f'class="small">{_e(day[5:])}</text>')
    for j, name in enumerate(names):
        y = height + 18 * j
        color = COLORS[j % len(COLORS)]
        parts.append(f'<rect x="{left}" y="{y - 10}" width="12" height="12" fill="{color}"/>')
        parts.append(f'<text x="{left + 18}" y="{y}">{_e(name)}  ${sum(series[name]):,.2f}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
