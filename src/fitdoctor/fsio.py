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


def sha256_file(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB chunks."""
    import hashlib

    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class MoveConflict(Exception):
    """Both the source and the destination of a move hold a file, and they differ: nothing was changed."""


def move_file(source: str | os.PathLike, dest: str | os.PathLike, *, sha256: str | None = None) -> bool:
    """Move one file without ever losing it; return True when something was done. Safe to run again.

    On one file system: a rename (atomic). Across file systems: a copy to a temp name, fsync,
    rename into place, then the copy's hash is checked against the source's before the source is
    removed. A move killed between its copy and the removal is finished by the next call (the
    destination is the source's exact copy: the source is removed). Never writes over a file.

    Args:
        source: The file to move.
        dest: Its new path (parent folders are created).
        sha256: The source's known hash (checked instead of hashing the source again).

    Raises:
        FileNotFoundError: Neither path holds the file.
        MoveConflict: Both hold a file and they differ.

    Example:
        >>> import pathlib, tempfile
        >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "a.txt").write_text("x")
        >>> move_file(d / "a.txt", d / "sub" / "a.txt"), move_file(d / "a.txt", d / "sub" / "a.txt")
        (True, False)
    """
    import errno

    source, dest = os.fspath(source), os.fspath(dest)
    source_there, dest_there = os.path.lexists(source), os.path.lexists(dest)
    if dest_there and not source_there:
        return False  # done already
    if not source_there:
        raise FileNotFoundError(errno.ENOENT, "neither path holds the file", source)
    if dest_there:
        if sha256_file(dest) != (sha256 or sha256_file(source)):
            raise MoveConflict(f"'{dest}' already holds another file")
        os.unlink(source)  # a cross-device move killed after its verified copy
        return True
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    try:
        os.rename(source, dest)
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        expected = sha256 or sha256_file(source)
        copy_file_atomic(source, dest)
        if sha256_file(dest) != expected:
            os.unlink(dest)
            raise OSError(errno.EIO, "the copy does not match the original; the original is kept", source) from None
        os.unlink(source)
    return True


LOCK_NAME = ".fitdoctor.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and belongs to someone else
        return True
    return True


@contextlib.contextmanager
def exclusive(folder: str | os.PathLike, command: str) -> Iterator[Path]:
    """Hold the one-writer lock of a destination folder while `command` writes into it.

    The lock is `FOLDER/.fitdoctor.lock`, created with O_EXCL and holding the owner's pid, host
    and command. A second writer gets a one-line error naming the first. A lock left by a
    process that no longer runs on this machine (killed, crashed) is stale: it is taken over.
    The folder is created if needed; the lock is removed on exit, whatever happened.

    Example:
        >>> import tempfile
        >>> with exclusive(tempfile.mkdtemp(), "split") as lock:
        ...     lock.name
        '.fitdoctor.lock'
    """
    import socket
    import time

    from fitdoctor.errors import UserError
    from fitdoctor.i18n import _

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / LOCK_NAME
    me = {"pid": os.getpid(), "host": socket.gethostname(), "command": command, "since": time.strftime("%H:%M:%S")}
    for _attempt in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666 & ~current_umask())
        except FileExistsError:
            try:
                owner = json.loads(lock.read_text(encoding="utf-8") or "{}")
            except (OSError, ValueError):
                owner = {}
            pid = owner.get("pid")
            stale = isinstance(pid, int) and owner.get("host") == me["host"] and not _alive(pid)
            if stale:
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
                continue
            raise UserError(
                _(
                    "'{folder}' is being written by another fitdoctor (fitdoctor {command}, process {pid} on {host}, "
                    "since {since}). Wait for it to finish, or pass another folder. If no such process runs, remove "
                    "'{lock}'.",
                    folder=folder,
                    command=owner.get("command", "?"),
                    pid=pid if pid is not None else "?",
                    host=owner.get("host", "?"),
                    since=owner.get("since", "?"),
                    lock=lock,
                )
            ) from None
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(me, f)
        break
    try:
        yield lock
    finally:
        with contextlib.suppress(FileNotFoundError, ValueError):
            if json.loads(lock.read_text(encoding="utf-8")).get("pid") == me["pid"]:  # never someone else's file
                lock.unlink()
