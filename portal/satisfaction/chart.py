"""The 12-month chart as inline SVG, drawn here on the server (no JavaScript library): visits as grey bars
(right axis), the satisfaction rate as a black line with dots and values (left axis, 0-100 %). Only
presentation attributes, no style attributes, so it passes the strict CSP and WeasyPrint draws it; readable
in black and white; every point has a <title> (the browser's tooltip); all text is escaped."""
from __future__ import annotations

from decimal import Decimal

from flask_babel import gettext as _
from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 270
LEFT, RIGHT, TOP, BOTTOM = 52, 52, 34, 40  # margins around the plot area
FONT = "Noto Sans CJK SC, Noto Sans, sans-serif"
INK, GRID, BAR, BAR_EDGE = "#111111", "#bbbbbb", "#d4d4d4", "#555555"


def _nice_max(value: int) -> int:
    """The smallest 1/2/5 x 10^k step times 4 that covers `value` (axis of 4 steps)."""
    value = max(int(value), 1)
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude * 4 >= value:
                return step * magnitude * 4
        magnitude *= 10


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _text(x: float, y: float, content, *, anchor: str = "middle", size: int = 10, weight: str | None = None) -> str:
    bold = f' font-weight="{weight}"' if weight else ""
    return (f'<text x="{_num(x)}" y="{_num(y)}" text-anchor="{anchor}" font-size="{size}"{bold} '
            f'fill="{INK}">{escape(content)}</text>')


def percent(rate: Decimal | None) -> str:
    return "—" if rate is None else f"{rate}%"


def chart_svg(points: list[dict], *, chart_id: str = "satisfaction-chart") -> Markup:
    """`points`: [{"label": "2026-10", "visits": int, "rate": Decimal | None}, ...] oldest first."""
    title = _("Satisfaction rate and visits, last %(n)d months", n=len(points))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="sat-chart" id="{escape(chart_id)}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" '
             f'aria-labelledby="{escape(chart_id)}-title" font-family="{FONT}">',
             f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
             f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>']
    x0, x1, y0, y1 = LEFT, WIDTH - RIGHT, TOP, HEIGHT - BOTTOM
    plot_h = y1 - y0
    vmax = _nice_max(max((p["visits"] for p in points), default=0))

    for i in range(5):  # grid and both axes' labels
        y = y1 - plot_h * i / 4
        parts.append(f'<line x1="{x0}" y1="{_num(y)}" x2="{x1}" y2="{_num(y)}" stroke="{GRID}" stroke-width="0.6"'
                     + (' stroke-dasharray="3 3"' if i else "") + "/>")
        parts.append(_text(x0 - 6, y + 3.5, f"{25 * i}%", anchor="end", size=9))
        parts.append(_text(x1 + 6, y + 3.5, str(vmax * i // 4), anchor="start", size=9))
    parts.append(f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y1}" stroke="{INK}" stroke-width="0.8"/>')
    parts.append(f'<line x1="{x1}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="{INK}" stroke-width="0.8"/>')
    parts.append(f'<line x1="{x0}" y1="{y1}" x2="{x1}" y2="{y1}" stroke="{INK}" stroke-width="0.8"/>')
    parts.append(_text(4, y0 - 12, _("Satisfaction rate"), anchor="start", size=9, weight="bold"))
    parts.append(_text(WIDTH - 4, y0 - 12, _("Visits"), anchor="end", size=9, weight="bold"))

    slot = (x1 - x0) / max(len(points), 1)
    line: list[list[tuple[float, float]]] = [[]]
    marks = []
    for i, point in enumerate(points):
        cx = x0 + slot * (i + 0.5)
        visits, rate = point["visits"], point["rate"]
        tip = _("%(month)s: %(visits)d visits, satisfaction rate %(rate)s",
                month=point["label"], visits=visits, rate=percent(rate))
        group = [f'<g class="point"><title>{escape(tip)}</title>']
        bar_h = plot_h * visits / vmax
        if visits:
            group.append(f'<rect x="{_num(cx - slot * 0.28)}" y="{_num(y1 - bar_h)}" width="{_num(slot * 0.56)}" '
                         f'height="{_num(bar_h)}" fill="{BAR}" stroke="{BAR_EDGE}" stroke-width="0.8"/>')
            group.append(_text(cx, y1 - bar_h - 3 if bar_h > 14 else y1 - 3, str(visits), size=8))
        if rate is not None:
            cy = y1 - plot_h * float(rate) / 100
            line[-1].append((cx, cy))
            marks.append(f'<circle cx="{_num(cx)}" cy="{_num(cy)}" r="3.5" fill="{INK}"/>')
            marks.append(_text(cx, cy - 7, f"{rate}%", size=9, weight="bold"))
        elif line[-1]:
            line.append([])  # no visits: the line breaks instead of dropping to zero
        group.append(_text(cx, y1 + 14, point["label"], size=9))
        group.append(f'<rect x="{_num(cx - slot / 2)}" y="{y0}" width="{_num(slot)}" height="{plot_h}" '
                     f'fill="#ffffff" fill-opacity="0"/>')  # the whole column shows the tooltip
        group.append("</g>")
        parts.extend(group)
    for segment in line:
        if len(segment) > 1:
            path = " ".join(f"{_num(x)},{_num(y)}" for x, y in segment)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{INK}" stroke-width="2"/>')
    parts.extend(marks)

    ly = HEIGHT - 10  # legend
    parts.append(f'<rect x="{x0}" y="{ly - 8}" width="14" height="9" fill="{BAR}" stroke="{BAR_EDGE}" '
                 'stroke-width="0.8"/>')
    parts.append(_text(x0 + 20, ly, _("Visits made"), anchor="start", size=9))
    lx = x0 + 150
    parts.append(f'<line x1="{lx}" y1="{ly - 4}" x2="{lx + 18}" y2="{ly - 4}" stroke="{INK}" stroke-width="2"/>')
    parts.append(f'<circle cx="{lx + 9}" cy="{ly - 4}" r="3" fill="{INK}"/>')
    parts.append(_text(lx + 24, ly, _("Satisfaction rate (scores 4-5)"), anchor="start", size=9))
    parts.append("</svg>")
    return Markup("".join(parts))
