"""A generated folder of photo-like images: the photo path proven without shipping photos.

Four classes of arrows, `up`, `down`, `left` and `right`, drawn on lit, noisy, coloured
backgrounds, as a phone folder brings them: several sizes and aspect ratios, mostly JPEG, some
PNG (with alpha, or a palette), WebP, CMYK JPEG and an animated GIF, and about a third stored
sideways with an EXIF Orientation tag that a viewer applies (so the arrow *looks* right only
when the orientation is honoured). The classes change under flips and quarter turns, which makes
the set a test of label-preserving augmentation too. Every image is a pure function of
`(seed, index)`, so a set is the same on every machine.

Example:
    >>> import tempfile
    >>> summary = write_photo_set(tempfile.mkdtemp() + "/photos", per_class=3, megapixels=(0.01, 0.02))
    >>> summary["files"], sorted(summary["formats"])
    (12, ['JPEG', 'PNG', 'WEBP'])
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from fitdoctor.errors import UserError
from fitdoctor.i18n import _
from fitdoctor.validation import RULES, validate_params

CLASSES = ("up", "down", "left", "right")
ANGLE = {"up": 0.0, "left": 90.0, "down": 180.0, "right": 270.0}  # counter-clockwise from "up"
ASPECTS = (4 / 3, 3 / 4, 16 / 9, 9 / 16, 1.0, 3 / 2)
SIDEWAYS = (3, 6, 8)  # the EXIF orientations a phone writes: upside down, turned right, turned left
# How each orientation's file is stored so that a viewer (which applies the tag) shows it upright.
_STORE = {3: "ROTATE_180", 6: "ROTATE_90", 8: "ROTATE_270"}
# One file in every 20 by position: the formats a phone folder mixes in; the rest are JPEGs.
_OTHER_FORMATS = {3: "png_alpha", 7: "png_palette", 11: "webp", 15: "cmyk_jpeg", 19: "gif"}
EXT = {"jpeg": ".jpg", "png_alpha": ".png", "png_palette": ".png", "webp": ".webp", "cmyk_jpeg": ".jpg", "gif": ".gif"}


def plan(index: int, per_class: int, megapixels: tuple[float, float], seed: int) -> dict:
    """What image `index` of a set is: class, viewed size, format, EXIF orientation (pure, no pixels)."""
    import numpy as np

    rng = np.random.default_rng([seed, index])
    label = CLASSES[index // per_class]
    mp = math.exp(rng.uniform(math.log(megapixels[0]), math.log(megapixels[1]))) * 1e6
    aspect = ASPECTS[int(rng.integers(len(ASPECTS)))]
    width = max(16, round(math.sqrt(mp * aspect)))
    height = max(16, round(width / aspect))
    kind = _OTHER_FORMATS.get(index % 20, "jpeg")
    sideways = kind in ("jpeg", "cmyk_jpeg") and rng.random() < 0.33
    return {
        "label": label,
        "size": (width, height),
        "kind": kind,
        "orientation": int(SIDEWAYS[int(rng.integers(3))]) if sideways else 1,
        "seed": [seed, index, 1],
        "name": f"{label}/IMG_{index:05d}{EXT[kind]}",
    }


def arrow_polygon(item: dict) -> list[tuple[float, float]]:
    """The arrow's corners in pixels (as viewed): a shaft and a head pointing the class's way, tilted a little."""
    import numpy as np

    rng = np.random.default_rng([*item["seed"], 2])
    width, height = item["size"]
    length = min(width, height) * rng.uniform(0.45, 0.75)
    cx = width / 2 + rng.uniform(-0.12, 0.12) * width
    cy = height / 2 + rng.uniform(-0.12, 0.12) * height
    # An upward arrow in units of its length, centred: a shaft and a head.
    shape = [(-0.1, 0.5), (0.1, 0.5), (0.1, -0.05), (0.28, -0.05), (0.0, -0.5), (-0.28, -0.05), (-0.1, -0.05)]
    turn = math.radians(ANGLE[item["label"]] + rng.uniform(-8, 8))
    cos, sin = math.cos(turn), math.sin(turn)
    return [(cx + length * (x * cos + y * sin), cy + length * (-x * sin + y * cos)) for x, y in shape]


def draw(item: dict):
    """The upright picture (as a viewer shows it) of one planned image, an RGB Pillow image."""
    import numpy as np
    from PIL import Image, ImageChops, ImageDraw

    rng = np.random.default_rng(item["seed"])
    width, height = item["size"]
    corners = rng.integers(40, 230, (3, 3, 3)).astype(np.uint8)  # a smooth, coloured, unevenly lit background
    picture = Image.fromarray(corners).resize((width, height), Image.Resampling.BICUBIC)
    colour = tuple(int(c) for c in (rng.integers(0, 60, 3) if rng.random() < 0.5 else rng.integers(200, 256, 3)))
    ImageDraw.Draw(picture).polygon(arrow_polygon(item), fill=colour)
    spread = int(rng.integers(6, 24))  # sensor noise, grey, uniform in +-spread: seeded, unlike Pillow's effect_noise
    noise = Image.fromarray(rng.integers(128 - spread, 129 + spread, (height, width), dtype=np.uint8)).convert("RGB")
    return ImageChops.add(picture, noise, 1.0, -128)


def write_one(item: dict, dest: Path) -> None:
    """Draw one planned image and store it in its format, sideways with its EXIF tag when planned so."""
    from PIL import Image

    from fitdoctor.fsio import atomic_open

    picture = draw(item)
    path = dest / item["name"]
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = item["kind"]
    with atomic_open(path, "wb") as f:
        if kind in ("jpeg", "cmyk_jpeg"):
            exif = Image.Exif()
            if item["orientation"] != 1:
                exif[0x0112] = item["orientation"]
                picture = picture.transpose(getattr(Image.Transpose, _STORE[item["orientation"]]))
            if kind == "cmyk_jpeg":
                picture = picture.convert("CMYK")
            picture.save(f, "JPEG", quality=88, exif=exif.tobytes())
        elif kind == "png_alpha":  # the background fades out; the arrow stays opaque
            alpha = Image.linear_gradient("L").resize(picture.size).point(lambda v: 90 + v * 165 // 255)
            picture.putalpha(alpha)
            picture.save(f, "PNG")
        elif kind == "png_palette":
            picture.convert("P", palette=Image.Palette.ADAPTIVE, colors=64).save(f, "PNG")
        elif kind == "webp":
            picture.save(f, "WEBP", quality=85)
        else:  # an animated GIF: the first frame is the picture, the second one is something else
            frames = [picture.convert("P", palette=Image.Palette.ADAPTIVE), Image.new("P", picture.size, 0)]
            frames[0].save(f, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)


def _write_chunk(args: tuple[list[dict], str]) -> None:
    items, dest = args
    for item in items:
        write_one(item, Path(dest))


@validate_params(RULES["photo_set"], where="photo-set")
def write_photo_set(
    dest: str | os.PathLike,
    *,
    per_class: int = 50,
    megapixels: tuple[float, float] = (0.05, 0.3),
    seed: int = 0,
    workers: int | None = 1,
) -> dict:
    """Write a photo-like image folder, one folder per class; return what was written.

    Args:
        dest: The folder to create (refused if it exists and is not empty).
        per_class: Images per class (4 classes).
        megapixels: (smallest, largest) image size in megapixels, drawn log-uniformly.
        seed: Which set; the same seed writes the same files.
        workers: Processes that draw and encode (None: one per core).

    Returns:
        A dict: `files`, `formats` (Pillow format -> count), `exif_rotated` (files stored sideways
        with an EXIF Orientation tag), `animated`, `megapixels` (smallest, largest written).
    """
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise UserError(
            _("Folder '{dest}' is not empty. Pass a new folder for the photo set; nothing was written.", dest=dest)
        )
    items = [plan(i, per_class, tuple(megapixels), seed) for i in range(per_class * len(CLASSES))]
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        _write_chunk((items, str(dest)))
    else:
        chunks = [(items[i :: workers * 4], str(dest)) for i in range(workers * 4)]
        with ProcessPoolExecutor(workers) as pool:
            list(pool.map(_write_chunk, chunks))
    formats: dict[str, int] = {}
    for item in items:
        name = {"jpeg": "JPEG", "cmyk_jpeg": "JPEG", "png_alpha": "PNG", "png_palette": "PNG"}.get(item["kind"])
        name = name or item["kind"].upper()
        formats[name] = formats.get(name, 0) + 1
    sizes = [w * h / 1e6 for w, h in (item["size"] for item in items)]
    return {
        "files": len(items),
        "formats": formats,
        "exif_rotated": sum(item["orientation"] != 1 for item in items),
        "animated": sum(item["kind"] == "gif" for item in items),
        "megapixels": (round(min(sizes), 2), round(max(sizes), 2)),
    }
