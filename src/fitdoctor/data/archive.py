"""`fitdoctor data pack` and `unpack`: archives that cannot write outside their folder.

`shutil.unpack_archive` on Python 3.11 follows `../` and absolute paths in tar files.
Here every member is validated before anything is written: absolute paths, `..`
traversal, links whose target leaves the destination (followed through other links in
the same archive), members routed through links, device files and bombs are refused with
the member's name. Sizes are counted while streaming (headers lie). Extraction goes to a
temp folder beside DEST, renamed into place only on success.
"""

from __future__ import annotations

import contextlib
import lzma
import os
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from fitdoctor.errors import UserError
from fitdoctor.fsio import LOCK_NAME, current_umask, exclusive
from fitdoctor.i18n import _

MAX_TOTAL_BYTES = 20 * 1024**3
MAX_MEMBERS = 1_000_000
MAX_RATIO = 200.0
RATIO_FLOOR_BYTES = 16 * 1024**2
FORMATS = {".zip": "zip", ".tar.gz": "gztar", ".tgz": "gztar", ".tar.xz": "xztar", ".tar": "tar"}


@dataclass
class Member:
    """One archive entry, in a form common to zip and tar."""

    name: str
    kind: str  # file, dir, symlink, hardlink, special
    size: int
    compressed: int
    link: str = ""
    raw: object = None


def archive_format(path: str | os.PathLike) -> str:
    """The format of an archive path ("zip", "gztar", "xztar" or "tar"), from its extension.

    Example:
        >>> archive_format("digits.tar.gz")
        'gztar'
    """
    name = str(path).lower()
    for ext, fmt in FORMATS.items():
        if name.endswith(ext):
            return fmt
    raise UserError(
        _("Archive '{path}' has an unknown extension. Use .zip, .tar.gz, .tgz, .tar.xz or .tar.", path=path)
    )


def _files_to_pack(folder: Path) -> list[tuple[Path, str]]:
    """(file to read, name in the archive) for every file under `folder`, links followed.

    A link to an image outside the folder is packed as the image itself (an archive of links
    would hold no images, and `unpack` refuses links that leave it); a link that leads nowhere,
    or a folder link that loops, is a one-line error naming it.
    """
    out, seen = [], set()
    for here, dirs, files in os.walk(folder, followlinks=True):
        real = os.path.realpath(here)
        if real in seen:
            raise UserError(_("'{path}' links back to a folder above it; refused. Remove the link.", path=here))
        seen.add(real)
        dirs.sort()
        for name in sorted(files):
            path = Path(here) / name
            if not path.exists():
                raise UserError(_("'{path}' is a link that leads nowhere. Remove it, then pack again.", path=path))
            if path.is_file():
                out.append((path, path.relative_to(folder).as_posix()))
    return out


def pack(folder: str | os.PathLike, archive: str | os.PathLike, *, force: bool = False) -> Path:
    """Pack a folder into a zip or tar archive (by extension), written atomically.

    Links are followed: the archive holds the files they lead to, under the links' names.

    Args:
        folder: The folder to pack.
        archive: The archive to write (.zip, .tar.gz, .tgz, .tar.xz or .tar).
        force: Replace an existing archive (never one inside the folder it packs).

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp()); (d / "a").mkdir(); _ = (d / "a" / "x.txt").write_text("x")
        >>> pack(d / "a", d / "a.zip").name
        'a.zip'
    """
    folder, archive = Path(folder), Path(archive)
    fmt = archive_format(archive)
    if not folder.is_dir():
        raise UserError(_("Folder '{folder}' does not exist. Pass the folder to pack.", folder=folder))
    if archive.exists() and not force:
        raise UserError(
            _("Archive '{archive}' already exists. Pass a new name, or --force to replace it.", archive=archive)
        )
    if archive.resolve().is_relative_to(folder.resolve()):
        raise UserError(
            _("Archive '{archive}' would be inside the folder it packs. Write it elsewhere.", archive=archive)
        )
    files = _files_to_pack(folder)
    archive.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=archive.parent, prefix=".pack-") as tmp:
        made = os.path.join(tmp, "archive")
        if fmt == "zip":
            with zipfile.ZipFile(made, "w", zipfile.ZIP_DEFLATED) as zf:
                for path, name in files:
                    zf.write(path, name)
        else:
            mode = {"gztar": "w:gz", "xztar": "w:xz", "tar": "w"}[fmt]
            with tarfile.open(made, mode, dereference=True) as tf:
                for path, name in files:
                    tf.add(path, name, recursive=False)
        with open(made, "rb") as f:
            os.fsync(f.fileno())
        os.replace(made, archive)
    return archive


