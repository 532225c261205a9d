"""Safe file writes: temp file in the same folder, fsync, then `os.replace`.

A reader (or a process killed half-way) never sees a half-written file under its
final name: it sees the old file or the new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

TMP_SUFFIX = ".fitdoctor-tmp"
MODEL_SUFFIXES = (".weights.h5", ".keras", ".h5")


def _hidden_name(path: str | os.PathLike, tag: str) -> str:
    head, name = os.path.split(os.fspath(path))
    suffix = next((s for s in MODEL_SUFFIXES if name.endswith(s)), os.path.splitext(name)[1])
    return os.path.join(head, f".{name[: len(name) - len(suffix)]}.{tag}{suffix}")


def temp_name(path: str | os.PathLike) -> str:
    """The hidden name a model file is written under before `os.replace`.

    Keras picks the format from the suffix, so the temp name keeps it:
    `run/best.keras` -> `run/.best.tmp.keras`.
    """
    return _hidden_name(path, "tmp")


def pending_name(path: str | os.PathLike, epoch: int) -> str:
    """The hidden name a finished file waits under until its epoch is committed.

    `run/last.keras`, epoch 5 -> `run/.last.e5.pending.keras`.
    """
    return _hidden_name(path, f"e{int(epoch)}.pending")


def is_temp_name(name: str) -> bool:
    """True for a name only fitdoctor's unfinished writes use (`atomic_open`, `temp_name`, `pending_name`)."""
    return name.startswith(".") and (
        name.endswith(TMP_SUFFIX) or any(name.endswith((f".tmp{s}", f".pending{s}")) for s in MODEL_SUFFIXES)
    )


def remove_stale_temps(folder: str | os.PathLike) -> list[Path]:
    """Delete the temp files a killed fitdoctor write left in `folder` (never a final name).

    Returns the paths removed.
    """
    stale = [p for p in Path(folder).iterdir() if p.is_file() and is_temp_name(p.name)]
    for p in stale:
        p.unlink()
    return stale


def fsync_path(path: str | os.PathLike) -> None:
    """Flush a file's data, or a folder's entries (new names, renames), to disk."""
    fd = os.open(os.fspath(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_umask() -> int:
    """The process's umask (read by setting it and putting it back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temp file beside `path`; on a clean exit fsync it and rename it to `path`.

    Args:
        path: The final name.
        mode: `"w"` (text, the default) or `"wb"`.
        **kwargs: Passed to `open` (e.g. `encoding`, `newline`).

    Example:
        >>> with atomic_open("/tmp/fitdoctor-example.txt") as f:
        ...     _ = f.write("hello")
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=path.parent)
    os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp makes 0600: the file follows the user's umask, as open() would
    if "b" not in mode:
        kwargs.setdefault("encoding", "utf-8")
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write text atomically."""
    with atomic_open(path, "w") as f:
        f.write(text)


def write_json(path: str | os.PathLike, obj: Any, *, compact: bool = False) -> None:
    """Write JSON atomically (UTF-8), indented, NaN and infinities written as null.

    `compact` (large files of plain numbers, such as the scan cache) writes one line and skips
    that conversion: a NaN there would be written as JSON's non-standard `NaN`.
    """
    text = (
        json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        if compact
        else json.dumps(_finite(obj), indent=2, ensure_ascii=False)
    )
    write_text(path, text + "\n")


def _finite(obj: Any) -> Any:
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def copy_file_atomic(src: str | os.PathLike, dest: str | os.PathLike, *, fsync: bool = True) -> None:
    """Copy with metadata (`shutil.copy2`) to a temp name, fsync (unless told not to), then rename into place.

    `fsync=False` is for bulk copies whose caller syncs once at the end and can check sizes on resume.
    """
    head, tail = os.path.split(os.fspath(dest))
    tmp = os.path.join(head, f".{tail}{TMP_SUFFIX}")
    try:
        shutil.copy2(src, tmp)
        if fsync:
            fsync_path(tmp)
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
