"""Every input form: History JSON, CSVLogger CSV, run directory, keras History, OverfitGuard JSON."""

import json
import math

import pytest

from fitdoctor.diagnosis.history import load_history
from fitdoctor.errors import UserError


def test_keras_history_json_with_aliases(tmp_path):
    p = tmp_path / "h.json"
    p.write_text(json.dumps({"loss": [1, 0.5, None], "val_acc": [0.1, 0.2, 0.3]}))
    h = load_history(p)
    assert h.epochs == 3 and math.isnan(h.series["loss"][2]) and "val_accuracy" in h.series


def test_csvlogger(tmp_path):
    p = tmp_path / "log.csv"
    p.write_text("epoch,accuracy,loss,val_loss\n0,0.5,1.0,1.1\n1,0.6,0.8,nan\n")
    h = load_history(p)
    assert list(h.series) == ["accuracy", "loss", "val_loss"] and math.isnan(h.series["val_loss"][1])


def test_overfitguard_json(tmp_path):
    p = tmp_path / "og.json"
    p.write_text(
        json.dumps(
            {"train_metric": "train_loss", "monitor_metric": "val_loss", "train_loss": [1, 0.5], "val_loss": [1, 0.7]}
        )
    )
    h = load_history(p)
    assert h.series["loss"].tolist() == [1, 0.5] and h.series["val_loss"].tolist() == [1, 0.7]


def test_keras_history_object():
    class FakeHistory:
        history = {"loss": [1.0, 0.5, 0.4], "val_loss": [1.0, 0.6, 0.5]}

    assert load_history(FakeHistory()).epochs == 3


def test_run_directory(tmp_path):
    (tmp_path / "history.json").write_text(json.dumps({"loss": [2.3, 2.2, 2.1]}))
    (tmp_path / "run.json").write_text(json.dumps({"num_classes": 10, "loss": "SparseCategoricalCrossentropy"}))
    (tmp_path / "spec.yaml").write_text("model: [Flatten]\n")
    h = load_history(tmp_path)
    assert h.num_classes == 10 and h.spec == {"model": ["Flatten"]}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"'.*bad\.json' is not valid JSON \(Expecting property name enclosed in double quotes, line 1\)"),
        ("[1, 2]", r"holds a JSON list, not an object"),
        ('{"lr": [0.1]}', r"has no loss or accuracy series \(found: lr\)"),
    ],
)
def test_bad_files(tmp_path, content, message):
    p = tmp_path / "bad.json"
    p.write_text(content)
    with pytest.raises(UserError, match=message):
        load_history(p)


def test_missing_file():
    with pytest.raises(
        UserError, match=r"'nope\.json' does not exist\. Pass a history JSON, a CSVLogger CSV or a run directory"
    ):
        load_history("nope.json")
