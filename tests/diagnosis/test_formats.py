"""Histories from other tools read as the Keras History they stand for: Lightning, Hugging Face, TensorBoard."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from fitdoctor import diagnose
from fitdoctor.diagnosis.history import load_history
from fitdoctor.errors import UserError

EPOCHS = 12


def curves():
    """One overfitting run: per epoch (train loss, val loss, val accuracy)."""
    out = []
    for e in range(EPOCHS):
        train = 1.2 * math.exp(-e / 3) + 0.05
        val = 0.9 * math.exp(-e / 3) + 0.35 + 0.06 * max(0, e - 5)
        acc = 0.6 + 0.3 * (1 - math.exp(-e / 3)) - 0.004 * max(0, e - 5)
        out.append((train, val, acc))
    return out


def keras_history():
    t, v, a = zip(*curves(), strict=True)
    return {"loss": list(t), "val_loss": list(v), "val_accuracy": list(a)}


def write_lightning(path):
    """metrics.csv as Lightning's CSVLogger writes it: train_loss logged on_step and on_epoch, validation
    metrics on their own rows, blank cells elsewhere, 20 steps per epoch logged every 10."""
    rows, step = ["epoch,step,train_loss_epoch,train_loss_step,val_acc,val_loss"], 0
    for e, (train, val, acc) in enumerate(curves()):
        rows += [f"{e},{step + 9},,{train * 1.05:.6f},,", f"{e},{step + 19},,{train * 0.95:.6f},,"]
        step += 20
        rows += [f"{e},{step - 1},,,{acc:.6f},{val:.6f}", f"{e},{step - 1},{train:.6f},,,"]
    path.write_text("\n".join(rows) + "\n")
    return path


def write_trainer_state(path):
    """trainer_state.json as the Hugging Face Trainer writes it (eval each epoch, logging_steps half an epoch)."""
    log = []
    for e, (train, val, acc) in enumerate(curves(), 1):
        log.append(
            {"epoch": e - 0.5, "grad_norm": 3.1, "learning_rate": 5e-5, "loss": train * 1.05, "step": 50 * e - 25}
        )
        log.append({"epoch": float(e), "grad_norm": 2.9, "learning_rate": 4e-5, "loss": train * 0.95, "step": 50 * e})
        log.append(
            {
                "epoch": float(e),
                "eval_accuracy": acc,
                "eval_loss": val,
                "eval_runtime": 1.9,
                "eval_samples_per_second": 263.1,
                "eval_steps_per_second": 16.4,
                "step": 50 * e,
            }
        )
    log.append({"epoch": 12.0, "step": 600, "total_flos": 1.2e15, "train_loss": 0.41, "train_runtime": 300.2})
    path.write_text(json.dumps({"global_step": 600, "log_history": log, "logging_steps": 25, "num_train_epochs": 12}))
    return path


def _same_series(h, expected, names=("loss", "val_loss", "val_accuracy")):
    for name in names:  # the CSV holds 6 decimals
        np.testing.assert_allclose(h.series[name], expected[name], rtol=1e-9, atol=1e-6, err_msg=name)


def test_lightning_metrics_csv_reads_as_the_keras_history(tmp_path):
    h = load_history(write_lightning(tmp_path / "metrics.csv"))
    assert h.epochs == EPOCHS and "step" not in h.series and "epoch" not in h.series
    _same_series(h, keras_history())
    assert diagnose(tmp_path / "metrics.csv").verdict == diagnose(keras_history()).verdict == "overfitting"


def test_a_lightning_version_folder_is_found(tmp_path):
    folder = tmp_path / "lightning_logs" / "version_0"
    folder.mkdir(parents=True)
    write_lightning(folder / "metrics.csv")
    (folder / "hparams.yaml").write_text("lr: 0.001\n")
    assert diagnose(folder).verdict == "overfitting"


def test_trainer_state_json_reads_as_the_keras_history(tmp_path):
    h = load_history(write_trainer_state(tmp_path / "trainer_state.json"))
    assert h.epochs == EPOCHS
    _same_series(h, keras_history())  # two half-epoch losses of 1.05x and 0.95x average to the epoch's
    assert "lr" in h.series and "total_flos" not in h.series and "eval_runtime" not in h.series
    assert diagnose(tmp_path).verdict == "overfitting"  # a checkpoint folder holding trainer_state.json


def test_trainer_state_without_log_history_says_what_to_pass(tmp_path):
    path = tmp_path / "trainer_state.json"
    path.write_text(json.dumps({"log_history": [{"epoch": 1.0, "train_runtime": 3.0}]}))
    with pytest.raises(UserError, match="logs no loss in log_history"):
        load_history(path)


@pytest.fixture(scope="module")
def tensorboard_run(tmp_path_factory):
    """A real Keras fit logged by keras.callbacks.TensorBoard, and its History."""
    pytest.importorskip("tensorboard")
    import keras

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 6)).astype("float32")
    y = (x[:, 0] + 0.3 * rng.normal(size=128) > 0).astype("int32")
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(2, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    logs = tmp_path_factory.mktemp("tb") / "logs"
    history = model.fit(
        x,
        y,
        validation_split=0.5,
        epochs=6,
        verbose=0,
        batch_size=16,
        callbacks=[keras.callbacks.TensorBoard(log_dir=str(logs))],
    )
    return logs, history.history


def test_tensorboard_logs_read_as_the_keras_history_without_tensorflow(tensorboard_run):
    logs, history = tensorboard_run
    code = (
        "import json, sys\n"
        "from fitdoctor.diagnosis.history import load_history\n"
        f"h = load_history({str(logs)!r})\n"
        "print(json.dumps({'series': {k: v.tolist() for k, v in h.series.items()},"
        " 'tensorflow': any(m.split('.')[0] == 'tensorflow' for m in sys.modules)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["tensorflow"] is False
    for name in ("loss", "val_loss", "accuracy", "val_accuracy"):
        np.testing.assert_allclose(got["series"][name], history[name], rtol=1e-6, err_msg=name)


def test_tensorboard_logs_need_the_tensorboard_package_and_say_so(tensorboard_run):
    logs, _ = tensorboard_run
    code = (
        "import importlib.abc, sys\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] == 'tensorboard':\n"
        "            raise ModuleNotFoundError(name=name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "from fitdoctor.cli import main\n"
        f"sys.exit(main(['diagnose', {str(logs)!r}]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert (
        'is a TensorBoard log; reading it needs the tensorboard package. Install it with: pip install "fitdoctor[tensorboard]"'
        in out.stderr
    )
