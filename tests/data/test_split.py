import csv
import os
import random
import shutil
from pathlib import Path

import pytest

from fitdoctor.cli import main
from fitdoctor.data import scan as scan_module
from fitdoctor.data.split import split_folder, undo_split
from fitdoctor.data.split_plan import ratio_targets
from fitdoctor.errors import UserError
from tests.conftest import make_class_folder, make_png, tree_hashes


def _manifest(dst: Path) -> list[dict]:
    with open(dst / "manifest.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("mode", ["copy", "move", "hardlink", "symlink"])
def test_every_mode_conserves_files(tmp_path, class_folder, mode):
    before = tree_hashes(class_folder)
    dst = tmp_path / "dst"
    plan = split_folder(class_folder, dst, ratio=(0.6, 0.2, 0.2), mode=mode)
    rows = _manifest(dst)
    assert len(rows) == len(before) == len(plan.ops)
    placed = {r["source"]: r for r in rows}
    after_dst = tree_hashes(dst)
    for source, sha in before.items():
        row = placed[source]
        assert after_dst[row["dest"]] == sha == row["sha256"]
        assert row["dest"] == f"{row['split']}/{source}"
    remaining = tree_hashes(class_folder)
    assert remaining == ({} if mode == "move" else before)
    if mode == "symlink":
        assert os.path.islink(dst / rows[0]["dest"])
    if mode == "hardlink":
        assert os.stat(dst / rows[0]["dest"]).st_nlink == 2


def test_copy_keeps_metadata(tmp_path, class_folder):
    os.utime(class_folder / "cat" / "000.png", (1_000_000_000, 1_000_000_000))
    split_folder(class_folder, tmp_path / "dst", ratio=(0.5, 0.5))
    row = next(r for r in _manifest(tmp_path / "dst") if r["source"] == "cat/000.png")
    assert os.stat(tmp_path / "dst" / row["dest"]).st_mtime == 1_000_000_000


def test_stratified_counts_and_min_per_class(tmp_path, class_folder):
    plan = split_folder(class_folder, tmp_path / "dst", ratio=(0.8, 0.1, 0.1))
    counts = plan.counts()
    assert counts["train"] == {"cat": 8, "dog": 8, "fox": 3}
    assert counts["val"] == {"cat": 1, "dog": 1, "fox": 1}
    assert counts["test"] == {"cat": 1, "dog": 1, "fox": 1}


def test_ratio_targets_never_round_a_small_class_to_zero():
    assert ratio_targets(4, (0.8, 0.1, 0.1), 1, "x") == [2, 1, 1]
    with pytest.raises(UserError, match=r"Class 'x' has 2 usable files; --min-per-class 1 needs at least 3"):
        ratio_targets(2, (0.8, 0.1, 0.1), 1, "x")


def test_fixed_counts(tmp_path, class_folder):
    plan = split_folder(class_folder, tmp_path / "dst", fixed=(2, 1, 1))
    assert plan.counts()["train"] == {"cat": 2, "dog": 2, "fox": 2}
    assert sum(1 for r in plan.left_out if r["reason"] == "not needed by --fixed") == 25 - 12


def test_reproducible_whatever_the_listing_order(tmp_path, class_folder, monkeypatch):
    first = split_folder(class_folder, tmp_path / "a", ratio=(0.6, 0.2, 0.2), seed=7, dry_run=True)
    real_scandir = os.scandir

    class Shuffled:
        def __init__(self, entries):
            self._it = iter(entries)

        def __iter__(self):
            return self

        def __next__(self):
            return next(self._it)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def close(self):
            pass

    def shuffled_scandir(path="."):
        with real_scandir(path) as it:
            entries = list(it)
        random.Random(123).shuffle(entries)
        return Shuffled(entries)

    real_walk = os.walk

    def shuffled_walk(top, *a, **k):
        for dirpath, dirnames, filenames in real_walk(top, *a, **k):
            random.Random(5).shuffle(filenames)
            yield dirpath, dirnames, filenames

    monkeypatch.setattr(os, "scandir", shuffled_scandir)
    monkeypatch.setattr(os, "walk", shuffled_walk)
    second = split_folder(class_folder, tmp_path / "b", ratio=(0.6, 0.2, 0.2), seed=7, dry_run=True)
    assert [(o.source, o.split) for o in first.ops] == [(o.source, o.split) for o in second.ops]
    other = split_folder(class_folder, tmp_path / "c", ratio=(0.6, 0.2, 0.2), seed=8, dry_run=True)
    assert [o.split for o in other.ops] != [o.split for o in first.ops]


def test_duplicates_and_groups_stay_together(tmp_path):
    src = make_class_folder(tmp_path / "src", {"a": 30})
    for i in range(5):
        shutil.copy(src / "a" / f"{i:03d}.png", src / "a" / f"dup{i}.png")
    for i in range(6):
        make_png(src / "a" / f"patient{i % 3}_{i}.png", 1000 + i)
    plan = split_folder(src, tmp_path / "dst", ratio=(0.5, 0.25, 0.25), seed=3, group_by=r"patient(\d+)_")
    where = {op.source: op.split for op in plan.ops}
    for i in range(5):
        assert where[f"a/{i:03d}.png"] == where[f"a/dup{i}.png"]
    for p in range(3):
        assert len({where[f"a/patient{p}_{i}.png"] for i in range(6) if i % 3 == p}) == 1


def test_unusable_files_are_left_out_and_listed(tmp_path, class_folder):
    (class_folder / "cat" / "broken.png").write_bytes(b"\x89PNG nope")
    dst = tmp_path / "dst"
    plan = split_folder(class_folder, dst, ratio=(0.8, 0.2))
    assert plan.left_out == [{"source": "cat/broken.png", "reason": "not an image"}]
    assert (class_folder / "cat" / "broken.png").exists()
    assert "cat/broken.png" in (dst / "left_out.csv").read_text()


def test_refuses_non_empty_destination(tmp_path, class_folder):
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "mine.txt").write_text("keep me")
    with pytest.raises(UserError, match=r"Destination '.*dst' is not empty\. Pass a new or empty folder"):
        split_folder(class_folder, dst, ratio=(0.8, 0.2))
    assert (dst / "mine.txt").read_text() == "keep me"


