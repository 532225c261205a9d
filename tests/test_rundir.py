"""The run directory has one owner: names, shapes and what each reader gets back."""

import json

from fitdoctor.diagnosis.engine import diagnose
from fitdoctor.fsio import write_json
from fitdoctor.rundir import RunDir

PLATEAU = {
    "loss": [2.3, 1.9, 1.7, 1.65, 1.63, 1.62, 1.62, 1.61, 1.61, 1.61],
    "accuracy": [0.1, 0.3, 0.35, 0.37, 0.38, 0.38, 0.38, 0.39, 0.39, 0.39],
    "val_loss": [2.2, 1.9, 1.72, 1.68, 1.66, 1.65, 1.65, 1.64, 1.64, 1.64],
}


def test_metrics_have_one_shape_whatever_was_evaluated(tmp_path):
    run = RunDir(tmp_path)
    run.write_metrics({"accuracy": 0.9})
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"val": {"accuracy": 0.9}}
    run.write_metrics({"accuracy": 0.9}, {"accuracy": 0.8, "split": "test"})
    assert run.metrics() == {"val": {"accuracy": 0.9}, "test": {"accuracy": 0.8, "split": "test"}}


def test_metrics_written_before_the_shape_was_fixed_read_the_same(tmp_path):
    write_json(tmp_path / "metrics.json", {"accuracy": 0.8, "split": "test", "val": {"accuracy": 0.9}})
    assert RunDir(tmp_path).metrics() == {"val": {"accuracy": 0.9}, "test": {"accuracy": 0.8, "split": "test"}}


def test_the_callbacks_statistics_reach_the_diagnosis_of_a_run_directory(tmp_path):
    """diagnose(run_dir), which fix relies on, sees the dead-ReLU fraction the live callback sampled."""
    run = RunDir(tmp_path)
    run.write_history(PLATEAU)
    run.write_info({"num_classes": 10, "loss": "SparseCategoricalCrossentropy"})
    assert diagnose(tmp_path).primary.remedies[0].id == "more_capacity"  # no statistics: the usual order
    stats = {"dead_relu": {"dense": [0.2, 0.9]}, "grad_norms": {}, "epochs": [1, 2]}
    run.write_diagnosis({"verdict": "underfitting", "findings": [], "stats": stats})
    d = diagnose(tmp_path, lang="en")
    assert d.verdict == "underfitting" and d.primary.evidence["dead_relu_fraction"] == 0.9
    assert d.primary.remedies[0].id == "better_init"  # dead units: initialisation first


def test_history_round_trips_with_nan_as_null(tmp_path):
    run = RunDir(tmp_path)
    run.write_history({"loss": [1.0, float("nan")]})
    assert json.loads((tmp_path / "history.json").read_text()) == {"loss": [1.0, None]}
    back = run.history()
    assert back["loss"][0] == 1.0 and back["loss"][1] != back["loss"][1]
    assert (tmp_path / "history.csv").read_text().splitlines()[0] == "epoch,loss"


def test_a_fix_run_reports_its_kept_round(tmp_path):
    run = RunDir(tmp_path)
    assert run.main_run().path == tmp_path
    run.write_treatment({"rounds": [], "chosen_round": 2})
    assert run.main_run().path == tmp_path / "rounds" / "02"
    assert run.report_path("pt_BR").name == "report.pt.html" and run.summary_path("en").name == "summary.en.txt"


def test_both_readmes_list_every_file_of_the_run_directory():
    from pathlib import Path

    from fitdoctor import rundir

    root = Path(__file__).resolve().parents[1]
    names = [*rundir.OWN_FILES, rundir.ROUNDS + "/NN/", "summary.en.txt", "summary.pt.txt", "report.pt.html"]
    for readme in ("README.md", "README.pt-BR.md"):
        text = (root / readme).read_text(encoding="utf-8")
        missing = [name for name in names if f"`{name}`" not in text]
        assert not missing, (readme, missing)
