"""Issue #15 cases: one clear line, nothing hangs, nothing overwritten. Each test is named after its case."""

import os

import pytest

from fitdoctor.errors import UserError
from tests.conftest import make_class_folder, make_png
from tests.treatment.test_loop import SPEC, FakeTrainer, fake_evaluate


@pytest.fixture
def fix_run(tmp_path):
    from fitdoctor.treatment.loop import fix

    fix(SPEC, tmp_path / "data", tmp_path / "run", trainer=FakeTrainer(), evaluate=fake_evaluate([]), echo=None)
    return tmp_path / "run"


def test_report_out_never_overwrites_the_runs_own_history(fix_run):
    from fitdoctor.report.html import build_report

    history = fix_run / "rounds" / "00" / "history.json"
    before = history.read_bytes()
    with pytest.raises(UserError) as err:
        build_report(fix_run, history, force=True)
    assert (
        str(err.value) == f"'{history}' is one of the run's own files; a report never replaces it. Pass another --out."
    )
    assert history.read_bytes() == before


def test_report_out_refuses_an_existing_file_unless_force(fix_run, tmp_path):
    from fitdoctor.report.html import build_report

    notes = tmp_path / "notes.html"
    notes.write_text("my notes")
    with pytest.raises(UserError) as err:
        build_report(fix_run, notes)
    assert str(err.value) == f"'{notes}' already exists and is not a fitdoctor report. Pass another --out, or --force."
    assert notes.read_text() == "my notes"
    assert build_report(fix_run, notes, force=True) == notes and notes.read_text().startswith("<!DOCTYPE html>")
    assert build_report(fix_run) == build_report(fix_run)  # its own earlier report is simply replaced


def test_spec_callback_csvlogger_writing_outside_the_run_is_refused(tmp_path):
    from fitdoctor.model.build import make_callbacks
    from fitdoctor.model.spec import load_spec

    outside = tmp_path / "unrelated.csv"
    spec = load_spec(f"model: [Flatten]\ncallbacks:\n  - CSVLogger: {{filename: {outside}}}\n")
    run = tmp_path / "run"
    with pytest.raises(UserError) as err:
        make_callbacks(spec, run)
    assert str(err.value) == (
        f"Callback CSVLogger (<yaml> line 3) would write to '{outside}', outside the run directory '{run}'. "
        "Give it a path inside the run (a relative path is placed there)."
    )
    inside = make_callbacks(load_spec("model: [Flatten]\ncallbacks:\n  - CSVLogger: {filename: log.csv}\n"), run)
    assert inside[0].filename == os.path.join(os.path.realpath(run), "log.csv")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_inside_a_class_folder_is_named_not_waited_on(tmp_path):
    from fitdoctor.data.inspect import inspect_folder

    root = make_class_folder(tmp_path / "src", {"cat": 3, "dog": 3})
    os.mkfifo(root / "cat" / "pipe.png")
    ins = inspect_folder(root, use_cache=False)
    assert {"path": "cat/pipe.png", "reason": "not a regular file (FIFO)"} in ins.problems


def test_a_hand_made_split_holding_a_readme_txt(tmp_path):
    from fitdoctor.data.loader import load_split

    for split in ("train", "val"):
        for label in ("a", "b"):
            make_png(tmp_path / split / label / "x.png", seed=1)
    (tmp_path / "train" / "a" / "README.txt").write_text("where these came from")
    with pytest.raises(UserError) as err:
        load_split(tmp_path)
    readme = tmp_path / "train" / "a" / "README.txt"
    assert str(err.value).startswith(f"'{readme}' cannot be read as an image (")
    assert str(err.value).endswith(
        f"Move it out of the split folder; 'fitdoctor data inspect {tmp_path}' lists every unusable file."
    )


