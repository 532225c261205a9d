"""kill -9 at a random moment of a run, then --resume: history, optimizer and callbacks continue."""

import json
import random
import signal
import subprocess
import time

import pytest

from tests.conftest import SMALL_SPEC, fitdoctor_argv

EPOCHS = 12  # many more than the kill can overshoot: the kill lands at most one epoch after its target
SPEC = SMALL_SPEC.replace("fit: {epochs: 2}", f"fit: {{epochs: {EPOCHS}}}") + (
    "callbacks:\n  - EarlyStopping: {monitor: val_loss, patience: 20, restore_best_weights: true}\n"
    "  - ReduceLROnPlateau: {monitor: val_loss, patience: 1, factor: 0.5}\n"
)


def _cmd(spec, data, run, *extra):
    return fitdoctor_argv("train", spec, "--data", data, "--run", run, "--seed", 3, *extra)


def _epochs_done(run):
    try:
        return json.loads((run / "state.json").read_text())["epoch"]
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


def _kill_after(proc, run, target: int) -> None:
    """SIGKILL `proc` at a random moment of the epoch after `target` (mid-epoch or mid-save)."""
    deadline = time.time() + 240
    seen, last_change, epoch_time = 0, None, 0.0
    while seen < target and time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
        now = _epochs_done(run)
        if now != seen:
            if last_change is not None:  # the first epoch's time includes start-up
                epoch_time = time.time() - last_change
            seen, last_change = now, time.time()
    time.sleep(random.Random().uniform(0, epoch_time))
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_kill9_then_resume(tmp_path, tiny_split):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    run = tmp_path / "run"
    target = random.Random().randint(2, 6)
    proc = subprocess.Popen(_cmd(spec, tiny_split, run), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _kill_after(proc, run, target)
    killed_at = _epochs_done(run)
    assert target <= killed_at < EPOCHS, f"the kill after epoch {target} landed at epoch {killed_at}"
    done = subprocess.run(_cmd(spec, tiny_split, run, "--resume"), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Resuming '{run}' after epoch {killed_at}" in done.stdout
    assert not [p.name for p in run.iterdir() if p.name.startswith(".")], "a killed write left a hidden file behind"
    history = json.loads((run / "history.json").read_text())
    assert all(len(v) == EPOCHS for v in history.values())
    lines = (run / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == [str(i) for i in range(EPOCHS)]
    state = json.loads((run / "state.json").read_text())
    steps = -(-60 // 16)  # 60 training images, batch 16
    assert state["optimizer_iterations"] == EPOCHS * steps
    es = next(c for c in state["callbacks"] if c["class"] == "EarlyStopping")
    val = history["val_loss"]
    best = min(range(EPOCHS), key=lambda i: val[i])
    assert abs(es["best"] - val[best]) < 1e-9 and es["wait"] == EPOCHS - 1 - best
    assert es["best_epoch"] == best


class _Killed(BaseException):
    """Stands for kill -9 at one exact point."""


def test_a_kill_between_the_model_files_and_the_commit_resumes_from_the_committed_epoch(
    tmp_path, tiny_split, monkeypatch
):
    """The window where last.keras/best.keras are written but state.json is not."""
    from fitdoctor import rundir as state_module
    from fitdoctor.training.run import train

    real_write_json = state_module.write_json

    def write_json(path, obj, **kwargs):
        if path.name == "state.json" and obj["epoch"] == 3:
            raise _Killed
        real_write_json(path, obj, **kwargs)

    monkeypatch.setattr(state_module, "write_json", write_json)
    spec = SPEC.replace(f"epochs: {EPOCHS}", "epochs: 5")
    run = tmp_path / "run"
    with pytest.raises(_Killed):
        train(spec, tiny_split, run, seed=3, echo=None)
    left = sorted(p.name for p in run.iterdir() if p.name.startswith("."))
    assert left and all(".e3.pending." in name for name in left), left
    monkeypatch.setattr(state_module, "write_json", real_write_json)
    lines = []
    result = train(spec, tiny_split, run, seed=3, resume=True, echo=lines.append)
    assert f"Resuming '{run}' after epoch 2." in lines
    assert not [p.name for p in run.iterdir() if p.name.startswith(".")]
    state = json.loads((run / "state.json").read_text())
    assert state["optimizer_iterations"] == 5 * -(-60 // 16)  # not one epoch ahead
    assert len(result.history["loss"]) == 5


def test_resuming_a_run_early_stopping_ended_trains_no_more_epochs(tmp_path, tiny_split):
    from fitdoctor.training.run import train

    spec = SMALL_SPEC.replace("fit: {epochs: 2}", "fit: {epochs: 30}") + (
        "callbacks:\n  - EarlyStopping: {monitor: val_loss, patience: 1, min_delta: 10}\n"
    )
    run = tmp_path / "run"
    assert train(spec, tiny_split, run, seed=1, echo=None).epochs == 2
    lines = []
    assert train(spec, tiny_split, run, seed=1, resume=True, echo=lines.append).epochs == 2
    assert lines == [f"Run '{run}' already finished 2 epochs; nothing to do."]
    (run / "metrics.json").unlink()  # as if killed after the last epoch's commit, before the evaluation
    lines = []
    result = train(spec, tiny_split, run, seed=1, resume=True, echo=lines.append)
    assert "Training had stopped after epoch 2; finishing the run without more epochs." in lines
    assert result.epochs == 2 and len(json.loads((run / "history.json").read_text())["loss"]) == 2
    assert (run / "metrics.json").exists() and result.diagnosis.verdict
