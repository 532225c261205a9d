"""The data commands end to end, through the real entry point."""

import json
import subprocess
import sys

import pytest

from fitdoctor.cli import main
from tests.conftest import make_class_folder


def run(args, capsys):
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("args", [["--help"], ["data", "--help"], ["data", "inspect", "--help"]])
def test_help_and_data_commands_do_not_import_tensorflow(args, tmp_path):
    code = (
        "import sys\nfrom fitdoctor.cli import main\nrc = main(sys.argv[1:])\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TensorFlow was imported'\n"
        "raise SystemExit(rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_data_commands_do_not_import_tensorflow(tmp_path):
    code = (
        "import sys\nfrom fitdoctor.cli import main\n"
        f"assert main(['data', 'demo-set', r'{tmp_path}/d', '--per-class', '3']) == 0\n"
        f"assert main(['data', 'inspect', r'{tmp_path}/d', '--json']) == 0\n"
        f"assert main(['data', 'split', r'{tmp_path}/d', r'{tmp_path}/s', '--ratio', '0.4', '0.3', '0.3']) == 0\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_inspect_json(tmp_path, capsys):
    root = make_class_folder(tmp_path / "d", {"a": 2, "b": 1})
    (root / "b" / "bad.jpg").write_bytes(b"")
    code, out, _ = run(["data", "inspect", str(root), "--json"], capsys)
    doc = json.loads(out)
    assert code == 0
    assert doc["classes"] == {"a": 2, "b": 1}
    assert doc["problems"] == [{"path": "b/bad.jpg", "reason": "zero bytes"}]
    assert doc["duplicates"] == [] and doc["near_duplicates"] == []


def test_split_cli_ratio_with_spaces(tmp_path, capsys):
    root = make_class_folder(tmp_path / "d", {"a": 10, "b": 10})
    code, out, err = run(
        ["data", "split", str(root), str(tmp_path / "s"), "--ratio", "0.8", "0.1", "0.1", "--seed", "1"], capsys
    )
    assert code == 0, err
    assert "train: 16 files" in out and (tmp_path / "s" / "manifest.csv").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["data", "inspect", "/nonexistent-fd"],
            "Error: Folder '/nonexistent-fd' does not exist. Pass the folder that holds your class folders.",
        ),
        (
            ["data", "split", "{d}", "{o}", "--ratio", "0.9", "0.9"],
            "Error: The 'ratio' parameter of split must be 2 or 3 numbers in (0, 1) that sum to 1. Got (0.9, 0.9) instead.",
        ),
        (["data", "split", "{d}", "{o}"], "Error: Pass exactly one of --ratio or --fixed to split."),
        (
            ["data", "split", "{d}", "{o}", "--fixed", "1.5", "1"],
            "Error: The 'fixed' parameter of split must be 2 or 3 whole numbers of files per class, each at least 1. Got (1.5, 1.0) instead.",
        ),
        (["data", "unpack", "{d}/none.zip", "{o}"], "does not exist. Pass an existing .zip or .tar.* file."),
        (["data", "pack", "{d}", "{o}/x.rar"], "has an unknown extension. Use .zip, .tar.gz, .tgz, .tar.xz or .tar."),
    ],
)
def test_user_errors_are_one_line_exit_2(tmp_path, capsys, args, message):
    root = make_class_folder(tmp_path / "d", {"a": 3})
    args = [a.format(d=root, o=tmp_path / "out") for a in args]
    code, out, err = run(args, capsys)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_debug_shows_traceback(tmp_path, capsys):
    code, _, err = run(["--debug", "data", "inspect", "/nonexistent-fd"], capsys)
    assert code == 2 and "Traceback" in err


def test_demo_set_pack_unpack_clean_undo(tmp_path, capsys):
    d = tmp_path / "digits"
    assert run(["data", "demo-set", str(d), "--per-class", "4"], capsys)[0] == 0
    assert sorted(p.name for p in d.iterdir()) == [str(i) for i in range(10)]
    assert run(["data", "pack", str(d), str(tmp_path / "d.tar.xz")], capsys)[0] == 0
    assert run(["data", "unpack", str(tmp_path / "d.tar.xz"), str(tmp_path / "u")], capsys)[0] == 0
    (tmp_path / "u" / "3" / "bad.png").write_bytes(b"")
    code, out, _ = run(["data", "clean", str(tmp_path / "u"), "--quarantine", str(tmp_path / "q")], capsys)
    assert code == 0 and "3/bad.png: zero bytes" in out
    code, out, _ = run(["data", "clean", str(tmp_path / "u"), "--quarantine", str(tmp_path / "q"), "--restore"], capsys)
    assert "Restored 1 files" in out
    code, out, err = run(
        ["data", "split", str(d), str(tmp_path / "s"), "--ratio", "0.5", "0.25", "0.25", "--mode", "move"], capsys
    )
    assert code == 0, err
    assert run(["data", "undo", str(tmp_path / "s")], capsys)[0] == 0
    assert len(list(d.rglob("*.png"))) == 40
