"""kill -9 during a move split, at random moments, then rerun: every file present once, intact."""

import random
import signal
import subprocess
import sys
import time

from fitdoctor.data.split import undo_split
from tests.conftest import make_class_folder, tree_hashes

SLOW_SPLIT = """
import sys, time
import fitdoctor.data.split as s
real = s._place
def slow(*a):
    time.sleep(0.002)
    return real(*a)
s._place = slow
from fitdoctor.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def _run(args, kill_after=None):
    proc = subprocess.Popen([sys.executable, "-c", SLOW_SPLIT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if kill_after is not None:
        time.sleep(kill_after)
        proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate()
    return proc.returncode, out.decode(), err.decode()


def _check_conservation(src, dst, before):
    """Each original file is in SRC or in DST (never both, never neither), byte for byte."""
    now_src = tree_hashes(src)
    now_dst = {k: v for k, v in tree_hashes(dst).items() if k.split("/")[0] in ("train", "val", "test")}
    located = {}
    for rel, sha in now_src.items():
        located.setdefault(rel, []).append(sha)
    for rel, sha in now_dst.items():
        located.setdefault(rel.split("/", 1)[1], []).append(sha)
    assert set(located) == set(before)
    for rel, shas in located.items():
        assert shas == [before[rel]], rel


def test_kill9_during_move_split_then_rerun(tmp_path):
    src = make_class_folder(tmp_path / "src", {"a": 120, "b": 120, "c": 60})
    before = tree_hashes(src)
    dst = tmp_path / "dst"
    args = ["data", "split", str(src), str(dst), "--ratio", "0.7", "0.2", "0.1", "--mode", "move", "--seed", "4"]
    rng = random.Random(2026)
    kills = 0
    for _ in range(4):
        code, _, _ = _run(args, kill_after=rng.uniform(0.4, 1.2))
        kills += code == -signal.SIGKILL
        if dst.exists():
            _check_conservation(src, dst, before)
    assert kills >= 1, "the split always finished before the kill; the test proves nothing"
    code, out, err = _run(args)
    assert code == 0, err
    assert tree_hashes(src) == {}
    _check_conservation(src, dst, before)
    assert not list(dst.rglob("*.fitdoctor-tmp"))
    assert undo_split(dst) == (len(before), [])
    assert tree_hashes(src) == before
