"""`fitdoctor data clean`: move unusable files and extra copies aside, never delete them.

Quarantined files keep their relative path under QDIR, and every move is written to
`QDIR/quarantine-log.jsonl` before it happens, so `restore_quarantine` can put each file
back (and a run killed half-way can simply be run again).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from fitdoctor.data.duplicates import exact_groups
from fitdoctor.data.scan import scan
from fitdoctor.errors import UserError
from fitdoctor.fsio import MoveConflict, exclusive, move_file
from fitdoctor.i18n import _

LOG_NAME = "quarantine-log.jsonl"


def _append(log: Path, entries: list[dict]) -> None:
    with open(log, "a", encoding="utf-8") as f:
        for e in entries:
            f.write(json.dumps(e, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def clean_folder(
    folder: str | os.PathLike,
    quarantine: str | os.PathLike,
    *,
    dry_run: bool = False,
    use_cache: bool = True,
    quality: tuple[str, ...] = (),
) -> list[dict]:
    """Quarantine unusable files and all but the first copy of each exact duplicate.

    Args:
        folder: The dataset folder (class folders, or train/val/test).
        quarantine: Where the files go, mirroring their paths; must be outside `folder`.
        dry_run: List what would move, move nothing.
        use_cache: Reuse what earlier scans found for unchanged files (see `scan_cache`).
        quality: Image-quality findings whose images go too, only when asked (`inspect.QUALITY`
            names: dark, light, low_information, blurry, odd_aspect); default none.

    Returns:
        One `{"path", "reason"}` per quarantined file (keys and numbers: `describe` says it in words).
    """
    from fitdoctor.data.inspect import QUALITY
    from fitdoctor.data.inspect import quality as quality_findings

    folder, quarantine = Path(folder), Path(quarantine)
    unknown = [q for q in quality if q not in QUALITY]
    if unknown:
        from fitdoctor.errors import did_you_mean

        raise UserError(
            _("Unknown quality finding '{unknown}'.", unknown=unknown[0])
            + did_you_mean(unknown[0], QUALITY, show_choices=True)
        )
    if quarantine.resolve().is_relative_to(folder.resolve()):
        raise UserError(
            _(
                "Quarantine folder '{quarantine}' is inside '{folder}'. Pass a folder outside it.",
                quarantine=quarantine,
                folder=folder,
            )
        )
    s = scan(folder, use_cache=use_cache)
    moves = [{"path": f.record.path, "reason": f.record.problem} for f in s.unusable]
    usable = s.usable
    for group in exact_groups([f.record.sha256 for f in usable]):
        paths = sorted(usable[i].record.path for i in group)
        moves += [{"path": p, "reason": "duplicate", "of": paths[0]} for p in paths[1:]]
    if quality:
        taken = {m["path"] for m in moves}
        found = quality_findings([f.record for f in usable], limit=None)
        for issue in quality:
            for hit in found[issue]["worst"]:
                if hit["path"] not in taken:
                    taken.add(hit["path"])
                    moves.append({"path": hit["path"], "reason": issue, "score": hit["score"]})
    moves.sort(key=lambda m: m["path"])
    for m in moves:
        if (quarantine / m["path"]).exists():
            raise UserError(
                _(
                    "'{path}' already exists in the quarantine. Restore or move it first, or pass another "
                    "--quarantine folder; nothing was moved.",
                    path=quarantine / m["path"],
                )
            )
    if dry_run or not moves:
        return moves
    with exclusive(quarantine, "data clean"):
        run = time.strftime("%Y%m%dT%H%M%S")
        root = str(folder.resolve())
        _append(quarantine / LOG_NAME, [{"run": run, "root": root, "action": "quarantine", **m} for m in moves])
        for m in moves:
            try:
                move_file(folder / m["path"], quarantine / m["path"])
            except MoveConflict:
                raise UserError(
                    _(
                        "'{path}' already holds another file (from an earlier clean); nothing was overwritten. Pass "
                        "another --quarantine folder.",
                        path=quarantine / m["path"],
                    )
                ) from None
    return moves


def describe(move: dict) -> str:
    """Why a file was quarantined, in words, in the current language.

    Example:
        >>> describe({"path": "a/2.png", "reason": "duplicate", "of": "a/1.png"})
        'duplicate of a/1.png'
    """
    from fitdoctor.data.inspect import QUALITY_NAMES

    if move["reason"] == "duplicate":
        return _("duplicate of {path}", path=move["of"])
    if move["reason"] in QUALITY_NAMES:
        return f"{_(QUALITY_NAMES[move['reason']])} ({move['score']:g})"
    return _(move["reason"])  # why the file is unusable


def restore_quarantine(folder: str | os.PathLike, quarantine: str | os.PathLike) -> tuple[int, list[str]]:
    """Move every quarantined file back to its place; return (restored, skipped paths).

    A file whose place is taken again is skipped (never overwritten) and listed.
    """
    folder, quarantine = Path(folder), Path(quarantine)
    log = quarantine / LOG_NAME
    if not log.exists():
        raise UserError(
            _(
                "'{quarantine}' holds no quarantine log ({log_name}). Pass the folder given to --quarantine.",
                quarantine=quarantine,
                log_name=LOG_NAME,
            )
        )
    with exclusive(quarantine, "data clean --restore"):
        entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]
        root = str(folder.resolve())
        restored, skipped = 0, []
        for e in entries:
            if e.get("action") != "quarantine" or e.get("root") != root:
                continue
            src, dest = quarantine / e["path"], folder / e["path"]
            if not src.exists():
                continue
            if os.path.lexists(dest):
                skipped.append(e["path"])
                continue
            try:
                restored += move_file(src, dest)
            except (MoveConflict, OSError):
                skipped.append(e["path"])
        _append(
            log, [{"action": "restore", "root": root, "restored": restored, "time": time.strftime("%Y%m%dT%H%M%S")}]
        )
    return restored, skipped
