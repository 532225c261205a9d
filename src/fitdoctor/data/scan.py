"""Decode every file of a folder in parallel, over all cores, with a progress bar.

The folder is either a class folder (`ROOT/<class>/...`) or an already split one
(`ROOT/train/<class>/...`, `ROOT/val/...`, `ROOT/test/...`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from fitdoctor.data.images import FileRecord, check_file, detect_splits, list_class_files, raise_on_bombs
from fitdoctor.errors import UserError
from fitdoctor.i18n import _

PARALLEL_THRESHOLD = 64


@dataclass
class ScannedFile:
    """A checked file and where it belongs."""

    record: FileRecord
    label: str
    split: str | None = None


@dataclass
class Scan:
    """All files of a dataset folder, checked.

    Args:
        root: The scanned folder.
        splits: The split names when the folder is already split, else [].
        files: One `ScannedFile` per file, sorted by path.
        notes: What the listing left out and why (`images.NOTES` keys with their values).
    """

    root: Path
    splits: list[str]
    files: list[ScannedFile] = field(default_factory=list)
    notes: list[dict] = field(default_factory=list)
    groups: tuple | None = None  # exact and near-duplicate groups, filled once by `duplicates.scan_groups`

    @property
    def usable(self) -> list[ScannedFile]:
        return [f for f in self.files if f.record.problem is None]

    @property
    def unusable(self) -> list[ScannedFile]:
        return [f for f in self.files if f.record.problem is not None]


def _check_batch(args: tuple[str, list[str]]) -> list[FileRecord]:
    root, rels = args
    return [check_file(root, rel) for rel in rels]


def _decode_all(
    root: str, rels: list[str], workers: int | None, progress: Callable[[int], None] | None
) -> list[FileRecord]:
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(rels) < PARALLEL_THRESHOLD:
        out = []
        for rel in rels:
            out.append(check_file(root, rel))
            if progress:
                progress(1)
        return out
    size = max(16, min(256, len(rels) // (workers * 8) or 1))
    batches = [(root, rels[i : i + size]) for i in range(0, len(rels), size)]
    out = []
    with ProcessPoolExecutor(max_workers=workers, initializer=raise_on_bombs) as pool:
        for records in pool.map(_check_batch, batches):
            out.extend(records)
            if progress:
                progress(len(records))
    return out


def list_dataset(
    root: str | os.PathLike, notes: list | None = None
) -> tuple[list[str], list[tuple[str, str, str | None]]]:
    """List (relative path, class, split) for every file under a dataset folder; what is left out goes to `notes`."""
    notes = [] if notes is None else notes
    root = Path(root)
    if not root.exists():
        raise UserError(_("Folder '{root}' does not exist. Pass the folder that holds your class folders.", root=root))
    if not root.is_dir():
        raise UserError(_("'{root}' is not a folder. Pass the folder that holds your class folders.", root=root))
    splits = detect_splits(root)
    entries: list[tuple[str, str, str | None]] = []
    if splits:
        for split in splits:
            for label, rels in list_class_files(root / split, notes).items():
                entries.extend((f"{split}/{rel}", label, split) for rel in rels)
    else:
        for label, rels in list_class_files(root, notes).items():
            entries.extend((rel, label, None) for rel in rels)
    if not entries:
        raise UserError(
            _(
                "No class folders with files in '{root}'. Expected '{root}/<class>/<image>' (one folder per class).",
                root=root,
            )
        )
    labels = sorted({label for _rel, label, _split in entries})
    if len(labels) == 1:
        notes.append({"key": "one_class", "values": {"label": labels[0]}})
    return splits, entries


def scan(
    root: str | os.PathLike, *, workers: int | None = None, progress: bool = False, use_cache: bool = True
) -> Scan:
    """Check every file under `root` with the decoder training uses.

    Args:
        root: A class folder or an already split folder.
        workers: Processes to decode with; all cores by default.
        progress: Show a progress bar on stderr.
        use_cache: Reuse what an earlier scan found for files unchanged since (see `scan_cache`).

    Example:
        >>> scan("/nonexistent")
        Traceback (most recent call last):
        ...
        fitdoctor.errors.UserError: Folder '/nonexistent' does not exist. Pass the folder that holds your class folders.
    """
    from fitdoctor.data import scan_cache

    root = Path(root)
    notes: list[dict] = []
    splits, entries = list_dataset(root, notes)
    rels = [e[0] for e in entries]
    cached = scan_cache.enabled(use_cache)
    remembered = scan_cache.load(root) if cached else {}
    hits, misses = scan_cache.lookup(root, rels, remembered)
    todo = [rels[i] for i in misses]
    if progress and sys.stderr.isatty() and todo:
        import click

        with click.progressbar(length=len(todo), label=_("Decoding"), file=sys.stderr) as bar:
            decoded = _decode_all(str(root), todo, workers, bar.update)
    else:
        decoded = _decode_all(str(root), todo, workers, None)
    records = [hits.get(i) for i in range(len(rels))]
    for i, record in zip(misses, decoded, strict=True):
        records[i] = record
    if cached and (todo or len(remembered) != len(rels)):
        scan_cache.save(root, records)
    result = Scan(root=root, splits=splits, notes=notes)
    result.files = [ScannedFile(rec, label, split) for rec, (_rel, label, split) in zip(records, entries, strict=True)]
    return result
