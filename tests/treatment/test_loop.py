"""The closed loop with a fake trainer: stopping rules, test-split hygiene, resume, summaries."""

import json
from types import SimpleNamespace

import pytest

from fitdoctor.diagnosis.engine import diagnose
from fitdoctor.errors import UserError
from fitdoctor.fsio import write_json, write_text
from fitdoctor.rundir import RunDir
from fitdoctor.treatment.change import render
from fitdoctor.treatment.loop import fix

SPEC = """\
model:
  - Flatten
  - Dense: {units: 1024, activation: relu}
  - Dense: {units: auto, activation: softmax}
fit: {epochs: 20}
"""
OVERFIT = {
    "loss": [1.0 - 0.045 * i for i in range(20)],
    "val_loss": [1.0 - 0.05 * i for i in range(8)] + [0.65 + 0.04 * i for i in range(12)],
}
GOOD = {
    "loss": [1.0 / (1 + 0.5 * i) for i in range(20)],
    "val_loss": [1.05 / (1 + 0.5 * i) + 0.1 for i in range(8)] + [0.34] * 12,
}


class FakeTrainer:
    """Writes a minimal run directory; the curve depends on whether the spec has Dropout."""

    def __init__(self, fail_at_round=None):
        self.calls = []
        self.fail_at_round = fail_at_round

    def __call__(self, spec, data, run_dir, *, seed=None, resume=False, evaluate_test=True, echo=None):
        self.calls.append(
            {
                "run_dir": run_dir,
                "resume": resume,
                "evaluate_test": evaluate_test,
                "spec": json.loads(json.dumps(spec.raw)),
            }
        )
        if self.fail_at_round is not None and run_dir.name == f"{self.fail_at_round:02d}":
            run_dir.mkdir(parents=True)
            raise KeyboardInterrupt("simulated kill mid-round")
        treated = any((isinstance(x, dict) and "Dropout" in x) for x in spec.raw["model"])
        history = GOOD if treated else OVERFIT
        run_dir.mkdir(parents=True, exist_ok=True)
        write_json(run_dir / "history.json", history)
        write_json(run_dir / "run.json", {"num_classes": 10, "one_hot": False, "finished": True})
        write_text(run_dir / "spec.yaml", spec.to_yaml())
        (run_dir / "best.keras").write_bytes(b"fake")
        val = {"loss": min(history["val_loss"]), "accuracy": 0.98 if treated else 0.95, "split": "val"}
        RunDir(run_dir).write_metrics(val)
        return SimpleNamespace(
            metrics={"val": val}, epochs=len(history["loss"]), diagnosis=diagnose(run_dir), history=history
        )


def fake_evaluate(log):
    def evaluate(model_path, data, spec, one_hot):
        log.append(str(model_path))
        return {"accuracy": 0.97 if "/00/" not in str(model_path) else 0.94, "loss": 0.1}

    return evaluate


def test_loop_treats_overfitting_and_stops_at_good_fit(tmp_path):
    trainer, evaluated = FakeTrainer(), []
    lines = []
    result = fix(
        SPEC, tmp_path / "data", tmp_path / "run", trainer=trainer, evaluate=fake_evaluate(evaluated), echo=lines.append
    )
    assert [r["verdict"] for r in result.rounds] == ["overfitting", "good_fit"]
    assert result.stop_reason == "good_fit" and result.chosen_round == 1
    ids = [r["id"] for r in result.rounds[1]["remedies"]]
    assert ids == ["augmentation", "dropout", "l2"]  # the three strongest missing remedies at once
    because = result.rounds[1]["remedies"][0]["because"]
    assert because["key"] == "because.overfitting" and because["values"]["onset"] == 9
    assert "overfitting since epoch 9" in render(because, "en")
    assert "+  - Dropout:" in result.rounds[1]["spec_diff"] or "Dropout" in result.rounds[1]["spec_diff"]
    assert any(
        line.startswith("round 1: overfitting since epoch 9") and "add Dropout(0.3) after Dense(1024)" in line
        for line in lines
    )
    doc = json.loads((tmp_path / "run" / "treatment.json").read_text())
    assert set(doc) >= {"rounds", "chosen_round", "before", "after"}
    assert set(doc["rounds"][0]) >= {"round", "verdict", "findings", "remedies", "spec_diff", "epochs", "val"}
    assert doc["before"]["test"]["accuracy"] == 0.94 and doc["after"]["test"]["accuracy"] == 0.97
    for name in ("final.keras", "final-spec.yaml", "summary.en.txt", "summary.pt.txt"):
        assert (tmp_path / "run" / name).exists()
    assert "Dropout" in (tmp_path / "run" / "final-spec.yaml").read_text()


