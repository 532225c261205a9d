"""Small inline SVG line charts for notebook cards and the live display.

Drawing one costs well under a millisecond (matplotlib needs ~100 ms for a PNG), so the
live display can redraw every epoch without slowing training. The report's full-size
figures stay matplotlib PNGs (`plots.py`).

Example:
    >>> svg = chart({"loss": [1.0, 0.5, 0.4], "val_loss": [1.1, 0.7, 0.8]}, "loss",
    ...             {"train": "train", "val": "val", "title": "loss", "best": "best", "onset": "onset"},
    ...             best_epoch=2)
    >>> svg.startswith("<svg") and svg.count("<polyline") == 2
    True
"""

from __future__ import annotations

import html
import math

from fitdoctor.report.plots import MARK_COLOR, TRAIN_COLOR, VAL_COLOR

BEST_COLOR = "#3a8f3a"


def _finite(values) -> list[float | None]:
    out = []
    for v in values or []:
        try:
            x = float(v)
        except (TypeError, ValueError):
            x = math.nan
        out.append(x if math.isfinite(x) else None)
    return out


def _tick(v: float) -> str:
    return f"{v:.2g}"


def chart(
    history: dict,
    metric: str,
    labels: dict,
    *,
    best_epoch: int | None = None,
    onset_epoch: int | None = None,
    width: int = 300,
    height: int = 150,
) -> str:
    """Training and validation `metric` per epoch as one `<svg>` element ("" when absent).

    Args:
        history: A History dict (lists per key; None/NaN/inf are gaps).
        metric: "loss" or "accuracy" (the validation series is `val_<metric>`).
        labels: {"train", "val", "title", "best", "onset"} in the display's language.
        best_epoch, onset_epoch: 1-based epochs to mark with a vertical line.
        width, height: Size in CSS pixels.
    """
    series = [
        (_finite(history.get(metric)), TRAIN_COLOR, labels["train"]),
        (_finite(history.get(f"val_{metric}")), VAL_COLOR, labels["val"]),
    ]
    series = [s for s in series if any(v is not None for v in s[0])]
    if not series:
        return ""
    n = max(len(s[0]) for s in series)
    values = [v for s in series for v in s[0] if v is not None]
    low, high = min(values), max(values)
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    left, right, top, bottom = 44, 8, 20, 18
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(epoch: float) -> float:  # 1-based epoch -> pixel
        return left + (plot_w * (epoch - 1) / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (high - v) / (high - low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(labels["title"])}" '
        'style="font-family:system-ui,sans-serif;font-size:10px">',
        f'<text x="{left}" y="12" font-size="11" font-weight="600" fill="#1d2330">'
        f"{html.escape(labels['title'])}</text>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#c9ced8"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" fill="#5a6272">{_tick(high)}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end" fill="#5a6272">{_tick(low)}</text>',
        f'<text x="{left}" y="{height - 4}" fill="#5a6272">1</text>',
        f'<text x="{left + plot_w}" y="{height - 4}" text-anchor="end" fill="#5a6272">{n}</text>',
    ]
    for epoch, color, key in ((best_epoch, BEST_COLOR, "best"), (onset_epoch, MARK_COLOR, "onset")):
        if epoch and 1 <= epoch <= n:
            dash = "4 3" if key == "best" else "2 2"
            parts.append(
                f'<line x1="{x(epoch):.1f}" y1="{top}" x2="{x(epoch):.1f}" y2="{top + plot_h}" stroke="{color}" '
                f'stroke-dasharray="{dash}"><title>{html.escape(labels[key])} {epoch}</title></line>'
            )
    legend_x = width - right
    for values_, color, name in reversed(series):
        points = " ".join(f"{x(i + 1):.1f},{y(v):.1f}" for i, v in enumerate(values_) if v is not None)
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="1.8"/>')
        parts.append(f'<text x="{legend_x}" y="12" text-anchor="end" fill="{color}">{html.escape(name)}</text>')
        legend_x -= 7 * len(name) + 10
    parts.append("</svg>")
    return "".join(parts)
