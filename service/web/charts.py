"""Bar charts drawn on the server as SVG: no script, nothing fetched, nothing the page's
Content-Security-Policy has to allow, and readable with the table printed beside each one.

Text goes through markupsafe's escaping; sizes and colours are presentation attributes (a style
attribute would need 'unsafe-inline')."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH = 520
BAR_HEIGHT = 18
GAP = 8
LABEL_WIDTH = 230
COLOURS = ("#b3261e", "#1f5fa8", "#2e7d32", "#8a6d00", "#6a3d9a", "#00796b")
MAX_LABEL = 30


def bar_chart(title: str, bars: Sequence[tuple[str, float]], unit: str = "", series: int = 0) -> Markup:
    """Horizontal bars, longest first as given; `title` names the chart for screen readers."""
    if not bars:
        return Markup("")
    top = max((value for _, value in bars), default=0) or 1
    span = WIDTH - LABEL_WIDTH - 60
    height = len(bars) * (BAR_HEIGHT + GAP) + GAP
    colour = COLOURS[series % len(COLOURS)]
    parts = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
             f'width="100%" role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for index, (label, value) in enumerate(bars):
        y = GAP + index * (BAR_HEIGHT + GAP)
        length = max(1.0, span * value / top) if value else 0.0
        short = label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 1] + "…"
        shown = f"{value:g}{unit}"
        parts.append(
            f'<g><title>{escape(label)}: {escape(shown)}</title>'
            f'<text x="{LABEL_WIDTH - 6}" y="{y + BAR_HEIGHT - 5}" text-anchor="end" font-size="12" '
            f'fill="#1d1d1d">{escape(short)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR_HEIGHT}" rx="2" fill="{colour}"/>'
            f'<text x="{LABEL_WIDTH + length + 5:.1f}" y="{y + BAR_HEIGHT - 5}" font-size="12" '
            f'fill="#1d1d1d">{escape(shown)}</text></g>')
    parts.append("</svg>")
    return Markup("".join(parts))