COLLAPSED = {  # training falls apart: accuracy at chance on both splits
    "loss": [1.39 - 0.001 * i for i in range(20)],
    "val_loss": [1.39 - 0.001 * i for i in range(20)],
    "accuracy": [0.26] * 20,
    "val_accuracy": [0.25] * 20,
}


class AugmentationBreaksIt(FakeTrainer):
    """Augmentation makes training collapse (a flip on classes that depend on orientation); Dropout cures."""

    def __call__(self, spec, data, run_dir, **kw):
        out = super().__call__(spec, data, run_dir, **kw)
        if spec.raw["data"].get("augmentation"):
            write_json(run_dir / "history.json", COLLAPSED)
            out.history, out.diagnosis = COLLAPSED, diagnose(run_dir)
            out.metrics["val"].update({"accuracy": 0.25, "loss": 1.37, "samples": 500})
        else:
            history = {**out.history, "accuracy": [0.5 + 0.025 * i for i in range(20)]}
            write_json(run_dir / "history.json", history)
            out.history, out.diagnosis = history, diagnose(run_dir)
            out.metrics["val"]["samples"] = 500
        return out


def test_a_round_that_collapses_training_is_undone_and_augmentation_blamed(tmp_path):
    lines = []
    result = fix(
        SPEC,
        tmp_path / "data",
        tmp_path / "run",
        trainer=AugmentationBreaksIt(),
        evaluate=fake_evaluate([]),
        echo=lines.append,
        max_rounds=4,
    )
    first, undone = result.rounds[1], result.rounds[2]
    assert [r["id"] for r in first["remedies"]][0] == "augmentation" and first["val"]["accuracy"] == 0.25
    assert undone["parent"] == 0 and undone["undo"]["round"] == 1
    assert undone["undo"]["blamed"] == ["augmentation"] and undone["undo"]["blocked"]
    assert undone["undo"]["because"]["key"] == "blame.augmentation_collapse"
    assert "augmentation" not in [r["id"] for r in undone["remedies"]]
    assert not undone["spec"]["data"].get("augmentation")  # from round 0's spec, not round 1's
    assert undone["verdict"] == "good_fit" and result.chosen_round == 2
    assert any("training accuracy collapsed (0.975 -> 0.260) right after augmentation" in line for line in lines)
    text = (tmp_path / "run" / "summary.pt.txt").read_text()
    assert "desabou" in text and "Parou: bom ajuste." in text


def test_a_worse_round_within_the_noise_is_not_undone():
    from fitdoctor.treatment.loop import worse

    parent = {"val": {"accuracy": 0.95, "samples": 500}}
    assert not worse({"val": {"accuracy": 0.94, "samples": 500}}, parent)  # 500 images resolve ~2.8 points
    assert worse({"val": {"accuracy": 0.90, "samples": 500}}, parent)
    assert worse({"val": {"accuracy": 0.935, "samples": 50000}}, {"val": {"accuracy": 0.95, "samples": 50000}})


