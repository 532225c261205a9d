"""The human report of a diagnosis: verdict, evidence, a sparkline, ranked remedies."""

from __future__ import annotations

import numpy as np

from fitdoctor.i18n import t

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: np.ndarray, width: int = 60, marks: dict[int, str] | None = None) -> tuple[str, str]:
    """A unicode sparkline of a curve (resampled to `width`), and a line of marks under it.

    Args:
        values: The curve; NaN/inf are drawn as "×".
        width: Most characters.
        marks: 0-based epoch -> one character to put under that epoch (e.g. "B" for best).

    Example:
        >>> sparkline(np.array([3.0, 2.0, 1.0]))[0]
        '█▅▁'
    """
    n = len(values)
    if n == 0:
        return "", ""
    idx = np.linspace(0, n - 1, min(width, n)).round().astype(int)
    sample = values[idx]
    finite = sample[np.isfinite(sample)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    span = hi - lo or 1.0
    chars = ["×" if not np.isfinite(v) else BARS[int(round((v - lo) / span * (len(BARS) - 1)))] for v in sample]
    under = [" "] * len(idx)
    for epoch, mark in (marks or {}).items():
        pos = int(np.argmin(np.abs(idx - epoch)))
        under[pos] = mark
    return "".join(chars), "".join(under).rstrip()


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value[:8]) + (" …" if len(value) > 8 else "")
    return str(value)


def render(d, *, max_remedies: int = 4) -> str:
    """The text report of one `Diagnosis` in its language."""
    lang = d.lang
    f = d.primary
    lines = [
        f"{d.source}: {t('verdict.' + d.verdict, lang).upper()} "
        f"({t('report.confidence', lang)} {f.confidence:.2f}, {d.epochs} {t('report.epochs', lang)})",
        f"  {f.summary}",
    ]
    h = d.history
    if h is not None:
        marks = {}
        if d.best_epoch:
            marks[d.best_epoch - 1] = "B"
        if f.onset_epoch and f.kind != "good_fit":
            marks[f.onset_epoch - 1] = "^"
        for key, label in (("loss", "report.train_loss"), ("val_loss", "report.val_loss")):
            values = h.get(key)
            if values is not None:
                line, under = sparkline(values, marks=marks)
                lines.append(f"  {t(label, lang):>18} {line}")
        if marks and (h.get("loss") is not None or h.get("val_loss") is not None):
            legend = f"B={t('report.best_epoch', lang)} {d.best_epoch}"
            if "^" in marks.values():
                legend += f", ^={t('report.onset', lang)} {f.onset_epoch}"
            lines.append(f"  {'':>18} {under}  {legend}")
    lines.append(f"  {t('report.evidence', lang)}:")
    lines.extend(f"    {k}: {_fmt(v)}" for k, v in f.evidence.items())
    if f.remedies:
        lines.append(f"  {t('report.remedies', lang)}:")
        for i, r in enumerate(f.remedies[:max_remedies], 1):
            lines.append(f"    {i}. {r.why}")
            lines.append(f"       {r.keras}")
    for other in d.findings[1:]:
        lines.append(
            f"  {t('report.also', lang)}: {t('verdict.' + other.kind, lang)} "
            f"({t('report.confidence', lang)} {other.confidence:.2f}): {other.summary}"
        )
    if d.notes:
        lines.append(f"  {t('report.notes', lang)}:")
        lines.extend(f"    - {n}" for n in d.notes)
    return "\n".join(lines)
