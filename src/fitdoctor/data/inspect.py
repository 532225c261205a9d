"""`fitdoctor data inspect`: what is in a dataset folder, and what is wrong with it.

Read-only. Every file is decoded as a viewer shows it (EXIF orientation applied); the report
lists classes and counts, formats and modes, a size and aspect summary, files rotated by their
EXIF tag only and animated files, unusable files with their reason, exact and near duplicates,
duplicates that carry different labels, class imbalance, and (for a split folder) leakage
between splits.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from fitdoctor.data.duplicates import scan_groups
from fitdoctor.data.images import IMBALANCE_RATIO, note_text
from fitdoctor.data.scan import Scan, scan
from fitdoctor.i18n import N_, _


@dataclass
class Inspection:
    """The findings of `inspect_folder`; `to_dict()` is the `--json` document."""

    root: str
    classes: dict[str, int]
    splits: dict[str, dict[str, int]]
    problems: list[dict]
    duplicates: list[list[str]]
    near_duplicates: list[list[str]]
    conflicting_labels: list[dict]
    leakage: list[dict]
    sizes: dict[str, int]
    modes: dict[str, int]
    formats: dict[str, int]
    total_bytes: int
    files: int
    imbalance: float | None
    geometry: dict = field(default_factory=dict)
    quality: dict = field(default_factory=dict)
    rotated: list[str] = field(default_factory=list)
    animated: list[str] = field(default_factory=list)
    too_small: dict = field(default_factory=dict)  # with a spec: images smaller than its image_size
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _groups_as_paths(groups: list[list[int]], s: Scan, usable: list[int]) -> list[list[str]]:
    out = [sorted(s.files[usable[i]].record.path for i in g) for g in groups]
    return sorted(out)


ODD_ASPECT = 3.0  # a long side 3x the short one: squashing or cropping it to a square loses a lot
# Image-quality findings, in the spirit of CleanVision: (score, below or above, threshold, what it means).
QUALITY = {  # finding: (score, flagged when below/above, threshold, meaning (English; shown translated))
    "dark": ("bright_top", "below", 0.2, N_("even the brightest 1% of pixels stay under 20% brightness")),
    "light": ("bright_bottom", "above", 0.9, N_("even the darkest 1% of pixels stay above 90% brightness")),
    "low_information": ("spread", "below", 0.04, N_("brightness spans under 4%: a near-constant image")),
    "blurry": ("sharpness", "below", 0.3, N_("edge strength under 0.3 of the contrast")),
    "odd_aspect": ("aspect", "above", ODD_ASPECT - 1e-9, N_("the long side is 3x the short one or more")),
}
QUALITY_NAMES = {
    "dark": N_("dark"),
    "light": N_("light"),
    "low_information": N_("low information"),
    "blurry": N_("blurry"),
    "odd_aspect": N_("odd aspect"),
}
WORST = 10


def geometry(recs) -> dict:
    """Short side, long side and aspect ratio (long / short) of the usable images: min, median, max.

    Example:
        >>> from fitdoctor.data.images import FileRecord
        >>> geometry([FileRecord("a", width=4000, height=3000), FileRecord("b", width=640, height=640)])["aspect"]
        {'min': 1.0, 'median': 1.17, 'max': 1.33}
    """
    import numpy as np

    if not recs:
        return {}
    w = np.array([r.width for r in recs], float)
    h = np.array([r.height for r in recs], float)
    short, long = np.minimum(w, h), np.maximum(w, h)
    aspect = long / np.maximum(short, 1)

    def summary(values, digits=0):
        return {
            k: round(float(f(values)), digits) if digits else int(f(values))
            for k, f in (("min", np.min), ("median", np.median), ("max", np.max))
        }

    return {
        "short_side": summary(short),
        "long_side": summary(long),
        "aspect": summary(aspect, 2),
        "portrait": int((h > w).sum()),
        "landscape": int((w > h).sum()),
        "square": int((w == h).sum()),
    }


def quality(recs, limit: int | None = WORST) -> dict:
    """The image-quality findings: per issue, its score, threshold, count and the worst files (worst first).

    Never changes a file; `data clean --quality ISSUE` quarantines them only when asked.

    Args:
        recs: The usable files' records.
        limit: How many of the worst files to list per issue (None: all of them).
    """
    out = {}
    for issue, (score, side, threshold, meaning) in QUALITY.items():
        hits = []
        for r in recs:
            value = max(r.width, r.height) / max(1, min(r.width, r.height)) if score == "aspect" else getattr(r, score)
            if (value < threshold) if side == "below" else (value > threshold):
                hits.append((value, r.path))
        hits.sort(reverse=side == "above")
        out[issue] = {
            "score": score,
            "flagged_when": f"{side} {round(threshold, 2)}",
            "meaning": meaning,
            "count": len(hits),
            "worst": [{"path": path, "score": round(value, 4)} for value, path in hits[:limit]],
        }
    return out


def too_small(recs, image_size: tuple[int, int] | None, limit: int | None = WORST) -> dict:
    """Images smaller than a spec's `image_size` (height, width) as viewed: they would be upscaled when loaded.

    Example:
        >>> from fitdoctor.data.images import FileRecord
        >>> too_small([FileRecord("a", width=40, height=30), FileRecord("b", width=640, height=480)], (64, 64))
        {'image_size': [64, 64], 'count': 1, 'smallest': [{'path': 'a', 'size': '40x30'}]}
    """
    if image_size is None:
        return {}
    height, width = image_size
    small = [r for r in recs if r.width < width or r.height < height]
    small.sort(key=lambda r: (r.width * r.height, r.path))
    return {
        "image_size": [height, width],
        "count": len(small),
        "smallest": [{"path": r.path, "size": f"{r.width}x{r.height}"} for r in small[:limit]],
    }


def analyse(s: Scan, image_size: tuple[int, int] | None = None) -> Inspection:
    """Build the inspection from a finished scan (no file is read again); with `image_size` (a spec's
    height and width), the images smaller than it are listed."""
    usable = [i for i, f in enumerate(s.files) if f.record.problem is None]
    recs = [s.files[i].record for i in usable]
    exact, near = scan_groups(s)
    classes = Counter(f.label for f in s.files if f.record.problem is None)
    splits: dict[str, dict[str, int]] = {}
    for f in s.files:
        if f.split and f.record.problem is None:
            splits.setdefault(f.split, Counter())[f.label] += 1
    conflicting, leakage = [], []
    for kind, groups in (("exact", exact), ("near", near)):
        for g in groups:
            members = [s.files[usable[i]] for i in g]
            labels = sorted({m.label for m in members})
            paths = sorted(m.record.path for m in members)
            if len(labels) > 1:
                conflicting.append({"paths": paths, "classes": labels, "kind": kind})
            split_names = sorted({m.split for m in members if m.split})
            if len(split_names) > 1:
                leakage.append({"paths": paths, "splits": split_names, "kind": kind})
    counts = [c for c in classes.values() if c]
    warnings = [note_text(note) for note in s.notes]
    imbalance = round(max(counts) / min(counts), 2) if counts else None
    if imbalance and imbalance >= IMBALANCE_RATIO:
        warnings.append(
            _(
                "Classes are imbalanced: the largest has {imbalance}x the files of the smallest (training uses class "
                "weights).",
                imbalance=imbalance,
            )
        )
    return Inspection(
        root=str(s.root),
        classes=dict(sorted(classes.items())),
        splits={k: dict(sorted(v.items())) for k, v in splits.items()},
        problems=[{"path": f.record.path, "reason": f.record.problem} for f in s.unusable],
        duplicates=_groups_as_paths(exact, s, usable),
        near_duplicates=_groups_as_paths(near, s, usable),
        conflicting_labels=conflicting,
        leakage=leakage,
        sizes=dict(Counter(f"{r.width}x{r.height}" for r in recs).most_common()),
        modes=dict(Counter(r.mode for r in recs).most_common()),
        formats=dict(Counter(r.format for r in recs).most_common()),
        total_bytes=sum(f.record.bytes for f in s.files),
        files=len(s.files),
        imbalance=imbalance,
        geometry=geometry(recs),
        quality=quality(recs),
        rotated=sorted(r.path for r in recs if r.orientation != 1),
        animated=sorted(r.path for r in recs if r.frames > 1),
        too_small=too_small(recs, image_size),
        warnings=warnings,
    )


def inspect_folder(
    root: str | os.PathLike,
    *,
    progress: bool = False,
    use_cache: bool = True,
    image_size: tuple[int, int] | None = None,
) -> Inspection:
    """Inspect a class folder or a split folder, reading every file and changing nothing.

    Args:
        root: The folder.
        progress: Show a progress bar on stderr.
        use_cache: Reuse what earlier scans found for unchanged files (see `scan_cache`).
        image_size: A spec's (height, width): images smaller than it are listed (`too_small`).

    Example:
        >>> import tempfile
        >>> from fitdoctor.data.demo_set import write_demo_set
        >>> d = tempfile.mkdtemp()
        >>> _ = write_demo_set(d + "/digits", limit_per_class=3)
        >>> inspect_folder(d + "/digits").classes["7"]
        3
    """
    return analyse(scan(Path(root), progress=progress, use_cache=use_cache), image_size)


def _human_bytes(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


def render(ins: Inspection, limit: int = 10) -> str:
    """The human report of an inspection, in the current language."""
    lines = [
        _(
            "{root}: {files} files, {size}, {n} classes",
            root=ins.root,
            files=ins.files,
            size=_human_bytes(ins.total_bytes),
            n=len(ins.classes),
        )
    ]
    if ins.splits:
        for split, counts in ins.splits.items():
            lines.append(f"  {split}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    else:
        lines.append("  " + _("classes: {counts}", counts=", ".join(f"{k} {v}" for k, v in ins.classes.items())))
    g = ins.geometry
    if g:
        lines.append(
            "  "
            + _(
                "sizes: {n} distinct; short side {short_min}-{short_max} px (median {short_median}), long side "
                "{long_min}-{long_max} px; aspect {aspect_min}-{aspect_max} (median {aspect_median}); {landscape} "
                "landscape, {portrait} portrait, {square} square",
                n=len(ins.sizes),
                short_min=g["short_side"]["min"],
                short_max=g["short_side"]["max"],
                short_median=g["short_side"]["median"],
                long_min=g["long_side"]["min"],
                long_max=g["long_side"]["max"],
                aspect_min=g["aspect"]["min"],
                aspect_max=g["aspect"]["max"],
                aspect_median=g["aspect"]["median"],
                landscape=g["landscape"],
                portrait=g["portrait"],
                square=g["square"],
            )
        )
    lines.append("  " + _("formats: {formats}", formats=", ".join(f"{k} ({v})" for k, v in ins.formats.items())))
    lines.append("  " + _("modes: {modes}", modes=", ".join(f"{k} ({v})" for k, v in ins.modes.items())))
    if ins.rotated:
        lines.append(
            "  "
            + _(
                "rotated by their EXIF tag only: {n} files (shown, checked and trained upright, as a photo viewer "
                "shows them)",
                n=len(ins.rotated),
            )
        )
    if ins.animated:
        lines.append("  " + _("animated files: {n} (their first frame is used)", n=len(ins.animated)))
    if ins.too_small.get("count"):
        height, width = ins.too_small["image_size"]
        lines.append(
            "  "
            + _(
                "smaller than the spec's image_size {height}x{width}: {n} files (upscaled when loaded); the smallest:"
                " {smallest}",
                height=height,
                width=width,
                n=ins.too_small["count"],
                smallest=", ".join(f"{x['path']} ({x['size']})" for x in ins.too_small["smallest"][:3]),
            )
        )
    sections = [
        (_("Unusable files"), [f"{p['path']}: {_(p['reason'])}" for p in ins.problems]),
        (_("Exact duplicates"), [" = ".join(g) for g in ins.duplicates]),
        (_("Near duplicates"), [" ~ ".join(g) for g in ins.near_duplicates]),
        (
            _("Conflicting labels"),
            [f"{' / '.join(c['paths'])} ({', '.join(c['classes'])})" for c in ins.conflicting_labels],
        ),
        (_("Leakage between splits"), [f"{' / '.join(x['paths'])} ({', '.join(x['splits'])})" for x in ins.leakage]),
    ]
    found = {k: q for k, q in ins.quality.items() if q["count"]}
    if found:
        lines.append(_("Image quality (nothing is moved; look at the worst first):"))
        for issue, q in found.items():
            worst = ", ".join(f"{w['path']} ({w['score']:g})" for w in q["worst"][:3])
            lines.append(
                "  "
                + _(
                    "{issue}: {count} ({meaning}); worst: {worst}",
                    issue=_(QUALITY_NAMES[issue]),
                    count=q["count"],
                    meaning=_(q["meaning"]),
                    worst=worst,
                )
            )
    for title, items in sections:
        if items:
            lines.append(f"{title} ({len(items)}):")
            lines.extend(f"  {item}" for item in items[:limit])
            if len(items) > limit:
                lines.append("  " + _("... and {n} more (use --json for all)", n=len(items) - limit))
    lines.extend(_("Warning: {warning}", warning=w) for w in ins.warnings)
    if not (ins.problems or ins.duplicates or ins.near_duplicates or ins.leakage):
        lines.append(_("No problems found."))
    return "\n".join(lines)