def test_a_worse_round_of_several_changes_without_a_suspect_tries_the_first_alone():
    from fitdoctor.treatment.loop import blame

    parent = {"round": 0, "val": {"accuracy": 0.95}, "train_accuracy": 0.99}
    r = {
        "round": 1,
        "val": {"accuracy": 0.9},
        "train_accuracy": 0.97,
        "remedies": [{"id": "augmentation"}, {"id": "dropout"}, {"id": "l2"}],
    }
    blamed, blocked, because = blame(r, parent)
    assert blamed == ["dropout", "l2"] and not blocked and because.key == "blame.one_at_a_time"
    r["remedies"] = [{"id": "dropout"}]
    assert blame(r, parent)[:2] == (["dropout"], True)


def test_test_split_is_touched_once_at_the_end(tmp_path):
    trainer, evaluated = FakeTrainer(), []
    fix(SPEC, tmp_path / "data", tmp_path / "run", trainer=trainer, evaluate=fake_evaluate(evaluated), echo=None)
    assert all(call["evaluate_test"] is False for call in trainer.calls)
    assert len(evaluated) == 2 and evaluated[0].endswith("rounds/00/best.keras")


def test_two_rounds_without_improvement_stop(tmp_path):
    class NeverBetter(FakeTrainer):
        def __call__(self, spec, data, run_dir, **kw):
            out = super().__call__(spec, data, run_dir, **kw)
            write_json(run_dir / "history.json", OVERFIT)
            out.diagnosis = diagnose(run_dir)
            out.metrics["val"].update({"accuracy": 0.95, "loss": 0.65})
            return out

    result = fix(
        SPEC,
        tmp_path / "data",
        tmp_path / "run",
        trainer=NeverBetter(),
        evaluate=fake_evaluate([]),
        echo=None,
        max_rounds=6,
    )
    assert result.stop_reason == "stale"
    assert len(result.rounds) == 3 and result.chosen_round == 0


def test_rounds_and_budget_limits(tmp_path):
    class NeverBetter(FakeTrainer):
        def __call__(self, spec, data, run_dir, **kw):
            out = super().__call__(spec, data, run_dir, **kw)
            write_json(run_dir / "history.json", OVERFIT)
            out.diagnosis = diagnose(run_dir)
            return out

    result = fix(
        SPEC,
        tmp_path / "data",
        tmp_path / "a",
        trainer=NeverBetter(),
        evaluate=fake_evaluate([]),
        echo=None,
        max_rounds=0,
    )
    assert result.stop_reason == "rounds" and len(result.rounds) == 1
    result = fix(
        SPEC,
        tmp_path / "data",
        tmp_path / "b",
        trainer=NeverBetter(),
        evaluate=fake_evaluate([]),
        echo=None,
        budget_epochs=22,
    )
    assert result.stop_reason == "budget"


IMPROVING = {  # still falling fast at the end: more epochs would help
    "loss": [2.0 * 0.93**i for i in range(20)],
    "val_loss": [2.05 * 0.935**i for i in range(20)],
}


def test_a_remedy_the_budget_would_cut_short_is_not_applied(tmp_path):
    class StillImproving(FakeTrainer):
        def __call__(self, spec, data, run_dir, **kw):
            out = super().__call__(spec, data, run_dir, **kw)
            write_json(run_dir / "history.json", IMPROVING)
            out.diagnosis = diagnose(run_dir)
            return out

    trainer = StillImproving()
    result = fix(
        SPEC,
        tmp_path / "data",
        tmp_path / "a",
        trainer=trainer,
        evaluate=fake_evaluate([]),
        echo=None,
        budget_epochs=30,
    )
    assert result.rounds[0]["verdict"] == "still_improving"
    # 20 -> 40 epochs with 10 left would be cut short: the next remedy it can finish instead
    assert [r["id"] for r in result.rounds[1]["remedies"]] == ["higher_lr"]
    assert [call["spec"]["fit"]["epochs"] for call in trainer.calls] == [20, 10]
    at_cap = SPEC + "compile: {optimizer: {Adam: {learning_rate: 0.01}}}\n"  # higher_lr has nothing left to raise
    short = fix(
        at_cap,
        tmp_path / "data",
        tmp_path / "c",
        trainer=StillImproving(),
        evaluate=fake_evaluate([]),
        echo=None,
        budget_epochs=30,
    )
    assert short.stop_reason == "budget_short" and len(short.rounds) == 1
    assert "need more epochs than the budget has left" in (tmp_path / "c" / "summary.en.txt").read_text()
    roomy = fix(
        SPEC,
        tmp_path / "data",
        tmp_path / "b",
        trainer=StillImproving(),
        evaluate=fake_evaluate([]),
        echo=None,
        budget_epochs=100,
        max_rounds=1,
    )
    assert [r["id"] for r in roomy.rounds[1]["remedies"]] == ["more_epochs"]


