import json
import shutil

import pytest

from fitdoctor.data.clean import clean_folder, describe, restore_quarantine
from fitdoctor.errors import UserError
from fitdoctor.i18n import set_lang
from tests.conftest import make_class_folder, tree_hashes


def test_clean_quarantines_and_restore_puts_back(tmp_path):
    root = make_class_folder(tmp_path / "d", {"a": 3, "b": 3})
    (root / "a" / "empty.png").write_bytes(b"")
    shutil.copy(root / "b" / "000.png", root / "b" / "zz-copy.png")
    before = tree_hashes(root)
    q = tmp_path / "q"
    moves = clean_folder(root, q)
    assert moves == [
        {"path": "a/empty.png", "reason": "zero bytes"},
        {"path": "b/zz-copy.png", "reason": "duplicate", "of": "b/000.png"},
    ]
    assert [describe(m) for m in moves] == ["zero bytes", "duplicate of b/000.png"]
    set_lang("pt")
    assert [describe(m) for m in moves] == ["zero bytes", "duplicata de b/000.png"]
    set_lang(None)
    assert not (root / "a" / "empty.png").exists() and (q / "a" / "empty.png").exists()
    log = [json.loads(x) for x in (q / "quarantine-log.jsonl").read_text().splitlines()]
    assert {e["path"] for e in log} == {"a/empty.png", "b/zz-copy.png"}
    restored, skipped = restore_quarantine(root, q)
    assert (restored, skipped) == (2, [])
    assert tree_hashes(root) == before


def test_clean_refuses_quarantine_inside(tmp_path):
    root = make_class_folder(tmp_path / "d", {"a": 2})
    with pytest.raises(UserError, match=r"Quarantine folder '.*' is inside"):
        clean_folder(root, root / "q")


def test_restore_never_overwrites(tmp_path):
    root = make_class_folder(tmp_path / "d", {"a": 2})
    (root / "a" / "bad.png").write_text("nope")
    clean_folder(root, tmp_path / "q")
    (root / "a" / "bad.png").write_text("new file of the user")
    restored, skipped = restore_quarantine(root, tmp_path / "q")
    assert (restored, skipped) == (0, ["a/bad.png"])
    assert (root / "a" / "bad.png").read_text() == "new file of the user"
    from fitdoctor.cli import main

    assert main(["data", "clean", str(root), "--quarantine", str(tmp_path / "q"), "--restore"]) == 2


def test_clean_never_overwrites_an_earlier_quarantined_file(tmp_path):
    root = make_class_folder(tmp_path / "d", {"a": 2})
    (tmp_path / "q" / "a").mkdir(parents=True)
    (tmp_path / "q" / "a" / "bad.png").write_text("quarantined last week")
    (root / "a" / "bad.png").write_text("nope")
    with pytest.raises(UserError, match=r"already exists in the quarantine. Restore or move it first"):
        clean_folder(root, tmp_path / "q")
    assert (tmp_path / "q" / "a" / "bad.png").read_text() == "quarantined last week"
    assert (root / "a" / "bad.png").read_text() == "nope"
