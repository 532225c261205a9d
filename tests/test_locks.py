"""One writer per destination: a second split, clean, undo, train or fix gets exit 2 naming the first."""

import json
import os
import socket
import subprocess
import sys

import pytest

from fitdoctor.cli import main
from fitdoctor.data.split import split_folder, undo_split
from fitdoctor.errors import UserError
from fitdoctor.fsio import LOCK_NAME, exclusive
from tests.conftest import make_class_folder, tree_hashes


@pytest.fixture
def other_writer():
    """A live process that stands for a second fitdoctor writing somewhere."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def _hold(folder, pid, command):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / LOCK_NAME).write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "command": command}))


def test_two_splits_into_one_destination_at_the_same_time(tmp_path, other_writer, capsys):
    src = make_class_folder(tmp_path / "src", {"cat": 4, "dog": 4})
    _hold(tmp_path / "dst", other_writer, "data split")
    code = main(["data", "split", str(src), str(tmp_path / "dst"), "--ratio", "0.5", "0.5", "--seed", "2"])
    err = capsys.readouterr().err
    assert code == 2 and f"process {other_writer}" in err and "fitdoctor data split" in err, err
    assert sorted(p.name for p in (tmp_path / "dst").iterdir()) == [LOCK_NAME]  # nothing placed


def test_an_undo_while_a_move_split_writes_is_refused(tmp_path, other_writer):
    src = make_class_folder(tmp_path / "src", {"cat": 4, "dog": 4})
    split_folder(src, tmp_path / "dst", ratio=(0.5, 0.5), mode="move")
    _hold(tmp_path / "dst", other_writer, "data split")
    with pytest.raises(UserError, match=r"is being written by another fitdoctor"):
        undo_split(tmp_path / "dst")
    assert tree_hashes(src) == {}  # nothing was half put back


def test_a_clean_while_another_clean_fills_the_quarantine_is_refused(tmp_path, other_writer):
    from fitdoctor.data.clean import clean_folder

    root = make_class_folder(tmp_path / "d", {"a": 2})
    (root / "a" / "bad.png").write_text("nope")
    _hold(tmp_path / "q", other_writer, "data clean")
    with pytest.raises(UserError, match=r"fitdoctor data clean, process"):
        clean_folder(root, tmp_path / "q")
    assert (root / "a" / "bad.png").exists()


def test_a_second_fix_into_one_run_directory_is_refused(tmp_path, other_writer):
    from fitdoctor.treatment.loop import fix

    _hold(tmp_path / "run", other_writer, "fix")
    with pytest.raises(UserError, match=r"'.*run' is being written by another fitdoctor \(fitdoctor fix"):
        fix("model: [Flatten, {Dense: {units: auto}}]\n", tmp_path / "data", tmp_path / "run", echo=None)


def test_a_stale_lock_from_a_killed_process_is_taken_over(tmp_path):
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(proc.stdout)
    _hold(tmp_path / "dst", dead, "data split")
    src = make_class_folder(tmp_path / "src", {"cat": 4, "dog": 4})
    split_folder(src, tmp_path / "dst", ratio=(0.5, 0.5))
    assert not (tmp_path / "dst" / LOCK_NAME).exists()
    assert len([p for p in (tmp_path / "dst").rglob("*.png")]) == 8


def test_the_lock_is_released_whatever_happens(tmp_path):
    with pytest.raises(RuntimeError), exclusive(tmp_path / "x", "train"):
        raise RuntimeError("boom")
    assert not (tmp_path / "x" / LOCK_NAME).exists()
    with exclusive(tmp_path / "x", "train") as lock:
        assert json.loads(lock.read_text())["pid"] == os.getpid()


def test_an_unpack_into_a_destination_another_unpack_writes_is_refused(tmp_path, other_writer):
    from fitdoctor.data.archive import pack, unpack

    src = make_class_folder(tmp_path / "src", {"cat": 2})
    archive = pack(src, tmp_path / "a.zip")
    _hold(tmp_path / "dest", other_writer, "data unpack")
    with pytest.raises(UserError, match=r"fitdoctor data unpack, process"):
        unpack(archive, tmp_path / "dest")
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == [LOCK_NAME]  # nothing extracted
    (tmp_path / "dest" / LOCK_NAME).unlink()
    assert tree_hashes(unpack(archive, tmp_path / "dest")) == tree_hashes(src)  # once free, it unpacks
    assert not (tmp_path / "dest" / LOCK_NAME).exists()