DIVERGED = {
    "loss": [2.3, 1.9, 1.7, 8.0, float("nan"), float("nan")],
    "val_loss": [2.3, 2.0, 1.8, 9.0, float("nan"), float("nan")],
}


class DivergesAtHighRates(FakeTrainer):
    """Diverges unless the learning rate is under 1e-3; then a good fit."""

    def __call__(self, spec, data, run_dir, **kw):
        from fitdoctor.model.reading import learning_rate

        out = super().__call__(spec, data, run_dir, **kw)
        history = DIVERGED if learning_rate(spec.raw) >= 1e-3 else GOOD
        write_json(run_dir / "history.json", history)
        out.history, out.diagnosis = history, diagnose(run_dir)
        out.metrics["val"]["accuracy"] = 0.1 if history is DIVERGED else 0.97
        return out


@pytest.mark.parametrize(("valley", "used"), [(2.5e-4, True), (0.05, False)])
def test_a_learning_rate_round_takes_its_rate_from_the_range_test(tmp_path, valley, used):
    measured = []

    def finder(raw, data, seed):
        measured.append(raw["compile"]["optimizer"])
        return {"valley": valley, "steep": valley * 3, "minimum": valley * 10}

    result = fix(
        SPEC + "compile: {optimizer: {Adam: {learning_rate: 0.01}}}\n",
        tmp_path / "data",
        tmp_path / "run",
        trainer=DivergesAtHighRates(),
        evaluate=fake_evaluate([]),
        echo=None,
        lr_finder=finder,
        max_rounds=1,
    )
    assert result.rounds[0]["verdict"] == "diverged" and len(measured) == 1
    first = result.rounds[1]["remedies"][0]
    assert first["id"] == "lower_lr" and result.rounds[1]["lr_find"]["used"] is used
    rate = result.rounds[1]["spec"]["compile"]["optimizer"]["Adam"]["learning_rate"]
    if used:  # the measurement, not x0.1
        assert rate == 2.5e-4 and first["change"]["key"] == "change.lr_range_test"
        assert "measured by a range test (the rule of thumb said 0.001)" in render(first["change"], "en")
    else:  # a rate above the one that diverged: the remedy's own guess stays
        assert rate == 0.001 and first["change"]["key"] == "change.lower_lr"


def test_resume_keeps_finished_rounds(tmp_path):
    trainer = FakeTrainer(fail_at_round=1)
    with pytest.raises(KeyboardInterrupt):
        fix(SPEC, tmp_path / "data", tmp_path / "run", trainer=trainer, evaluate=fake_evaluate([]), echo=None)
    doc = json.loads((tmp_path / "run" / "treatment.json").read_text())
    assert doc["rounds"][0]["verdict"] == "overfitting" and doc["rounds"][1]["finished"] is False
    with pytest.raises(UserError, match=r"is not empty\. Pass --resume to continue it"):
        fix(SPEC, tmp_path / "data", tmp_path / "run", trainer=FakeTrainer(), evaluate=fake_evaluate([]), echo=None)
    again = FakeTrainer()
    result = fix(
        SPEC, tmp_path / "data", tmp_path / "run", trainer=again, evaluate=fake_evaluate([]), echo=None, resume=True
    )
    assert [c["run_dir"].name for c in again.calls] == ["01"], "round 0 was trained again"
    assert again.calls[0]["resume"] is True
    assert [r["verdict"] for r in result.rounds] == ["overfitting", "good_fit"]


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["round 0: overfitting", "Test accuracy: before 0.9400, after 0.9700"]),
        ("pt", ["rodada 0: overfitting", "Acurácia no teste: antes 0.9400, depois 0.9700"]),
    ],
)
def test_summary_in_both_languages(tmp_path, lang, words):
    fix(SPEC, tmp_path / "data", tmp_path / "run", trainer=FakeTrainer(), evaluate=fake_evaluate([]), echo=None)
    text = (tmp_path / "run" / f"summary.{lang}.txt").read_text()
    for w in words:
        assert w in text


