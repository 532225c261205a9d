"""Images as the viewer sees them, everywhere: EXIF orientation, CMYK, 16 bits, palettes, alpha, animations, draft."""

import io

import numpy as np
import pytest
from PIL import Image, ImageOps

from fitdoctor.data.images import check_file
from fitdoctor.data.inspect import inspect_folder
from fitdoctor.data.loader import load_split
from fitdoctor.data.upright import BACKGROUND, use_draft, viewer_pixels

# For each EXIF orientation, how to store an upright picture so that a viewer shows it upright.
STORE = {
    1: lambda im: im,
    2: lambda im: im.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
    3: lambda im: im.transpose(Image.Transpose.ROTATE_180),
    4: lambda im: im.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
    5: lambda im: im.transpose(Image.Transpose.TRANSPOSE),
    6: lambda im: im.transpose(Image.Transpose.ROTATE_90),
    7: lambda im: im.transpose(Image.Transpose.TRANSVERSE),
    8: lambda im: im.transpose(Image.Transpose.ROTATE_270),
}


def arrow(width=120, height=80) -> Image.Image:
    """An upright picture whose orientation is unmistakable: a dark bar at the top, a dot at the left."""
    arr = np.full((height, width, 3), 230, np.uint8)
    arr[: height // 5] = (20, 20, 160)
    arr[height // 2 - 6 : height // 2 + 6, 4:16] = (200, 30, 30)
    return Image.fromarray(arr)


def save_with_orientation(path, picture, orientation, fmt="JPEG"):
    exif = Image.Exif()
    exif[0x0112] = orientation
    STORE[orientation](picture).save(path, fmt, exif=exif.tobytes(), quality=95)
    return path


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_decodes_upright(tmp_path, orientation):
    picture = arrow()
    path = save_with_orientation(tmp_path / "p.jpg", picture, orientation)
    with Image.open(path) as im:
        reference = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    with Image.open(path) as im:
        ours = np.asarray(viewer_pixels(im, "RGB"))
    assert ours.shape == reference.shape == (80, 120, 3)
    assert np.array_equal(ours, reference)
    assert np.abs(ours.astype(int) - np.asarray(picture, int)).mean() < 3  # upright, as drawn
    record = check_file(str(tmp_path), "p.jpg")
    assert (record.width, record.height, record.orientation) == (120, 80, orientation)


def test_the_loader_trains_on_upright_pixels(tmp_path):
    picture = arrow(64, 64)
    for split in ("train", "val"):
        for label in ("a", "b"):
            (tmp_path / split / label).mkdir(parents=True)
            save_with_orientation(tmp_path / split / label / "x.jpg", picture, 6)
    data = load_split(tmp_path, image_size=(64, 64), color_mode="rgb")
    x, _ = data.arrays["train"]
    assert np.abs(x[0].astype(int) - np.asarray(picture, int)).mean() < 3
    sideways = np.asarray(STORE[6](picture), int)
    assert np.abs(x[0].astype(int) - sideways).mean() > 30  # what a loader ignoring EXIF would train on


def test_cmyk_16_bit_palette_alpha_and_animation(tmp_path):
    rgb = arrow()
    buf = io.BytesIO()
    rgb.convert("CMYK").save(buf, "JPEG", quality=95)
    assert np.abs(np.asarray(viewer_pixels(Image.open(buf), "RGB"), int) - np.asarray(rgb, int)).mean() < 6

    ramp = (np.arange(64 * 64, dtype=np.uint32).reshape(64, 64) * 16).astype(np.uint16)  # 0 .. 65520
    Image.fromarray(ramp).save(tmp_path / "deep.png")
    grey = np.asarray(viewer_pixels(Image.open(tmp_path / "deep.png"), "L"), int)
    assert abs(grey.mean() - (ramp >> 8).mean()) < 1 and grey.max() == 255 and grey.min() == 0  # not clipped white

    palette = Image.new("P", (8, 8), 0)
    palette.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    palette.putpixel((0, 0), 1)
    palette.save(tmp_path / "pal.png", transparency=0)
    shown = viewer_pixels(Image.open(tmp_path / "pal.png"), "RGB")
    assert shown.getpixel((3, 3)) == BACKGROUND and shown.getpixel((0, 0)) == (0, 255, 0)

    frames = [Image.new("RGB", (10, 10), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=50)
    with Image.open(tmp_path / "anim.gif") as im:
        im.seek(2)
        assert viewer_pixels(im, "RGB").getpixel((5, 5))[0] > 200  # the first frame, red
    assert check_file(str(tmp_path), "anim.gif").frames == 3


def test_large_jpegs_decode_in_draft_mode_and_truncation_is_still_caught(tmp_path):
    big = Image.fromarray(np.random.default_rng(0).integers(0, 255, (3000, 4000, 3), np.uint8))
    big.save(tmp_path / "big.jpg", quality=90)
    with Image.open(tmp_path / "big.jpg") as im:
        use_draft(im, (160, 160))
        assert im.size == (500, 375)  # 1/8 of 4000x3000, still covers 160x160
    with Image.open(tmp_path / "big.jpg") as im:
        use_draft(im, (2000, 2000))
        assert im.size == (4000, 3000)  # a target less than twice smaller: full size
    data = (tmp_path / "big.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    assert check_file(str(tmp_path), "cut.jpg").problem == "truncated"
    assert check_file(str(tmp_path), "big.jpg").problem is None


def test_inspect_reports_rotated_and_animated_files_and_sizes(tmp_path):
    (tmp_path / "up").mkdir()
    (tmp_path / "down").mkdir()
    for i, orientation in enumerate((1, 6, 8)):
        save_with_orientation(tmp_path / "up" / f"{i}.jpg", arrow(120, 80), orientation)
    arrow(300, 60).save(tmp_path / "down" / "wide.png")
    frames = [Image.new("RGB", (50, 50), c) for c in ((255, 0, 0), (0, 255, 0))]
    frames[0].save(tmp_path / "down" / "anim.gif", save_all=True, append_images=frames[1:])
    ins = inspect_folder(tmp_path, use_cache=False)
    assert ins.rotated == ["up/1.jpg", "up/2.jpg"]
    assert ins.animated == ["down/anim.gif"]
    assert ins.sizes["120x80"] == 3  # as viewed, not as stored (80x120 for orientations 6 and 8)
    g = ins.geometry
    assert g["short_side"] == {"min": 50, "median": 80, "max": 80} and g["aspect"]["max"] == 5.0
    assert ins.quality["odd_aspect"]["count"] == 1 and g["landscape"] == 4 and g["square"] == 1
    from fitdoctor.data.inspect import render

    text = render(ins)
    assert "rotated by their EXIF tag only: 2 files" in text and "animated files: 1 (their first frame is used)" in text


@pytest.mark.parametrize(
    ("resize", "expected_left_column"),
    [("squash", "dot"), ("crop", "bar only"), ("pad", "black")],
)
def test_resize_modes_follow_keras(tmp_path, resize, expected_left_column):
    """A 120x40 picture to 40x40: squash keeps the whole width, crop keeps the centre, pad adds black bands."""
    arr = np.full((40, 120, 3), 230, np.uint8)
    arr[:8] = (20, 20, 160)  # the bar across the top
    arr[16:24, 0:6] = (200, 30, 30)  # a dot at the far left
    for split in ("train", "val"):
        for label in ("a", "b"):
            (tmp_path / split / label).mkdir(parents=True, exist_ok=True)
            Image.fromarray(arr).save(tmp_path / split / label / "x.png")
    x = load_split(tmp_path, image_size=(40, 40), color_mode="rgb", resize=resize).arrays["train"][0][0].astype(int)
    left = x[20, 0]
    if expected_left_column == "dot":
        assert left[0] > 120 and left[1] < 150  # the red dot survives at the left edge
    elif expected_left_column == "bar only":
        assert tuple(left) == (230, 230, 230) and x[2, 20, 2] > 120  # dot cropped away, bar kept
    else:
        assert x[2, 20].sum() == 0 and x[20, 20].sum() > 0  # black band above the picture
