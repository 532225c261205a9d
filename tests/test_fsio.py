"""Atomic writes and the temp names they use: a killed write never takes a final name."""

import os

import pytest

from fitdoctor.fsio import atomic_open, is_temp_name, pending_name, remove_stale_temps, temp_name, write_json


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("run/best.keras", "run/.best.tmp.keras"),
        ("run/last.weights.h5", "run/.last.tmp.weights.h5"),
        ("run/model.h5", "run/.model.tmp.h5"),
        ("run/ckpt-{epoch:02d}.keras", "run/.ckpt-{epoch:02d}.tmp.keras"),
    ],
)
def test_temp_name_keeps_the_suffix_keras_reads(path, expected):
    assert temp_name(path) == expected
    assert is_temp_name(expected.split("/")[-1])


def test_pending_name_is_per_epoch_and_keeps_the_suffix():
    assert pending_name("run/last.keras", 5) == "run/.last.e5.pending.keras"
    assert pending_name("run/earlystopping-best.weights.h5", 12) == "run/.earlystopping-best.e12.pending.weights.h5"
    assert is_temp_name(".last.e5.pending.keras")


def test_a_failed_write_leaves_the_old_file_and_no_temp(tmp_path):
    target = tmp_path / "history.json"
    write_json(target, {"loss": [1.0]})
    with pytest.raises(RuntimeError), atomic_open(target) as f:
        f.write('{"loss": [')
        raise RuntimeError("killed half-way")
    assert target.read_text() == '{\n  "loss": [\n    1.0\n  ]\n}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.json"]


def test_remove_stale_temps_removes_only_fitdoctor_temps(tmp_path):
    stale = [".history.json.k2j4.fitdoctor-tmp", ".best.tmp.keras", ".last.tmp.weights.h5", ".last.e3.pending.keras"]
    kept = ["best.keras", ".hidden", "notes.tmp.keras", ".keras", "a.fitdoctor-tmp", "state.json"]
    for name in stale + kept:
        (tmp_path / name).write_text("x")
    (tmp_path / ".sub.tmp.keras").mkdir()  # a folder is never touched
    removed = remove_stale_temps(tmp_path)
    assert sorted(p.name for p in removed) == sorted(stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, ".sub.tmp.keras"])


def _cross_device(monkeypatch):
    """Every rename fails as it does between two file systems (EXDEV)."""
    import errno

    def rename(a, b):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "rename", rename)


def test_move_file_across_disks_copies_verifies_then_removes(tmp_path, monkeypatch):
    from fitdoctor.fsio import move_file

    (tmp_path / "a.png").write_bytes(b"pixels")
    _cross_device(monkeypatch)
    assert move_file(tmp_path / "a.png", tmp_path / "x" / "a.png") is True
    assert not (tmp_path / "a.png").exists() and (tmp_path / "x" / "a.png").read_bytes() == b"pixels"
    assert move_file(tmp_path / "a.png", tmp_path / "x" / "a.png") is False  # done already: nothing to do


def test_move_file_finishes_a_move_killed_after_its_copy_and_never_overwrites(tmp_path):
    import pytest

    from fitdoctor.fsio import MoveConflict, move_file

    (tmp_path / "a").write_bytes(b"same")
    (tmp_path / "b").write_bytes(b"same")  # the copy was made, the source not yet removed
    assert move_file(tmp_path / "a", tmp_path / "b") is True and not (tmp_path / "a").exists()
    (tmp_path / "a").write_bytes(b"other")
    with pytest.raises(MoveConflict):
        move_file(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "a").read_bytes() == b"other" and (tmp_path / "b").read_bytes() == b"same"