def test_rerun_of_finished_split_is_a_no_op_and_other_settings_are_refused(tmp_path, class_folder):
    dst = tmp_path / "dst"
    split_folder(class_folder, dst, ratio=(0.8, 0.2))
    split_folder(class_folder, dst, ratio=(0.8, 0.2))
    with pytest.raises(UserError, match=r"holds a split made with other settings \(ratio="):
        split_folder(class_folder, dst, ratio=(0.5, 0.5))


def test_not_enough_space(tmp_path, class_folder, monkeypatch):
    import shutil as sh
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(sh, "disk_usage", lambda p: usage(100, 90, 10))
    with pytest.raises(UserError, match=r"Not enough free space on .* it needs .* MB and 0\.0 MB is free"):
        split_folder(class_folder, tmp_path / "dst", ratio=(0.8, 0.2))
    assert not (tmp_path / "dst").exists()


def test_bad_chown_is_refused(tmp_path, class_folder):
    with pytest.raises(UserError, match=r"The 'chown' parameter of split must be USER:GROUP"):
        split_folder(class_folder, tmp_path / "dst", ratio=(0.8, 0.2), chown="nosuchuser-xyz:nogroup-xyz")


def test_chown_applies_owner(tmp_path, class_folder):
    import grp
    import pwd

    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    dst = tmp_path / "dst"
    split_folder(class_folder, dst, ratio=(0.8, 0.2), chown=f"{user}:{group}")
    assert (dst / "train" / "cat").stat().st_uid == os.getuid()


def test_undo_puts_moved_files_back(tmp_path, class_folder):
    before = tree_hashes(class_folder)
    dst = tmp_path / "dst"
    split_folder(class_folder, dst, ratio=(0.6, 0.2, 0.2), mode="move")
    assert tree_hashes(class_folder) == {}
    assert undo_split(dst) == (len(before), [])
    assert tree_hashes(class_folder) == before
    assert not (dst / "train").exists()


def test_undo_of_a_move_across_two_disks(tmp_path, class_folder, monkeypatch):
    """A move split whose SRC and DST are on two file systems can be undone (was "Internal error")."""
    import errno

    before = tree_hashes(class_folder)
    dst = tmp_path / "dst"

    def rename(a, b):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "rename", rename)
    split_folder(class_folder, dst, ratio=(0.6, 0.2, 0.2), mode="move")
    assert tree_hashes(class_folder) == {}
    assert undo_split(dst) == (len(before), [])
    assert tree_hashes(class_folder) == before


def test_undo_finishes_what_it_can_and_lists_the_rest(tmp_path, class_folder, capsys):
    before = tree_hashes(class_folder)
    dst = tmp_path / "dst"
    split_folder(class_folder, dst, ratio=(0.6, 0.2, 0.2), mode="move")
    taken = sorted(before)[0]
    (class_folder / taken).parent.mkdir(parents=True, exist_ok=True)
    (class_folder / taken).write_bytes(b"a new file the user put there")
    moved, skipped = undo_split(dst)
    assert moved == len(before) - 1
    assert len(skipped) == 1 and "SRC holds another file" in skipped[0][1]
    assert (class_folder / taken).read_bytes() == b"a new file the user put there"  # nothing overwritten
    assert main(["data", "undo", str(dst)]) == 2
    err = capsys.readouterr().err
    assert (
        "not put back: " in err
        and f"SRC holds another file at '{taken}'" in err
        and "1 file(s) could not be put back" in err
    ), err


