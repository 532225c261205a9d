"""Image-quality findings in `data inspect`: dark, light, low-information, blurry and odd-aspect images."""

import json

import numpy as np
import pytest
from PIL import Image, ImageFilter, ImageOps

from fitdoctor.data.demo_set import write_demo_set
from fitdoctor.data.inspect import inspect_folder, render


def shapes(seed: int) -> Image.Image:
    """A sharp, well-exposed picture: coloured blocks on a textured background, 128x128."""
    rng = np.random.default_rng(seed)
    arr = np.clip(rng.normal(128, 30, (128, 128, 3)), 0, 255).astype(np.uint8)
    for _ in range(4):
        x, y = rng.integers(0, 96, 2)
        arr[y : y + 32, x : x + 32] = rng.integers(0, 255, 3)
    return Image.fromarray(arr)


def test_each_quality_issue_is_found_with_its_score_and_nothing_else(tmp_path):
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir()
    bad.mkdir()
    for i in range(6):
        shapes(i).save(good / f"{i}.png")
    scene = np.asarray(ImageOps.autocontrast(shapes(10).convert("L"), cutoff=5), float) / 255  # sharp, full range:
    Image.fromarray((scene * 45).astype(np.uint8)).save(bad / "dark.png")  # night: nothing above 18%
    Image.fromarray((232 + scene * 23).astype(np.uint8)).save(bad / "light.png")  # washed out: nothing under 90%
    Image.new("RGB", (128, 128), (90, 120, 200)).save(bad / "blank.png")
    shapes(12).filter(ImageFilter.GaussianBlur(8)).save(bad / "blurry.png")
    shapes(13).resize((400, 100)).save(bad / "wide.png")
    ins = inspect_folder(tmp_path, use_cache=False)
    flagged = {issue: [w["path"] for w in q["worst"]] for issue, q in ins.quality.items()}
    assert flagged == {
        "dark": ["bad/dark.png"],
        "light": ["bad/light.png"],
        "low_information": ["bad/blank.png"],
        "blurry": ["bad/blurry.png"],
        "odd_aspect": ["bad/wide.png"],
    }
    assert ins.quality["dark"]["flagged_when"] == "below 0.2" and ins.quality["dark"]["worst"][0]["score"] < 0.2
    assert json.loads(json.dumps(ins.to_dict()))["quality"]["blurry"]["count"] == 1  # --json carries them
    text = render(ins)
    assert "Image quality (nothing is moved; look at the worst first):" in text
    assert "  low information: 1 (brightness spans under 4%: a near-constant image); worst: bad/blank.png (0)" in text


def test_the_bundled_digits_raise_no_quality_finding(tmp_path):
    write_demo_set(tmp_path / "digits", limit_per_class=30)
    ins = inspect_folder(tmp_path / "digits", use_cache=False)
    assert {k: q["count"] for k, q in ins.quality.items()} == dict.fromkeys(ins.quality, 0)
    assert "Image quality" not in render(ins)


def test_clean_quarantines_quality_findings_only_when_asked(tmp_path):
    import hashlib

    from fitdoctor.data.clean import clean_folder, describe, restore_quarantine
    from fitdoctor.errors import UserError

    data = tmp_path / "data"
    (data / "a").mkdir(parents=True)
    (data / "b").mkdir()
    for i in range(3):
        shapes(i).save(data / "a" / f"{i}.png")
        shapes(10 + i).save(data / "b" / f"{i}.png")
    Image.new("RGB", (64, 64), (90, 120, 200)).save(data / "b" / "blank.png")
    shapes(20).filter(ImageFilter.GaussianBlur(8)).save(data / "a" / "blurry.png")
    before = {p.relative_to(data): hashlib.sha256(p.read_bytes()).hexdigest() for p in data.rglob("*.png")}
    assert clean_folder(data, tmp_path / "q", use_cache=False) == []  # not asked: nothing moves
    moves = clean_folder(data, tmp_path / "q", use_cache=False, quality=("low_information", "blurry"))
    assert [m["path"] for m in moves] == ["a/blurry.png", "b/blank.png"]
    assert moves[1]["reason"] == "low_information" and describe(moves[1]) == "low information (0)"
    assert not (data / "b" / "blank.png").exists() and (tmp_path / "q" / "b" / "blank.png").exists()
    restore_quarantine(data, tmp_path / "q")
    assert {p.relative_to(data): hashlib.sha256(p.read_bytes()).hexdigest() for p in data.rglob("*.png")} == before
    with pytest.raises(UserError, match="Unknown quality finding 'blury'. Did you mean 'blurry'?"):
        clean_folder(data, tmp_path / "q", quality=("blury",))
