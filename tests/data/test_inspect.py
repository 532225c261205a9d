import shutil

from PIL import Image

from fitdoctor.data.inspect import inspect_folder, render
from tests.conftest import make_class_folder, make_png, make_smooth_png


def test_inspect_reports_classes_problems_and_duplicates(tmp_path):
    root = make_class_folder(tmp_path / "d", {"a": 4, "b": 3})
    (root / "a" / "broken.png").write_bytes(b"")
    shutil.copy(root / "a" / "000.png", root / "a" / "copy.png")
    shutil.copy(root / "a" / "001.png", root / "b" / "mislabelled.png")
    make_smooth_png(root / "b" / "photo.png", 5)
    Image.open(root / "b" / "photo.png").resize((64, 64)).convert("RGB").save(root / "b" / "resized.jpg", quality=90)
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*")}
    ins = inspect_folder(root)
    assert ins.classes == {"a": 5, "b": 6}
    assert ins.problems == [{"path": "a/broken.png", "reason": "zero bytes"}]
    assert ["a/000.png", "a/copy.png"] in ins.duplicates
    assert ["a/001.png", "b/mislabelled.png"] in ins.duplicates
    assert ins.near_duplicates == [["b/photo.png", "b/resized.jpg"]]
    assert any(c["classes"] == ["a", "b"] for c in ins.conflicting_labels)
    assert ins.total_bytes > 0 and ins.sizes["16x16"] == 9
    assert "Unusable files (1)" in render(ins)
    assert before == {p: p.stat().st_mtime_ns for p in root.rglob("*")}, "inspect changed files"


def test_inspect_finds_leakage_in_split_folder(tmp_path):
    root = tmp_path / "s"
    for split in ("train", "val", "test"):
        make_class_folder(root / split, {"a": 2}, start_seed={"train": 0, "val": 10, "test": 20}[split])
    shutil.copy(root / "train" / "a" / "000.png", root / "test" / "a" / "leak.png")
    ins = inspect_folder(root)
    assert ins.splits["train"] == {"a": 2} and ins.splits["test"] == {"a": 3}
    assert ins.leakage == [
        {"paths": ["test/a/leak.png", "train/a/000.png"], "splits": ["test", "train"], "kind": "exact"}
    ]


def test_inspect_imbalance_warning(tmp_path):
    root = make_class_folder(tmp_path / "d", {"a": 6, "b": 2})
    make_png(root / "b" / "x.png", 99)
    ins = inspect_folder(root)
    assert ins.imbalance == 2.0
    assert "imbalanced" in ins.warnings[0]