def test_undo_refuses_copy_split(tmp_path, class_folder):
    split_folder(class_folder, tmp_path / "dst", ratio=(0.8, 0.2))
    with pytest.raises(UserError, match=r"was made with --mode copy: SRC was never changed"):
        undo_split(tmp_path / "dst")


def test_scan_uses_all_cores_for_large_folders(tmp_path, monkeypatch):
    src = make_class_folder(tmp_path / "src", {"a": 40, "b": 40})
    seen = {}
    real = scan_module._decode_all

    def spy(root, rels, workers, progress):
        seen["n"] = len(rels)
        return real(root, rels, 2, progress)

    monkeypatch.setattr(scan_module, "_decode_all", spy)
    assert len(scan_module.scan(src).files) == 80 == seen["n"]


@pytest.mark.parametrize("mode", ["copy", "hardlink", "symlink"])
def test_interrupted_split_resumes_to_the_same_result(tmp_path, class_folder, mode, monkeypatch):
    from fitdoctor.data import split as split_module

    dst = tmp_path / "dst"
    real_place, real_link, calls = split_module._place, split_module._link, []

    def dying(real):
        def place(*args):
            if len(calls) == 5:
                raise KeyboardInterrupt  # the process dies after 5 files
            calls.append(args[0].source)
            return real(*args)

        return place

    monkeypatch.setattr(split_module, "_place", dying(real_place))
    monkeypatch.setattr(split_module, "_link", dying(real_link))
    with pytest.raises(KeyboardInterrupt):
        split_folder(class_folder, dst, ratio=(0.6, 0.2, 0.2), mode=mode)
    assert not (dst / "manifest.csv").exists()
    monkeypatch.setattr(split_module, "_place", real_place)
    monkeypatch.setattr(split_module, "_link", real_link)
    plan = split_folder(class_folder, dst, ratio=(0.6, 0.2, 0.2), mode=mode)
    after = tree_hashes(dst)
    assert len(plan.ops) == len(_manifest(dst)) == len(tree_hashes(class_folder))
    assert all(after[r["dest"]] == r["sha256"] for r in _manifest(dst))


def test_fixed_counts_that_are_not_whole_are_refused_by_the_library(tmp_path, class_folder):
    """The library, not only the CLI, refuses --fixed 1.5 (it used to truncate it to 1)."""
    with pytest.raises(UserError, match=r"The 'fixed' parameter of split must be 2 or 3 whole numbers"):
        split_folder(class_folder, tmp_path / "dst", fixed=(1.5, 1))
    assert not (tmp_path / "dst").exists()


def test_the_split_saves_what_inspect_found_for_the_report(tmp_path, class_folder):
    from fitdoctor.data.split import saved_inspection

    (class_folder / "cat" / "copy.png").write_bytes((class_folder / "cat" / "000.png").read_bytes())
    split_folder(class_folder, tmp_path / "dst", ratio=(0.8, 0.2))
    saved = saved_inspection(tmp_path / "dst")
    assert saved["files"] == sum(1 for p in class_folder.rglob("*") if p.is_file())
    assert ["cat/000.png", "cat/copy.png"] in saved["duplicates"] and saved["leakage"] == []
    assert saved_inspection(class_folder) is None  # a folder fitdoctor did not split


def test_chown_gives_the_manifest_and_the_split_state_to_the_owner_too(tmp_path, class_folder):
    import pwd

    if os.getuid() != 0:
        pytest.skip("only root can give files to another user")
    nobody = pwd.getpwnam("nobody")
    dst = tmp_path / "dst"
    split_folder(class_folder, dst, ratio=(0.8, 0.2), chown="nobody:")
    for path in (dst / "manifest.csv", dst / ".fitdoctor", dst / ".fitdoctor" / "split-plan.json", dst / "train"):
        assert path.stat().st_uid == nobody.pw_uid, path


def test_hardlink_across_two_disks_is_refused_before_anything_is_written(tmp_path, class_folder, monkeypatch):
    """Was "Internal error" half-way, and the rerun in copy mode was then refused."""
    real_stat = os.stat
    src_dev = real_stat(class_folder).st_dev

    def two_disks(path, *args, **kwargs):
        st = real_stat(path, *args, **kwargs)
        if str(path).startswith(str(tmp_path / "other")) or str(path) == str(tmp_path):
            return os.stat_result((st.st_mode, st.st_ino, src_dev + 1, *tuple(st)[3:]))
        return st

    monkeypatch.setattr(os, "stat", two_disks)
    with pytest.raises(UserError, match=r"--mode hardlink needs SRC and DST on one file system"):
        split_folder(class_folder, tmp_path / "other" / "dst", ratio=(0.8, 0.2), mode="hardlink")
    monkeypatch.undo()
    assert not (tmp_path / "other" / "dst").exists()
    split_folder(class_folder, tmp_path / "other" / "dst", ratio=(0.8, 0.2), mode="copy")  # the rerun in copy mode
