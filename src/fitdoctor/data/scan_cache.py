"""Remember what checking each file found, so the next scan of a folder decodes only what changed.

`inspect`, `split` and `clean` all decode every file. Scanning the same folder again (inspect,
then split; a split resumed; a second split with another seed) reuses each file's record
when the file's size, modification time (ns) and inode are unchanged, as `git status`
does. A file changed in any way gets a new mtime or inode and is decoded again. Files
modified in the two seconds before a scan are not remembered (their mtime may not have
ticked yet: git's "racy clean" problem).

The cache lives outside the data, in `$FITDOCTOR_CACHE_DIR`, else `$XDG_CACHE_HOME/fitdoctor`,
else `~/.cache/fitdoctor`: one JSON file per scanned folder. It is only a cache: an
unreadable, corrupt or foreign file there is ignored, and `--no-cache` (or
`FITDOCTOR_NO_CACHE=1`) decodes everything.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path

from fitdoctor.data.images import FileRecord, stamp

VERSION = 4  # bump when check_file's findings change
RACY_SECONDS = 2.0
FIELDS = (
    "bytes",
    "sha256",
    "problem",
    "width",
    "height",
    "mode",
    "format",
    "dhash",
    "vhash",
    "orientation",
    "frames",
    "bright_top",
    "bright_bottom",
    "spread",
    "sharpness",
)


def cache_dir() -> Path:
    """Where scan caches go."""
    if os.environ.get("FITDOCTOR_CACHE_DIR"):
        return Path(os.environ["FITDOCTOR_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fitdoctor"


def enabled(use_cache: bool) -> bool:
    """Whether to use the cache: the caller's choice, unless FITDOCTOR_NO_CACHE is set."""
    return use_cache and os.environ.get("FITDOCTOR_NO_CACHE", "") in ("", "0")


def _path(root: Path) -> Path:
    key = hashlib.sha256(os.fsencode(os.path.realpath(root))).hexdigest()[:24]
    return cache_dir() / "scans" / f"{key}.json"


def _decoder() -> str:
    import PIL

    return f"{VERSION}/Pillow {PIL.__version__}"


def load(root: Path) -> dict[str, list]:
    """The remembered entries of `root` (rel -> [size, mtime_ns, ino, *FIELDS]); {} when none or unusable."""
    try:
        doc = json.loads(_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict) or doc.get("decoder") != _decoder() or doc.get("root") != os.path.realpath(root):
        return {}
    files = doc.get("files")
    return files if isinstance(files, dict) else {}


def lookup(root: Path, rels: list[str], entries: dict[str, list]) -> tuple[dict[int, FileRecord], list[int]]:
    """Split `rels` into remembered records (by index) and the indices that must be decoded."""
    hits: dict[int, FileRecord] = {}
    misses: list[int] = []
    prefix = os.path.join(root, "")
    for i, rel in enumerate(rels):
        entry = entries.get(rel)
        if entry is not None and len(entry) == 3 + len(FIELDS):
            try:
                st = os.stat(prefix + rel)
            except OSError:
                st = None
            if st is not None and stamp(st) == entry[:3]:
                record = FileRecord(rel, *entry[3:])
                record.stamp = entry[:3]
                hits[i] = record
                continue
        misses.append(i)
    return hits, misses


def save(root: Path, records: list[FileRecord]) -> None:
    """Remember the records that carry a stamp and were not modified just now; never raises."""
    from fitdoctor.fsio import write_json

    cutoff = (time.time() - RACY_SECONDS) * 1e9
    files = {r.path: [*r.stamp, *(getattr(r, f) for f in FIELDS)] for r in records if r.stamp and r.stamp[1] < cutoff}
    doc = {"decoder": _decoder(), "root": os.path.realpath(root), "files": files}
    with contextlib.suppress(OSError):
        write_json(_path(root), doc, compact=True)