def test_treatment_record_says_changes_in_portuguese_too(tmp_path):
    from fitdoctor.report.html import build_report

    fix(SPEC, tmp_path / "data", tmp_path / "run", trainer=FakeTrainer(), evaluate=fake_evaluate([]), echo=None)
    doc = json.loads((tmp_path / "run" / "treatment.json").read_text())
    rem = doc["rounds"][1]["remedies"][1]
    assert rem["change"] == {"key": "change.dropout.add", "values": {"layer": "Dense(1024)"}}  # keys, no text
    assert render(rem["change"], "en") == "add Dropout(0.3) after Dense(1024)"
    assert "adicionar Dropout(0.3) depois de Dense(1024)" in (tmp_path / "run" / "summary.pt.txt").read_text()
    page = build_report(tmp_path / "run", lang="pt").read_text()
    assert "overfitting desde a época 9" in page and "Overfitting desde a época 9" in page
    assert "Overfitting since" not in page


def test_report_after_fix_opens_with_the_treatments_story(tmp_path, monkeypatch):
    from fitdoctor.report import html as report_html
    from fitdoctor.report.html import build_report

    record = fix(
        SPEC, tmp_path / "data", tmp_path / "run", trainer=FakeTrainer(), evaluate=fake_evaluate([]), echo=None
    )
    kept_verdict = record.rounds[record.chosen_round]["verdict"]
    page = build_report(tmp_path / "run").read_text()
    banner = page.index('<div class="banner"')
    assert page.count('<div class="banner"') == 1
    assert page[banner:].startswith(f'<div class="banner" style="background:{report_html.STORY_COLOR["fixed"]}">')
    assert "<h1>overfitting → fixed</h1>" in page
    assert "Test accuracy 0.9400 → 0.9700 (+3.0 points)" in page
    assert f"The kept model (round {record.chosen_round}) is the best fitdoctor found on validation" in page
    assert page.index('<div class="context">') > banner
    assert kept_verdict == "good_fit" and f"<h1>{kept_verdict}" not in page
    pt = build_report(tmp_path / "run", lang="pt").read_text()
    assert "<h1>overfitting → corrigido</h1>" in pt and "Acurácia no teste 0.9400 → 0.9700 (+3.0 pontos)" in pt
    card = record._repr_html_()
    assert "overfitting → fixed" in card and 'class="fitdoctor compact"' in card


def test_a_collapse_that_reads_as_a_good_fit_is_undone_too(tmp_path):
    """Training and validation both fall to the same low level: healthy-looking curves, a much worse model."""

    class CollapseLooksFine(AugmentationBreaksIt):
        def __call__(self, spec, data, run_dir, **kw):
            out = super().__call__(spec, data, run_dir, **kw)
            if spec.raw["data"].get("augmentation"):
                history = {**GOOD, "accuracy": [0.6] * 20, "val_accuracy": [0.6] * 20}
                write_json(run_dir / "history.json", history)
                out.history, out.diagnosis = history, diagnose(run_dir)
                out.metrics["val"].update({"accuracy": 0.6})
            return out

    result = fix(
        SPEC, tmp_path / "data", tmp_path / "run", trainer=CollapseLooksFine(), evaluate=fake_evaluate([]), echo=None
    )
    assert result.rounds[1]["verdict"] == "good_fit" and result.rounds[1]["val"]["accuracy"] == 0.6
    assert result.rounds[2]["undo"]["blamed"] == ["augmentation"] and result.rounds[2]["parent"] == 0
