"""Server-made SVG charts (no chart library, no script): they print, scale on a phone and need
nothing from outside. Texts are escaped; sizes are in user units with a viewBox."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from bot.services.status import Progress

COLORS = {"done": "#16a34a", "late": "#ca8a04", "missed": "#dc2626", "open": "#94a3b8", "excused": "#7c3aed"}
ORDER = ("done", "late", "missed", "open", "excused")


def unit_bars(rows: Sequence[tuple[str, Progress]], labels: dict[str, str], width: int = 760) -> Markup:
    """One stacked horizontal bar per unit: done, late, missed, open, excused; the rate on the right."""
    label_w, rate_w, bar_h, gap = 150, 60, 18, 10
    bar_w = width - label_w - rate_w
    height = max(len(rows), 1) * (bar_h + gap) + gap
    parts = [f'<svg class="chart" role="img" aria-label="各单位完成情况" viewBox="0 0 {width} {height}" '
             f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">']
    for i, (name, p) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        parts.append(f'<text x="{label_w - 8}" y="{y + bar_h - 4}" text-anchor="end" font-size="13">{escape(name)}</text>')
        x = float(label_w)
        parts.append(f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="{bar_h}" fill="#eef2f7"/>')
        for st in ORDER:
            n = getattr(p, st)
            if not n or not p.total:
                continue
            w = bar_w * n / p.total
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{COLORS[st]}">'
                         f'<title>{escape(labels.get(st, st))} {n}</title></rect>')
            x += w
        rate = "—" if p.rate is None else f"{p.rate:.0%}"
        parts.append(f'<text x="{label_w + bar_w + 8}" y="{y + bar_h - 4}" font-size="13">{rate}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def trend_line(points: Sequence[tuple[str, float | None]], width: int = 760, height: int = 220) -> Markup:
    """Monthly completion rates as a line with dots; months without closed instances are gaps."""
    left, right, top, bottom = 40, 10, 14, 28
    inner_w, inner_h = width - left - right, height - top - bottom
    n = max(len(points), 1)
    step = inner_w / max(n - 1, 1)
    parts = [f'<svg class="chart" role="img" aria-label="近 12 个月完成率" viewBox="0 0 {width} {height}" '
             f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">']
    for pct in (0, 50, 100):
        y = top + inner_h * (1 - pct / 100)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#6b7280">{pct}%</text>')
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, (label, rate) in enumerate(points):
        x = left + i * step
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" font-size="11" fill="#6b7280">'
                     f'{escape(label)}</text>')
        if rate is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        y = top + inner_h * (1 - rate)
        segment.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#1d4ed8"><title>{escape(label)} '
                     f'{rate:.1%}</title></circle>')
    if segment:
        segments.append(segment)
    for seg in segments:
        if len(seg) > 1:
            parts.append(f'<polyline points="{" ".join(seg)}" fill="none" stroke="#1d4ed8" stroke-width="2"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
