"""One image file, checked the way training will read it, and its fingerprints.

`check_file` fully decodes a file with Pillow (`load()`, not `verify()`), names the
reason when it is unusable, and returns the content hash (SHA-256 of the bytes) and a
64-bit difference hash (dHash) used to find near duplicates. Sizes and hashes are those of
the image as a viewer shows it (`upright.viewer_pixels`: EXIF orientation applied, first
frame); large JPEGs are decoded at a reduced scale (draft mode), which still reads every byte,
so truncated and corrupt files are still caught.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import struct
import warnings
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

from fitdoctor.i18n import N_

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
        width, height, mode, format: The decoded image's properties (width and height as viewed).
        dhash, vhash: 64-bit horizontal and vertical difference hashes of the decoded image (0 when unusable).
        orientation: The EXIF Orientation tag (1 when upright or absent).
        frames: Frames in the file (more than 1 for an animation; the first is used).
        bright_top, bright_bottom, spread, sharpness: Image-quality scores (see `quality_scores`).
        stamp: [size, mtime_ns, inode] of the file when it was read (for the scan cache), or None.
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
    orientation: int = 1
    frames: int = 1
    bright_top: float = 1.0
    bright_bottom: float = 0.0
    spread: float = 1.0
    sharpness: float = 1.0
    stamp: list | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict:
        out = asdict(self)
        del out["stamp"]
        return out


def stamp(st: os.stat_result) -> list[int]:
    """What identifies one version of a file (for the scan cache): size, mtime in ns, inode."""
    return [st.st_size, st.st_mtime_ns, st.st_ino]


@functools.cache
def _pairs():
    """Index pairs into a flat 9x9 thumbnail: 64 horizontal neighbours, then 64 vertical ones."""
    import numpy as np

    grid = np.arange(81).reshape(9, 9)
    left, right = grid[:8, :-1].ravel(), grid[:8, 1:].ravel()
    top, below = grid[:-1, :8].ravel(), grid[1:, :8].ravel()
    return np.concatenate([left, top]), np.concatenate([right, below])


def dhashes(image) -> tuple[int, int]:
    """Two 64-bit difference hashes from one 9x9 greyscale thumbnail: horizontal and vertical gradients.

    Example:
        >>> from PIL import Image
        >>> dhashes(Image.new("L", (28, 28)))
        (0, 0)
    """
    import numpy as np
    from PIL import Image

    grey = image if image.mode == "L" else image.convert("L")
    px = np.frombuffer(grey.resize((9, 9), Image.Resampling.BILINEAR).tobytes(), np.uint8)
    a, b = _pairs()
    bits = np.packbits(px[a] > px[b]).tobytes()
    return int.from_bytes(bits[:8], "big"), int.from_bytes(bits[8:], "big")


def dhash(image) -> int:
    """64-bit difference hash: the sign of horizontal gradients (see `dhashes`)."""
    return dhashes(image)[0]


def quality_scores(grey) -> dict[str, float]:
    """Image-quality scores of a greyscale image, measured on a copy at most 64 pixels wide.

    - `bright_top`: the brightness (0..1) the brightest 1% of pixels reach: low for a dark image;
    - `bright_bottom`: the brightness the darkest 1% of pixels stay above: high for a washed-out one;
    - `spread`: how far brightness spans between those two (`bright_top - bright_bottom`): near 0 for a
      near-constant, low-information image, whatever its exposure;
    - `sharpness`: edge strength (Pillow's FIND_EDGES) over contrast: low for a blurry image (1.0,
      not measured, for a near-constant one).

    Example:
        >>> from PIL import Image
        >>> quality_scores(Image.new("L", (32, 32), 10))["spread"]
        0.0
    """
    import numpy as np
    from PIL import ImageFilter

    small = grey.copy()
    small.thumbnail((64, 64))
    pixels = np.asarray(small, np.float32) / 255.0
    low, high = np.percentile(pixels, [1, 99])
    spread = float(high - low)
    sharpness = 1.0
    if spread >= 0.04 and min(small.size) >= 3:
        edges = np.asarray(small.filter(ImageFilter.FIND_EDGES), np.float32)[1:-1, 1:-1] / 255.0
        sharpness = float(edges.std() / max(float(pixels.std()), 1e-6))
    return {
        "bright_top": round(float(high), 4),
        "bright_bottom": round(float(low), 4),
        "spread": round(spread, 4),
        "sharpness": round(sharpness, 4),
    }


def thumbnail(image, size: int = 32) -> bytes:
    """A `size`x`size` greyscale thumbnail with its contrast stretched to 0..255."""
    from PIL import Image, ImageOps

    small = image.convert("L").resize((size, size), Image.Resampling.BILINEAR)
    return ImageOps.autocontrast(small).tobytes()


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_U32 = struct.Struct(">I")


def png_crc_ok(data: bytes) -> bool:
    """Whether every chunk of a PNG file carries a correct CRC (Pillow skips some)."""
    view = memoryview(data)
    pos, size = 8, len(data)
    while pos + 12 <= size:
        (length,) = _U32.unpack_from(data, pos)
        end = pos + 8 + length
        if end + 4 > size:
            return True  # truncation, reported as such by the decoder
        if zlib.crc32(view[pos + 4 : end]) != _U32.unpack_from(data, end)[0]:
            return False
        if view[pos + 4 : pos + 8] == b"IEND":
            return True
        pos = end + 4
    return True


def thumbnail_file(root: str | os.PathLike, rel: str) -> bytes:
    """The thumbnail of one file as viewed (b"" when it cannot be read); only near-duplicate candidates need it."""
    from PIL import Image

    from fitdoctor.data.upright import viewer_pixels

    try:
        with Image.open(os.path.join(root, rel)) as im:
            return thumbnail(viewer_pixels(im, "L", draft=(64, 64)))
    except Exception:  # unreadable now: it cannot confirm a near duplicate
        return b""


def _reason(exc: BaseException) -> str:
    from PIL import Image, UnidentifiedImageError

    text = str(exc)
    low = text.lower()
    if isinstance(exc, Image.DecompressionBombError | Image.DecompressionBombWarning):
        return N_("decompression bomb")
    if isinstance(exc, UnidentifiedImageError):
        return N_("not an image")
    if "crc" in low or "checksum" in low:
        return N_("bad CRC")
    if "truncated" in low or "premature end" in low or "end of file" in low:
        return N_("truncated")
    return f"corrupt ({text.splitlines()[0][:80] if text else type(exc).__name__})"


def _special_kind(mode: int) -> str:
    """What a file that is not a regular one is ("FIFO", "socket", "device", "folder"); "" for a regular file."""
    import stat

    if stat.S_ISREG(mode):
        return ""
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISDIR(mode):
        return "folder"
    return "device"


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
        kind = _special_kind(os.stat(path).st_mode)
    except OSError as exc:
        record.problem = f"unreadable ({type(exc).__name__})"
        return record
    if kind:  # opening a FIFO would block forever; a device is no image
        record.problem = f"not a regular file ({kind})"
        return record
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            data = f.read()
    except OSError as exc:
        record.problem = f"unreadable ({type(exc).__name__})"
        return record
    record.bytes = len(data)
    record.stamp = stamp(st) if st.st_size == len(data) else None
    record.sha256 = hashlib.sha256(data).hexdigest()
    if not data:
        record.problem = N_("zero bytes")
        return record
    if data.startswith(PNG_SIGNATURE) and not png_crc_ok(data):
        record.problem = N_("bad CRC")
        return record
    try:
        if _BOMBS_RAISE:
            _decode(data, record)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                _decode(data, record)
    except Exception as exc:  # Pillow raises many types for broken files
        record.problem = _reason(exc)
    return record


def _decode(data: bytes, record: FileRecord) -> None:
    from PIL import Image

    from fitdoctor.data.upright import frames, orientation, viewer_pixels, viewer_size

    with Image.open(io.BytesIO(data)) as im:
        record.format = im.format or ""
        if record.format not in SUPPORTED_FORMATS:
            record.problem = f"unsupported format ({record.format or 'unknown'})"
            return
        (record.width, record.height), record.mode = viewer_size(im), im.mode
        record.orientation, record.frames = orientation(im), frames(im)
        # draft: a 12-megapixel JPEG decodes at 1/8 scale, every byte still read (truncation still raises)
        viewed = viewer_pixels(im, "L", draft=(64, 64))
        record.dhash, record.vhash = dhashes(viewed)
        scores = quality_scores(viewed)
        record.bright_top, record.bright_bottom = scores["bright_top"], scores["bright_bottom"]
        record.spread, record.sharpness = scores["spread"], scores["sharpness"]


_BOMBS_RAISE = False


def raise_on_bombs() -> None:
    """Make Pillow's decompression-bomb warning an error for this whole process (worker processes only).

    `check_file` otherwise sets that filter around each decode, which costs time on every file.
    """
    global _BOMBS_RAISE
    from PIL import Image

    warnings.simplefilter("error", Image.DecompressionBombWarning)
    _BOMBS_RAISE = True


def is_candidate(name: str) -> bool:
    """Whether a file name is a data file (not hidden, not OS clutter, not our temp files)."""
    return not name.startswith(".") and name not in IGNORED_NAMES


# What listing a dataset folder can leave out, said to the user (keys of `Scan.notes`).
NOTES = {
    "folder_link": N_(
        "'{path}' is a symbolic link to a folder: skipped (fitdoctor reads only what is inside the folder). Copy the "
        "folder in, or pass its target."
    ),
    "unreadable": N_("'{path}' cannot be read ({reason}): its files are left out. Fix its permissions and run again."),
    "empty_class": N_("Class folder '{path}' holds no files: that class is left out."),
    "one_class": N_("Only one class ('{label}'): a classifier needs at least 2 class folders."),
}


def note_text(note: dict) -> str:
    """A listing note (`{"key", "values"}`) in the current language.

    Example:
        >>> note_text({"key": "empty_class", "values": {"path": "cat"}})
        "Class folder 'cat' holds no files: that class is left out."
    """
    from fitdoctor.i18n import _

    return _(NOTES[note["key"]], **note["values"])


def list_class_files(root: str | os.PathLike, notes: list | None = None) -> dict[str, list[str]]:
    """Map each class folder under `root` to its files (relative paths, sorted).

    Files may sit at any depth below the class folder. Hidden files are skipped. What is left
    out and why (a linked class folder, an unreadable sub-folder, an empty class) is appended
    to `notes` when given.

    Example:
        >>> list_class_files("/nonexistent")
        {}
    """
    root = Path(root)
    notes = [] if notes is None else notes
    classes: dict[str, list[str]] = {}
    if not root.is_dir():
        return classes

    def unreadable(error: OSError) -> None:
        path = os.path.relpath(error.filename, root).replace(os.sep, "/") if error.filename else str(root)
        notes.append({"key": "unreadable", "values": {"path": path, "reason": error.strerror or str(error)}})

    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if not is_candidate(entry.name):
            continue
        if entry.is_symlink() and entry.is_dir():
            notes.append({"key": "folder_link", "values": {"path": entry.name}})
            continue
        if not entry.is_dir(follow_symlinks=False):
            continue
        files = []
        for dirpath, dirnames, filenames in os.walk(entry.path, onerror=unreadable):
            for d in dirnames:
                if is_candidate(d) and os.path.islink(os.path.join(dirpath, d)):
                    link = os.path.relpath(os.path.join(dirpath, d), root).replace(os.sep, "/")
                    notes.append({"key": "folder_link", "values": {"path": link}})
            dirnames[:] = sorted(d for d in dirnames if is_candidate(d))
            rel_dir = os.path.relpath(dirpath, root).replace(os.sep, "/")
            files.extend(f"{rel_dir}/{n}" for n in filenames if is_candidate(n))
        if not files:
            notes.append({"key": "empty_class", "values": {"path": entry.name}})
        classes[entry.name] = sorted(files)
    return classes


SPLIT_NAMES = ("train", "val", "test")
# Classes count as imbalanced when the largest has this many times the files of the smallest:
# `data inspect` warns, and training weighs the classes (Keras `class_weight`).
IMBALANCE_RATIO = 1.5


def detect_splits(root: str | os.PathLike) -> list[str]:
    """The split folders (`train`, `val`, `test`) of an already split dataset, or []."""
    root = Path(root)
    present = [s for s in SPLIT_NAMES if (root / s).is_dir()]
    return present if "train" in present and len(present) >= 2 else []
