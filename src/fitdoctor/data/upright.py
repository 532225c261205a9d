"""Images as the viewer sees them: the one place fitdoctor turns a decoded file into pixels.

Phone photos are often stored sideways with an EXIF Orientation tag that every photo viewer
applies and that Keras's `image_dataset_from_directory` ignores (tensorflow#33932): a photo
shown as "up" would reach the model as "right". Everywhere fitdoctor reads an image (inspect's
checks and hashes, the loader, the report's galleries) it goes through `viewer_pixels`:

- the first frame of an animated image (GIF, WebP, APNG), which `frames` reports;
- the EXIF orientation applied (as `PIL.ImageOps.exif_transpose` does);
- 16- and 32-bit integer images scaled to 8 bits (Pillow's plain conversion clips them to white);
- CMYK converted to RGB;
- transparency (RGBA, LA, palettes with a transparent colour) composited on `BACKGROUND`, white,
  unless the caller asks for RGBA;
- large JPEGs decoded at 1/2, 1/4 or 1/8 of their size directly (Pillow's draft mode, DCT
  scaling) when the target is at least twice smaller, and other formats box-reduced right after
  decoding, so that no conversion works on more pixels than the target needs.

Example:
    >>> from PIL import Image
    >>> im = Image.new("RGBA", (4, 2), (255, 0, 0, 0))
    >>> viewer_pixels(im, "RGB").getpixel((0, 0))  # fully transparent red shows as the background
    (255, 255, 255)
"""

from __future__ import annotations

BACKGROUND = (255, 255, 255)
ROTATING = (5, 6, 7, 8)  # EXIF orientations that swap width and height
EXIF_ORIENTATION = 0x0112


def orientation(im) -> int:
    """The EXIF Orientation of an opened image (1, upright, when absent or invalid)."""
    try:
        value = int(im.getexif().get(EXIF_ORIENTATION, 1))
    except Exception:  # a broken EXIF block: the viewer shows the stored pixels
        return 1
    return value if 1 <= value <= 8 else 1


def frames(im) -> int:
    """How many frames an opened image holds (1 for a still image)."""
    return int(getattr(im, "n_frames", 1) or 1)


def viewer_size(im) -> tuple[int, int]:
    """(width, height) as a viewer shows the image: swapped for the rotating EXIF orientations."""
    w, h = im.size
    return (h, w) if orientation(im) in ROTATING else (w, h)


def use_draft(im, target: tuple[int, int] | None, mode: str | None = None) -> None:
    """Let a JPEG decode at 1/2, 1/4 or 1/8 size when that still covers `target` (width, height, as viewed).

    Call before the pixels are loaded. Pillow picks the largest reduction whose result is at
    least `target`, so an image is reduced only when the target is at least twice smaller. When
    only grey is wanted (`mode` "L"), a colour JPEG decodes its luma channel alone (JPEG's Y is
    the same weighting of R, G and B as Pillow's own conversion to "L").
    """
    if target is None or getattr(im, "format", None) != "JPEG":
        return
    w, h = target
    if orientation(im) in ROTATING:
        w, h = h, w
    wanted = "L" if mode == "L" and im.mode == "RGB" else (im.mode if im.mode in ("L", "RGB", "CMYK") else None)
    im.draft(wanted, (max(1, w), max(1, h)))


# How to turn the stored pixels upright for each EXIF orientation (the table of PIL.ImageOps.exif_transpose).
TRANSPOSE = {
    2: "FLIP_LEFT_RIGHT",
    3: "ROTATE_180",
    4: "FLIP_TOP_BOTTOM",
    5: "TRANSPOSE",
    6: "ROTATE_270",
    7: "TRANSVERSE",
    8: "ROTATE_90",
}
REDUCIBLE = ("L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "I", "F")  # modes Pillow's box reduction takes


def _reduced(im, target: tuple[int, int], turn: int):
    """A loaded image that is not a JPEG, box-reduced by a whole factor that still covers `target`
    (width, height, as viewed), so that the conversions after it work on few pixels."""
    w, h = target
    if turn in ROTATING:
        w, h = h, w
    factor = min(im.size[0] // max(1, w), im.size[1] // max(1, h))
    if factor < 2:
        return im
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    return im.reduce(factor) if im.mode in REDUCIBLE else im


def _to_8_bit(im):
    import numpy as np
    from PIL import Image

    arr = np.asarray(im)
    if im.mode != "F" and arr.max(initial=0) > 255:  # 16 bits stored in an integer mode
        arr = arr.astype(np.uint32) >> 8
    elif im.mode == "F":
        low, high = float(arr.min(initial=0.0)), float(arr.max(initial=1.0))
        arr = (arr - low) * (255.0 / (high - low or 1.0))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "L")


def viewer_pixels(im, mode: str = "RGB", *, draft: tuple[int, int] | None = None):
    """The image as a photo viewer shows it, in `mode` ("L", "RGB" or "RGBA"), 8 bits per channel.

    Args:
        im: An opened Pillow image (not yet loaded, so that draft mode can apply).
        mode: The wanted mode.
        draft: The size (width, height, as viewed) the caller will resize to; None for full size.
            JPEGs then decode at a reduced scale (draft mode), other formats are box-reduced right
            after decoding, both by a whole factor that keeps at least this size.
    """
    from PIL import Image

    source = im
    if frames(im) > 1:
        im.seek(0)
    turn = orientation(im)  # read first: the reduced image below no longer carries the EXIF block
    use_draft(im, draft, mode)
    im.load()
    if draft is not None and im.format != "JPEG":
        im = _reduced(im, draft, turn)
    if turn in TRANSPOSE:
        im = im.transpose(getattr(Image.Transpose, TRANSPOSE[turn]))
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        im = _to_8_bit(im)
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    elif im.mode == "CMYK":
        im = im.convert("RGB")
    if im.mode in ("RGBA", "LA", "PA", "La", "RGBa") and mode != "RGBA":
        rgba = im.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        im = Image.alpha_composite(canvas, rgba).convert("RGB")
    if im.mode != mode:
        return im.convert(mode)
    return im.copy() if im is source else im  # never the caller's own image: it is closed with its file
