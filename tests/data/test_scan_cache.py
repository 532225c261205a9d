"""The scan cache: a second scan decodes only files that changed, and never trusts a stale entry."""

from __future__ import annotations

import os
import time

import pytest

from fitdoctor.data import scan as scan_module
from fitdoctor.data import scan_cache
from fitdoctor.data.scan import scan
from tests.conftest import make_class_folder, make_png

OLD = time.time() - 3600


@pytest.fixture
def decoded(monkeypatch):
    """The relative paths decoded by each scan (check_file calls), in order."""
    calls: list[str] = []
    real = scan_module.check_file

    def counting(root, rel):
        calls.append(rel)
        return real(root, rel)

    monkeypatch.setattr(scan_module, "check_file", counting)
    return calls


def _age(root):
    for dirpath, _, names in os.walk(root):
        for name in names:
            os.utime(os.path.join(dirpath, name), (OLD, OLD))


def test_second_scan_decodes_nothing_and_gives_the_same_records(tmp_path, decoded):
    root = make_class_folder(tmp_path / "d", {"a": 3, "b": 3})
    _age(root)
    first = scan(root)
    assert len(decoded) == 6
    decoded.clear()
    second = scan(root)
    assert decoded == []
    assert [f.record for f in second.files] == [f.record for f in first.files]


def test_changed_file_is_decoded_again_and_its_new_problem_seen(tmp_path, decoded):
    root = make_class_folder(tmp_path / "d", {"a": 3})
    _age(root)
    scan(root)
    target = root / "a" / "001.png"
    data = target.read_bytes()
    target.write_bytes(data[: len(data) // 2])  # truncated
    os.utime(target, (OLD - 60, OLD - 60))
    decoded.clear()
    s = scan(root)
    assert decoded == ["a/001.png"]
    assert {f.record.path: f.record.problem for f in s.files}["a/001.png"] == "truncated"


def test_same_size_same_mtime_but_a_new_inode_is_decoded_again(tmp_path, decoded):
    root = make_class_folder(tmp_path / "d", {"a": 2})
    _age(root)
    scan(root)
    target = root / "a" / "000.png"
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, corrupt
    tmp = target.with_name("x.tmp")
    tmp.write_bytes(bytes(data))
    os.utime(tmp, (OLD, OLD))
    os.replace(tmp, target)
    decoded.clear()
    s = scan(root)
    assert decoded == ["a/000.png"]
    assert {f.record.path: f.record.problem for f in s.files}["a/000.png"] is not None


def test_files_modified_just_now_are_not_remembered(tmp_path, decoded):
    root = make_class_folder(tmp_path / "d", {"a": 2})  # fresh mtimes: their next change may not tick the clock
    scan(root)
    decoded.clear()
    scan(root)
    assert sorted(decoded) == ["a/000.png", "a/001.png"]


def test_corrupt_or_foreign_cache_is_ignored(tmp_path, decoded):
    root = make_class_folder(tmp_path / "d", {"a": 2})
    _age(root)
    scan(root)
    path = scan_cache._path(root)
    path.write_text("{not json")
    decoded.clear()
    assert len(scan(root).usable) == 2 and len(decoded) == 2
    path.write_text('{"decoder": "someone else", "files": {}}')
    decoded.clear()
    scan(root)
    assert len(decoded) == 2


def test_no_cache_decodes_everything(tmp_path, decoded, monkeypatch):
    root = make_class_folder(tmp_path / "d", {"a": 2})
    _age(root)
    scan(root)
    decoded.clear()
    scan(root, use_cache=False)
    assert len(decoded) == 2
    decoded.clear()
    monkeypatch.setenv("FITDOCTOR_NO_CACHE", "1")
    scan(root)
    assert len(decoded) == 2


def test_new_and_removed_files_are_handled(tmp_path, decoded):
    root = make_class_folder(tmp_path / "d", {"a": 2})
    _age(root)
    scan(root)
    (root / "a" / "000.png").unlink()
    make_png(root / "a" / "new.png", 99)
    decoded.clear()
    s = scan(root)
    assert decoded == ["a/new.png"]
    assert sorted(f.record.path for f in s.files) == ["a/001.png", "a/new.png"]


def test_cli_no_cache_flag(tmp_path):
    from fitdoctor.cli import main

    root = make_class_folder(tmp_path / "d", {"a": 2, "b": 2})
    assert main(["data", "inspect", str(root), "--json", "--no-cache"]) == 0
    assert main(["data", "split", str(root), str(tmp_path / "s"), "--ratio", "0.5", "0.5", "--no-cache"]) == 0