def _members(archive: Path) -> tuple[str, list[Member]]:
    if zipfile.is_zipfile(archive):
        zf = zipfile.ZipFile(archive)
        out = []
        for info in zf.infolist():
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                out.append(
                    Member(
                        info.filename, "symlink", 0, info.compress_size, zf.read(info).decode("utf-8", "replace"), info
                    )
                )
            elif info.is_dir():
                out.append(Member(info.filename, "dir", 0, 0, raw=info))
            elif stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                out.append(Member(info.filename, "special", 0, 0, raw=info))
            else:
                out.append(Member(info.filename, "file", info.file_size, info.compress_size, raw=info))
        zf.close()
        return "zip", out
    try:
        with tarfile.open(archive) as tf:
            out = []
            for ti in tf:
                if len(out) >= MAX_MEMBERS:
                    raise UserError(
                        _(
                            "Archive '{archive}' has more than {max_members} members; refused as a bomb.",
                            archive=archive,
                            max_members=MAX_MEMBERS,
                        )
                    )
                kind = (
                    "file"
                    if ti.isreg()
                    else "dir"
                    if ti.isdir()
                    else "symlink"
                    if ti.issym()
                    else "hardlink"
                    if ti.islnk()
                    else "special"
                )
                out.append(Member(ti.name, kind, ti.size if ti.isreg() else 0, 0, ti.linkname, ti))
            return "tar", out
    except (tarfile.TarError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise UserError(
            _(
                "'{archive}' is damaged or not a zip or tar archive ({exc}). Pass a .zip or .tar.* file.",
                archive=archive,
                exc=exc,
            )
        ) from None


def _norm(name: str) -> list[str] | None:
    """Split a member name into components; None when it is absolute or climbs above the root."""
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        return None
    parts: list[str] = []
    for part in name.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                return None
            parts.pop()
        else:
            parts.append(part)
    return parts


def _resolve(parts: list[str], links: dict[str, str], depth: int = 0) -> list[str] | None:
    """Follow the archive's own symlinks along a path; None when it leaves the root."""
    if depth > 40:
        return None
    out: list[str] = []
    for part in parts:
        if part == "..":
            if not out:
                return None
            out.pop()
            continue
        if part == ".":
            continue
        out.append(part)
        key = "/".join(out)
        if key in links:
            target = links[key]
            if target.startswith("/"):
                return None
            base = out[:-1]
            resolved = _resolve(base + target.split("/"), links, depth + 1)
            if resolved is None:
                return None
            out = resolved
    return out


def validate(archive: Path, members: list[Member]) -> None:
    """Refuse the whole archive, naming the member, when any entry could escape or explode."""
    if len(members) > MAX_MEMBERS:
        raise UserError(
            _(
                "Archive '{archive}' has {n} members (cap {max_members}); refused as a bomb.",
                archive=archive,
                n=len(members),
                max_members=MAX_MEMBERS,
            )
        )
    links: dict[str, str] = {}
    seen_files: set[str] = set()
    kinds: dict[str, str] = {}  # path -> "folder" or "file": one path cannot be both, or be written twice
    for m in members:
        parts = _norm(m.name)
        if parts is None:
            raise UserError(
                _("Archive member '{member}' has an absolute path or climbs out with '..'; refused.", member=m.name)
            )
        if m.kind == "special":
            raise UserError(_("Archive member '{member}' is a device file, pipe or socket; refused.", member=m.name))
        parent = _resolve(parts[:-1], links)
        if parent is None or parent != parts[:-1]:
            raise UserError(_("Archive member '{member}' is routed through a link; refused.", member=m.name))
        for i in range(1, len(parts)):  # every parent is a folder
            if kinds.setdefault("/".join(parts[:i]), "folder") != "folder":
                raise UserError(
                    _(
                        "Archive '{archive}' holds '{path}' as a file and as a folder; refused.",
                        archive=archive,
                        path="/".join(parts[:i]),
                    )
                )
        key = "/".join(parts)
        kind = "folder" if m.kind == "dir" else "file"
        previous = kinds.setdefault(key, kind)
        if previous != kind or (kind == "file" and (key in seen_files or key in links)):
            raise UserError(
                _(
                    "Archive '{archive}' holds '{key}' twice (as a file and as a folder); members that collide are "
                    "refused, nothing was written.",
                    archive=archive,
                    key=key,
                )
                if previous != kind
                else _(
                    "Archive '{archive}' holds '{key}' twice; members that collide are refused, nothing was written.",
                    archive=archive,
                    key=key,
                )
            )
        if m.kind == "symlink":
            if m.link.startswith("/") or _resolve(parts[:-1] + m.link.split("/"), links) is None:
                raise UserError(
                    _(
                        "Archive member '{member}' links to '{link}', outside the destination; refused.",
                        member=m.name,
                        link=m.link,
                    )
                )
            links[key] = m.link
        elif m.kind == "hardlink":
            target = _norm(m.link)
            if target is None or "/".join(target) not in seen_files:
                raise UserError(
                    _(
                        "Archive member '{member}' is a hard link to '{link}', outside the archive; refused.",
                        member=m.name,
                        link=m.link,
                    )
                )
        if m.kind in ("file", "hardlink"):
            seen_files.add(key)
        if m.compressed and m.size > RATIO_FLOOR_BYTES and m.size / m.compressed > MAX_RATIO:
            raise UserError(
                _(
                    "Archive member '{member}' expands {compressed:.0f}x; refused as a zip bomb.",
                    member=m.name,
                    compressed=m.size / m.compressed,
                )
            )
    total = sum(m.size for m in members)
    if total > MAX_TOTAL_BYTES:
        raise UserError(
            _(
                "Archive '{archive}' expands to {gb:.1f} GB (cap {cap:.0f} GB); refused.",
                archive=archive,
                gb=total / 1e9,
                cap=MAX_TOTAL_BYTES / 1e9,
            )
        )


class _Budget:
    """Counts bytes actually written, since the sizes in headers can lie."""

    def __init__(self, archive: Path) -> None:
        self.archive = archive
        self.total = 0
        self.packed = max(archive.stat().st_size, 1)

    def add(self, n: int, member: Member) -> None:
        self.total += n
        if self.total > MAX_TOTAL_BYTES or (self.total > RATIO_FLOOR_BYTES and self.total / self.packed > MAX_RATIO):
            raise UserError(
                _("Archive member '{member}' expands past the safety caps; refused as a bomb.", member=member.name)
            )


def _stream(src, dest: Path, member: Member, budget: _Budget) -> None:
    written = 0
    with open(dest, "wb") as out:
        while chunk := src.read(1 << 20):
            written += len(chunk)
            if written > member.size:
                raise UserError(
                    _("Archive member '{member}' is larger than its header says; refused.", member=member.name)
                )
            budget.add(len(chunk), member)
            out.write(chunk)


def _extract(archive: Path, kind: str, members: list[Member], tmp: Path) -> None:
    budget = _Budget(archive)
    opener = zipfile.ZipFile(archive) if kind == "zip" else tarfile.open(archive)
    with opener as arc:
        for m in members:
            parts = _norm(m.name)
            if not parts:
                continue
            target = tmp.joinpath(*parts)
            if m.kind == "dir":
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if m.kind == "symlink":
                os.symlink(m.link, target)
            elif m.kind == "hardlink":
                os.link(tmp.joinpath(*_norm(m.link)), target)
            else:
                src = arc.open(m.raw) if kind == "zip" else arc.extractfile(m.raw)
                with src:
                    _stream(src, target, m, budget)


def unpack(archive: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Validate every member, extract into a temp folder beside DEST, then rename it into place.

    On any failure DEST is left exactly as it was.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp()); (d / "a").mkdir(); _ = (d / "a" / "x.txt").write_text("x")
        >>> _ = pack(d / "a", d / "a.tar.gz")
        >>> sorted(p.name for p in unpack(d / "a.tar.gz", d / "b").iterdir())
        ['x.txt']
    """
    archive, dest = Path(archive), Path(dest)
    if not archive.is_file():
        raise UserError(_("Archive '{archive}' does not exist. Pass an existing .zip or .tar.* file.", archive=archive))
    _refuse_a_full(dest)
    kind, members = _members(archive)
    validate(archive, members)
    existed = dest.exists()
    try:
        with exclusive(dest, "data unpack") as lock:  # one writer per destination
            _refuse_a_full(dest)  # another unpack may have filled it while this one validated
            _extract_into(archive, kind, members, dest, lock)
    except BaseException:
        if not existed:
            with contextlib.suppress(OSError):
                dest.rmdir()  # the lock's folder, empty again: DEST is left as it was
        raise
    return dest


def _refuse_a_full(dest: Path) -> None:
    if dest.exists() and (not dest.is_dir() or any(p.name != LOCK_NAME for p in dest.iterdir())):
        raise UserError(
            _("Destination '{dest}' exists and is not empty. Pass a new folder; nothing was written.", dest=dest)
        )


def _extract_into(archive: Path, kind: str, members: list, dest: Path, lock: Path) -> None:
    """Extract into a temp folder beside DEST, then rename it into place (DEST empty but for the lock)."""
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.unpack-", dir=dest.parent))
    os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes 0700: DEST follows the user's umask
    try:
        _extract(archive, kind, members, tmp)
        lock.unlink()  # the rename needs DEST empty: the lock goes last, the rename is atomic
        dest.rmdir()
        os.rename(tmp, dest)
    except NotImplementedError as exc:  # zipfile reads deflate, bzip2 and lzma; not deflate64 or others
        shutil.rmtree(tmp, ignore_errors=True)
        raise UserError(
            _(
                "Archive '{archive}' uses a compression Python cannot read ({exc}); nothing was written. Repack it "
                "as a standard zip (deflate) or tar.gz.",
                archive=archive,
                exc=exc,
            )
        ) from None
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error, lzma.LZMAError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)  # our own temp folder, never the user's DEST
        raise UserError(
            _("Archive '{archive}' is damaged ({exc}); nothing was written.", archive=archive, exc=exc)
        ) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
