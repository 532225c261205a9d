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
    assert h.epochs == 3 and h.series["loss"][2] == 0.5 and h.gaps == {"loss": [3]} and "val_accuracy" in h.series


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


def test_history_with_text_or_null_values_is_not_diverged(tmp_path):
    """Issue #15: text is an error naming the series and epoch; null is a gap, not a NaN."""
    from fitdoctor import diagnose
    from fitdoctor.errors import UserError

    p = tmp_path / "h.json"
    p.write_text(json.dumps({"loss": [1, "a", None, 0.5], "val_loss": [1, 0.9, 0.8, 0.7]}))
    with pytest.raises(UserError) as err:
        load_history(p)
    assert str(err.value) == (
        f"'{p}': series 'loss' has values that are not numbers at epoch(s) 2 ('a'). "
        "Pass numbers (null for an epoch without a value)."
    )
    p.write_text(json.dumps({"loss": [1.0, None, 0.6, 0.5, 0.45, 0.4], "val_loss": [1.0, 0.8, 0.7, 0.65, 0.6, 0.58]}))
    d = diagnose(p, lang="en")
    assert d.verdict != "diverged"
    assert (
        "Epochs without a value were read between their neighbours (the nearest epoch at either end): loss 2."
        in d.notes
    )


def test_history_series_of_unequal_length(tmp_path):
    from fitdoctor import diagnose

    d = diagnose({"loss": [1.0, 0.7, 0.5, 0.4, 0.35, 0.3], "val_loss": [1.0, 0.8, 0.7]}, lang="en")
    assert d.epochs == 3 and d.verdict != "diverged"
    assert "The series have unequal lengths (the longest 6 epochs): the diagnosis reads the first 3" in " ".join(
        d.notes
    )


def test_history_file_that_is_binary_or_not_utf8(tmp_path):
    from fitdoctor.errors import UserError

    p = tmp_path / "h.csv"
    p.write_bytes(b"\xff\xfeloss\n1\n")
    with pytest.raises(UserError, match=r"is not UTF-8 text \(byte 0 cannot be read\)"):
        load_history(p)


def test_fitdoctor_run_dirs_keep_null_as_the_nan_it_stands_for(tmp_path):
    """fitdoctor writes NaN as null in history.json (JSON has no NaN): a diverged run stays diverged."""
    from fitdoctor import diagnose

    (tmp_path / "history.json").write_text(
        json.dumps({"loss": [2.3, 1.0, None, None], "val_loss": [2.3, 1.1, None, None]})
    )
    assert diagnose(tmp_path, lang="en").primary.form == "nan"


def test_a_curve_of_denormal_values_is_not_a_division_by_zero(tmp_path):
    """Found by the slow fuzz profile: a loss of 5e-324 then gaps gave ZeroDivisionError in the zigzag measure."""
    from fitdoctor.cli import main

    (tmp_path / "h.csv").write_text("loss,val_loss\n5e-324,0.0\n,0.0\n,0.0\n,0.0\n,0.0\n,0.0\n")
    assert main(["diagnose", str(tmp_path / "h.csv")]) == 0
