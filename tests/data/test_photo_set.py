"""The photo path, proven on a generated folder of photo-like images (several sizes and formats, EXIF-rotated files)."""

import json

import numpy as np
import pytest
from PIL import Image, ImageOps

from fitdoctor.cli import main
from fitdoctor.data.loader import load_split
from fitdoctor.data.photo_set import CLASSES, arrow_polygon, plan, write_photo_set
from fitdoctor.data.split import split_folder
from fitdoctor.errors import UserError

PER_CLASS = 25


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = tmp_path_factory.mktemp("photos") / "arrows"
    summary = write_photo_set(root, per_class=PER_CLASS, megapixels=(0.03, 0.2), seed=3)
    return root, summary


def test_the_set_mixes_what_a_phone_folder_holds(photos):
    root, summary = photos
    files = sorted(p for p in root.rglob("*") if p.is_file())
    assert len(files) == summary["files"] == 4 * PER_CLASS
    assert sorted(p.name for p in root.iterdir()) == sorted(CLASSES)
    assert set(summary["formats"]) == {"JPEG", "PNG", "WEBP", "GIF"}
    assert 20 <= summary["exif_rotated"] <= 45 and summary["animated"] == 5
    opened = {}
    for path in files:
        with Image.open(path) as im:
            opened[path] = (im.format, im.mode, im.getexif().get(0x0112, 1))
    assert {mode for _f, mode, _o in opened.values()} >= {"RGB", "RGBA", "P", "CMYK"}
    assert sum(o != 1 for *_x, o in opened.values()) == summary["exif_rotated"]


def test_the_same_seed_writes_the_same_set(tmp_path):
    a = write_photo_set(tmp_path / "a", per_class=2, megapixels=(0.01, 0.02), seed=5)
    b = write_photo_set(tmp_path / "b", per_class=2, megapixels=(0.01, 0.02), seed=5, workers=2)
    assert a == b
    for path in (tmp_path / "a").rglob("*.*"):
        assert path.read_bytes() == (tmp_path / "b" / path.relative_to(tmp_path / "a")).read_bytes()


def test_a_non_empty_folder_is_refused_and_kept(tmp_path):
    (tmp_path / "mine.txt").write_text("keep")
    with pytest.raises(UserError, match="is not empty"):
        write_photo_set(tmp_path, per_class=1)
    assert (tmp_path / "mine.txt").read_text() == "keep"
    with pytest.raises(UserError, match="'megapixels' parameter of photo-set"):
        write_photo_set(tmp_path / "new", megapixels=(2, 1))


def test_inspect_reports_the_rotated_and_animated_files_and_the_formats(photos, capsys):
    root, summary = photos
    assert main(["data", "inspect", str(root), "--json", "--no-cache"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["rotated"]) == summary["exif_rotated"]
    assert len(report["animated"]) == summary["animated"]
    assert report["formats"] == summary["formats"]
    assert not report["problems"]


def test_every_file_reaches_the_model_upright(photos, tmp_path):
    """The loader's pixels equal Pillow's own exif_transpose of each file, resized alike; the arrow points its class's way."""
    root, _summary = photos
    split_folder(root, tmp_path / "split", ratio=(0.6, 0.2, 0.2), seed=0)
    data = load_split(tmp_path / "split", image_size=(40, 40), color_mode="rgb")
    checked = 0
    for split, (x, _y) in data.arrays.items():
        for i, rel in enumerate(data.paths[split]):
            with Image.open(tmp_path / "split" / rel) as im:
                im.seek(0)
                reference = ImageOps.exif_transpose(im)
                if reference.mode in ("RGBA", "P", "LA"):
                    rgba = reference.convert("RGBA")
                    reference = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
                reference = np.asarray(reference.convert("RGB").resize((40, 40), Image.Resampling.BILINEAR), int)
            # Draft mode decodes large JPEGs at a reduced scale first: close, not bit-equal, to a full decode.
            assert np.abs(x[i].astype(int) - reference).mean() < 6, rel
            checked += 1
    assert checked == 4 * PER_CLASS


def test_the_drawn_arrow_points_its_class_s_way():
    """The generator's own promise: the arrow's head (its wide half) lies on the side its class names."""
    from PIL import ImageDraw

    way = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0)}
    for index in range(12):
        for label in CLASSES:
            item = plan(index, 100, (0.02, 0.05), 0) | {"label": label}
            mask = Image.new("L", item["size"], 0)
            ImageDraw.Draw(mask).polygon(arrow_polygon(item), fill=1)
            ys, xs = np.nonzero(np.asarray(mask))
            points = np.stack([xs, ys], 1) - [(xs.min() + xs.max()) / 2, (ys.min() + ys.max()) / 2]
            along = points @ np.array(way[label])
            across = points @ np.array(way[label][::-1])
            assert np.ptp(across[along > 0]) > 1.8 * np.ptp(across[along < 0]), (index, label)


def test_the_cli_writes_the_set(tmp_path, capsys):
    assert main(["data", "photo-set", str(tmp_path / "p"), "--per-class", "2", "--megapixels", "0.01", "0.02"]) == 0
    assert "Wrote 8 photo-like images" in capsys.readouterr().out
    assert main(["data", "photo-set", str(tmp_path / "q"), "--megapixels", "3", "1"]) == 2
    assert "megapixels" in capsys.readouterr().err


def test_inspect_lists_the_images_smaller_than_the_spec_s_image_size(photos, tmp_path, capsys):
    root, _summary = photos
    spec = tmp_path / "spec.yaml"
    spec.write_text("data: {image_size: [160, 160], color_mode: rgb}\nmodel: [Flatten, {Dense: {units: auto}}]\n")
    expected = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        with Image.open(path) as im:
            width, height = ImageOps.exif_transpose(im).size
        if width < 160 or height < 160:
            expected.append(path.relative_to(root).as_posix())
    assert 0 < len(expected) < 4 * PER_CLASS
    assert main(["data", "inspect", str(root), "--json", "--spec", str(spec)]) == 0
    found = json.loads(capsys.readouterr().out)["too_small"]
    assert found["image_size"] == [160, 160] and found["count"] == len(expected)
    assert {x["path"] for x in found["smallest"]} <= set(expected)
    assert main(["data", "inspect", str(root), "--spec", str(spec)]) == 0
    assert f"smaller than the spec's image_size 160x160: {len(expected)} files" in capsys.readouterr().out
