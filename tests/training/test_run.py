"""Real (tiny) trainings: every building block trains, the run directory is complete."""

import csv
import json
import re
import subprocess
import sys

import pytest

from fitdoctor.cli import main
from fitdoctor.errors import UserError
from fitdoctor.training.run import train
from tests.conftest import SMALL_SPEC

FULL_SPEC = """\
data: {{image_size: [28, 28], color_mode: grayscale, batch_size: 16,
       augmentation: [{{RandomRotation: {{factor: 0.05}}}}, {{RandomTranslation: {{height_factor: 0.1, width_factor: 0.1}}}}]}}
model:
  - Conv2D: {{filters: 4, kernel_size: 3, activation: relu, kernel_initializer: GlorotUniform}}
  - MaxPooling2D: {{pool_size: 2}}
  - Flatten
  - Dense: {{units: 16, activation: sigmoid, kernel_initializer: {{RandomNormal: {{stddev: 0.05}}}}, kernel_regularizer: {{L2: {{l2: 0.0001}}}}}}
  - Dropout: {{rate: 0.5}}
  - Dense: {{units: auto, activation: softmax, kernel_initializer: Zeros}}
compile:
  optimizer: {optimizer}
  loss: {loss}
  metrics: [accuracy, Precision, Recall]
fit: {{epochs: 2}}
callbacks:
  - EarlyStopping: {{monitor: val_loss, patience: 10, restore_best_weights: true}}
  - ModelCheckpoint: {{monitor: val_loss, save_best_only: true}}
"""


@pytest.mark.parametrize(
    ("optimizer", "loss"),
    [
        ("{Adam: {learning_rate: 0.001}}", "SparseCategoricalCrossentropy"),
        ("{SGD: {learning_rate: 0.01, momentum: 0.9}}", "CategoricalCrossentropy"),
        ("RMSprop", "MeanSquaredError"),
    ],
)
def test_every_building_block_trains(tmp_path, tiny_split, optimizer, loss):
    run = tmp_path / "run"
    result = train(FULL_SPEC.format(optimizer=optimizer, loss=loss), tiny_split, run, seed=1, echo=None)
    for name in (
        "spec.yaml",
        "history.csv",
        "history.json",
        "best.keras",
        "last.keras",
        "metrics.json",
        "diagnosis.json",
        "run.log",
        "run.json",
    ):
        assert (run / name).exists(), name
    with open(run / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["epoch"] for r in rows] == ["0", "1"]
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "precision", "recall"} <= set(rows[0])
    stored = json.loads((run / "metrics.json").read_text())
    assert set(stored) == {"val", "test"}  # one shape, whatever was evaluated
    metrics = stored["test"]
    assert metrics["split"] == "test" and len(metrics["confusion_matrix"]) == 10
    assert set(metrics["per_class"]["3"]) == {"precision", "recall", "f1", "support"}
    assert "macro_precision" in metrics and "macro_recall" in metrics
    assert json.loads((run / "diagnosis.json").read_text())["verdict"]
    assert result.epochs == 2
    if loss == "MeanSquaredError":
        assert any("meant for regression" in w for w in result.warnings)


def test_saved_models_open_with_plain_keras(tmp_path, tiny_split):
    run = tmp_path / "run"
    train(SMALL_SPEC.replace("metrics: [accuracy]", "metrics: [accuracy, Precision]"), tiny_split, run, echo=None)
    code = (
        "import keras, sys\n"
        "for name in ('best.keras', 'last.keras'):\n"
        "    m = keras.saving.load_model(sys.argv[1] + '/' + name)\n"
        "    assert m.output_shape == (None, 10)\n"
        "assert 'fitdoctor' not in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(run)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_non_empty_run_dir_needs_resume(tmp_path, tiny_split):
    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.txt").write_text("mine")
    with pytest.raises(
        UserError, match=r"Run directory '.*run' is not empty\. Pass --resume to continue it, or a new --run folder"
    ):
        train(SMALL_SPEC, tiny_split, run, echo=None)


def test_data_must_be_split(tmp_path):
    with pytest.raises(UserError, match=r"has no train/ folder\. Pass a folder made by 'fitdoctor data split'"):
        train(SMALL_SPEC, tmp_path, tmp_path / "run", echo=None)


def test_finished_run_resume_is_a_no_op(tmp_path, tiny_split):
    run = tmp_path / "run"
    train(SMALL_SPEC, tiny_split, run, echo=None)
    lines = []
    result = train(SMALL_SPEC, tiny_split, run, resume=True, echo=lines.append)
    assert result.epochs == 2 and "nothing to do" in lines[-1]


def test_resume_refuses_another_spec_and_keeps_the_runs_seed(tmp_path, tiny_split, capsys):
    run = tmp_path / "run"
    train(SMALL_SPEC, tiny_split, run, seed=5, echo=None)
    saved = (run / "spec.yaml").read_text()
    wider = tmp_path / "wider.yaml"
    wider.write_text(SMALL_SPEC.replace("units: 32", "units: 64"))
    code = main(["train", str(wider), "--data", str(tiny_split), "--run", str(run), "--resume"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1
    assert re.search(
        r"Run directory '.*run' was started with another spec \(model differ\)\. "
        r"Resume with the spec saved in '.*spec\.yaml', or pass a new --run folder\.",
        err,
    ), err
    assert (run / "spec.yaml").read_text() == saved
    result = train(SMALL_SPEC, tiny_split, run, epochs=3, resume=True, echo=None)  # longer, no --seed
    assert result.epochs == 3
    assert "seed: 5" in (run / "spec.yaml").read_text()