def test_a_loss_and_metric_that_do_not_go_together_is_one_line_not_a_stack_dump(tiny_split, tmp_path):
    import subprocess

    from tests.conftest import fitdoctor_argv

    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "model: [Flatten, {Dense: {units: auto, activation: softmax}}]\n"
        "compile: {optimizer: Adam, loss: SparseCategoricalCrossentropy, metrics: [accuracy, {AUC: {}}]}\n"
        "fit: {epochs: 1}\n"
    )
    out = subprocess.run(
        fitdoctor_argv("train", str(spec), "--data", str(tiny_split), "--run", str(tmp_path / "run")),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2, out.stderr[-2000:]
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: Keras stopped training (")
    assert lines[0].endswith(
        f"The likely cause: the loss, a metric and the output layer of {spec} do not go together "
        "(10 classes, integer labels, loss SparseCategoricalCrossentropy). Fix the compile section."
    )


def test_spec_with_a_very_long_model_list(tmp_path):
    from fitdoctor.model.spec import load_spec

    path = tmp_path / "long.yaml"
    path.write_text("model:\n" + "  - Dense: {units: 4}\n" * 5000)
    with pytest.raises(UserError) as err:
        load_spec(path)
    assert str(err.value) == (
        f"The model of spec '{path}' lists 5000 layers; fitdoctor builds at most 1000. "
        "Check the model list (a generated spec may have repeated it)."
    )


def test_summary_percentages_cannot_exceed_100_for_a_fall():
    """A steep short curve said "validation loss fell 351%"."""
    import re

    from fitdoctor import diagnose
    from fitdoctor.diagnosis.summaries import _fall

    steep = {"loss": [5.0, 2.0, 0.8, 0.3, 0.1], "val_loss": [5.0, 2.0, 0.8, 0.3, 0.1]}
    text = " ".join(f.summary for f in diagnose(steep, lang="en").findings)
    falls = [int(n) for n in re.findall(r"fell (?:another |only )?(\d+)%", text)]
    assert falls and all(n <= 100 for n in falls), text
    assert (_fall(1.0, -0.59), _fall(1.0, 1.2), _fall(2.0, 0.5)) == ("100", "0", "75")


def test_outputs_follow_the_users_umask(tmp_path):
    from fitdoctor.fsio import write_text

    old = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "x")
        assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o644
        os.umask(0o002)
        write_text(tmp_path / "b.txt", "x")
        assert (tmp_path / "b.txt").stat().st_mode & 0o777 == 0o664
    finally:
        os.umask(old)


def test_tar_members_that_collide(tmp_path):
    """Found by the fuzz suite: a file and a folder of one name crashed unpack with FileExistsError."""
    import io
    import tarfile

    from fitdoctor.data.archive import unpack

    archive = tmp_path / "a.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        info = tarfile.TarInfo("cats")
        info.size = 3
        t.addfile(info, io.BytesIO(b"abc"))
        folder = tarfile.TarInfo("cats")
        folder.type = tarfile.DIRTYPE
        t.addfile(folder)
    with pytest.raises(UserError) as err:
        unpack(archive, tmp_path / "dest")
    assert str(err.value) == (
        f"Archive '{archive}' holds 'cats' twice (as a file and as a folder); members that collide are refused, "
        "nothing was written."
    )
    assert not (tmp_path / "dest").exists()


def test_a_read_only_destination_is_one_line_not_an_internal_error(tmp_path, monkeypatch, capsys):
    import errno
    from pathlib import Path

    from fitdoctor.cli import main
    from tests.conftest import make_class_folder

    src = make_class_folder(tmp_path / "src", {"cat": 4, "dog": 4})
    real_mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):
        if "dst" in self.parts:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    assert main(["data", "split", str(src), str(tmp_path / "dst"), "--ratio", "0.5", "0.5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: '") and "cannot be used (Permission denied)" in err and len(err.splitlines()) == 1


BAD_LAYER_ARGUMENT = """\
data: {image_size: [28, 28], color_mode: grayscale, batch_size: 16}
model:
  - Flatten
  - Dense: {units: 16, activation: relu, kernel_initializer: {HeNormal: {seed: notanumber}}}
  - Dense: {units: auto, activation: softmax}
fit: {epochs: 2}
"""


def test_fix_errors_name_the_spec_file_and_line_and_a_corrected_spec_reruns_into_the_same_folder(
    tiny_split, tmp_path, monkeypatch, capsys
):
    """`fix` errors used to name `(<dict>)`, and after correcting the spec the run folder was stuck."""
    from fitdoctor.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.yaml").write_text(BAD_LAYER_ARGUMENT)
    argv = ["fix", "spec.yaml", "--data", str(tiny_split), "--run", "runs/fix", "--max-rounds", "0", "--seed", "1"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "spec.yaml line 4" in err and "<dict>" not in err and len(err.strip().splitlines()) == 1, err
    (tmp_path / "spec.yaml").write_text(BAD_LAYER_ARGUMENT.replace("{HeNormal: {seed: notanumber}}", "HeNormal"))
    assert main(argv) == 2 and "Pass --resume" in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 0, capsys.readouterr().err
    assert (tmp_path / "runs" / "fix" / "final.keras").exists()


def test_a_symlinked_class_folder_an_empty_class_and_a_one_class_folder_are_said(tmp_path, capsys):
    """They used to be skipped or split without a word."""
    import os

    from fitdoctor.cli import main
    from fitdoctor.data.inspect import inspect_folder
    from tests.conftest import make_class_folder

    elsewhere = make_class_folder(tmp_path / "elsewhere", {"dog": 3})
    root = make_class_folder(tmp_path / "d", {"cat": 3, "bird": 3})
    os.symlink(elsewhere / "dog", root / "dog")
    (root / "fish").mkdir()
    warnings = inspect_folder(root, use_cache=False).warnings
    assert "'dog' is a symbolic link to a folder: skipped" in warnings[0] and len(warnings) == 2
    assert warnings[1] == "Class folder 'fish' holds no files: that class is left out."
    assert main(["data", "split", str(root), str(tmp_path / "s"), "--ratio", "0.5", "0.5"]) == 0
    assert "Warning: 'dog' is a symbolic link" in capsys.readouterr().err
    one = make_class_folder(tmp_path / "one", {"cat": 3})
    assert inspect_folder(one, use_cache=False).warnings == [
        "Only one class ('cat'): a classifier needs at least 2 class folders."
    ]


def test_an_unreadable_sub_folder_is_said_not_skipped_silently(tmp_path, monkeypatch):
    import errno
    import os

    from fitdoctor.data.inspect import inspect_folder
    from tests.conftest import make_class_folder

    root = make_class_folder(tmp_path / "d", {"cat": 3, "dog": 3})
    (root / "cat" / "private").mkdir()
    real_walk = os.walk

    def walk(top, *args, onerror=None, **kwargs):
        for here, dirs, files in real_walk(top, *args, **kwargs):
            if here.endswith("private"):
                onerror(PermissionError(errno.EACCES, "Permission denied", here))
                continue
            yield here, dirs, files

    monkeypatch.setattr(os, "walk", walk)
    warnings = inspect_folder(root, use_cache=False).warnings
    assert warnings == ["'cat/private' cannot be read (Permission denied): its files are left out. "
                        "Fix its permissions and run again."]  # fmt: skip
