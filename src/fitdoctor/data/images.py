"""One image file, checked the way training will read it, and its fingerprints.

`check_file` fully decodes a file with Pillow (`load()`, not `verify()`), names the
reason when it is unusable, and returns the content hash (SHA-256 of the bytes) and a
64-bit difference hash (dHash) used to find near duplicates.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

SUPPORTED_FORMATS = frozenset({"PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF", "PPM"})
IGNORED_NAMES = frozenset({"Thumbs.db", "desktop.ini"})


@dataclass
class FileRecord:
    """What `check_file` learnt about one file.

    Args:
        path: The file's path relative to the scanned root, with `/` separators.
        bytes: Its size.
        sha256: Hex digest of its bytes ("" when unreadable).
        problem: Why it is unusable, or None when it decodes.
        width, height, mode, format: The decoded image's properties.
        dhash, vhash: 64-bit horizontal and vertical difference hashes of the decoded image (0 when unusable).
    """

    path: str
    bytes: int = 0
    sha256: str = ""
    problem: str | None = None
    width: int = 0
    height: int = 0
    mode: str = ""
    format: str = ""
    dhash: int = 0
    vhash: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


def dhashes(image) -> tuple[int, int]:
    """Two 64-bit difference hashes from one 9x9 greyscale thumbnail: horizontal and vertical gradients.

    Example:
        >>> from PIL import Image
        >>> dhashes(Image.new("L", (28, 28)))
        (0, 0)
    """
    import numpy as np
    from PIL import Image

    px = np.frombuffer(image.convert("L").resize((9, 9), Image.Resampling.BILINEAR).tobytes(), np.uint8).reshape(9, 9)
    horizontal = np.packbits(px[:8, :-1] > px[:8, 1:]).tobytes()
    vertical = np.packbits(px[:-1, :8] > px[1:, :8]).tobytes()
    return int.from_bytes(horizontal, "big"), int.from_bytes(vertical, "big")


def dhash(image) -> int:
    """64-bit difference hash: the sign of horizontal gradients (see `dhashes`)."""
    return dhashes(image)[0]


def thumbnail(image, size: int = 32) -> bytes:
    """A `size`x`size` greyscale thumbnail with its contrast stretched to 0..255."""
    from PIL import Image, ImageOps

    small = image.convert("L").resize((size, size), Image.Resampling.BILINEAR)
    return ImageOps.autocontrast(small).tobytes()


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_crc_ok(data: bytes) -> bool:
    """Whether every chunk of a PNG file carries a correct CRC (Pillow skips some)."""
    import struct
    import zlib

    pos = 8
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        end = pos + 8 + length
        if end + 4 > len(data):
            return True  # truncation, reported as such by the decoder
        (crc,) = struct.unpack(">I", data[end : end + 4])
        if zlib.crc32(data[pos + 4 : end]) & 0xFFFFFFFF != crc:
            return False
        if data[pos + 4 : pos + 8] == b"IEND":
            return True
        pos = end + 4
    return True


def thumbnail_file(root: str | os.PathLike, rel: str) -> bytes:
    """The thumbnail of one file (b"" when it cannot be read); only near-duplicate candidates need it."""
    from PIL import Image

    try:
        with Image.open(os.path.join(root, rel)) as im:
            return thumbnail(im)
    except Exception:  # unreadable now: it cannot confirm a near duplicate
        return b""


def _reason(exc: BaseException) -> str:
    from PIL import Image, UnidentifiedImageError

    text = str(exc)
    low = text.lower()
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return "decompression bomb"
    if isinstance(exc, UnidentifiedImageError):
        return "not an image"
    if "crc" in low or "checksum" in low:
        return "bad CRC"
    if "truncated" in low or "premature end" in low or "end of file" in low:
        return "truncated"
    return f"corrupt ({text.splitlines()[0][:80] if text else type(exc).__name__})"


def check_file(root: str, rel: str) -> FileRecord:
    """Decode `root/rel` fully and fingerprint it.

    Args:
        root: The folder the relative path starts from.
        rel: The file's path relative to `root`, with `/` separators.

    Returns:
        A `FileRecord`; `problem` is None when the file is a usable image.

    Example:
        >>> check_file("/nonexistent", "a.png").problem
        'unreadable (FileNotFoundError)'
    """
    from PIL import Image

    path = os.path.join(root, rel)
    record = FileRecord(path=rel)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        record.problem = f"unreadable ({type(exc).__name__})"
        return record
    record.bytes = len(data)
    record.sha256 = hashlib.sha256(data).hexdigest()
    if not data:
        record.problem = "zero bytes"
        return record
    import io

    if data.startswith(PNG_SIGNATURE) and not png_crc_ok(data):
        record.problem = "bad CRC"
        return record
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as im:
                record.format = im.format or ""
                if record.format not in SUPPORTED_FORMATS:
                    record.problem = f"unsupported format ({record.format or 'unknown'})"
                    return record
                im.load()
                record.width, record.height, record.mode = im.width, im.height, im.mode
                record.dhash, record.vhash = dhashes(im)
    except Exception as exc:  # Pillow raises many types for broken files
        record.problem = _reason(exc)
    return record


def is_candidate(name: str) -> bool:
    """Whether a file name is a data file (not hidden, not OS clutter, not our temp files)."""
    return not name.startswith(".") and name not in IGNORED_NAMES


def list_class_files(root: str | os.PathLike) -> dict[str, list[str]]:
    """Map each class folder under `root` to its files (relative paths, sorted).

    Files may sit at any depth below the class folder. Hidden files are skipped.

    Example:
        >>> list_class_files("/nonexistent")
        {}
    """
    root = Path(root)
    classes: dict[str, list[str]] = {}
    if not root.is_dir():
        return classes
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if not entry.is_dir(follow_symlinks=False) or not is_candidate(entry.name):
            continue
        files = []
        for dirpath, dirnames, filenames in os.walk(entry.path):
            dirnames[:] = sorted(d for d in dirnames if is_candidate(d))
            rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
            files.extend(f"{rel_dir}/{n}" for n in filenames if is_candidate(n))
        classes[entry.name] = sorted(files)
    return classes


SPLIT_NAMES = ("train", "val", "test")


def detect_splits(root: str | os.PathLike) -> list[str]:
    """The split folders (`train`, `val`, `test`) of an already split dataset, or []."""
    root = Path(root)
    present = [s for s in SPLIT_NAMES if (root / s).is_dir()]
    return present if "train" in present and len(present) >= 2 else []
