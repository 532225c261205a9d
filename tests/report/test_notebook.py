"""Notebook cards and the live display: the report's renderer in a notebook, one output per fit."""

import doctest
import html
import re

import keras
import numpy as np
import pytest

import fitdoctor
from fitdoctor import FitDoctor
from fitdoctor.report import html as report_html
from fitdoctor.report import notebook, plots, svg

OVERFIT = {
    "loss": [1.0, 0.6, 0.4, 0.3, 0.2, 0.15, 0.1, 0.08],
    "val_loss": [1.0, 0.7, 0.55, 0.5, 0.56, 0.62, 0.7, 0.78],
    "accuracy": [0.6, 0.8, 0.88, 0.91, 0.94, 0.96, 0.97, 0.98],
    "val_accuracy": [0.6, 0.78, 0.84, 0.86, 0.85, 0.84, 0.83, 0.82],
}


@pytest.mark.parametrize("module", [svg, report_html, notebook])
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 1


def test_a_diagnosis_displays_as_a_card_with_its_verdict_curves_and_remedies():
    card = fitdoctor.diagnose(OVERFIT, lang="en")._repr_html_()
    assert 'class="fitdoctor compact"' in card
    assert ">Overfitting<" in card or ">overfitting<" in card
    assert card.count("<svg") == 2 and card.count("<polyline") == 4
    assert "layers.Dropout(0.5)" in html.unescape(card)
    assert "Overfitting since epoch 5" in card


def test_the_card_speaks_portuguese():
    card = fitdoctor.diagnose(OVERFIT, lang="pt")._repr_html_()
    assert "O que fazer agora" in card and "Perda (loss)" in card and "treino" in card
    assert 'lang="pt-BR"' in card


def test_charts_mark_best_epoch_and_onset_and_skip_bad_values():
    labels = {"train": "train", "val": "val", "title": "loss", "best": "best", "onset": "onset"}
    chart = svg.chart(
        {"loss": [1.0, None, float("nan"), 0.5], "val_loss": [1.0, 0.8, float("inf"), 0.9]},
        "loss",
        labels,
        best_epoch=2,
        onset_epoch=3,
    )
    assert chart.count("<polyline") == 2 and "<title>best 2</title>" in chart and "<title>onset 3</title>" in chart
    assert "nan" not in chart and "inf" not in chart
    assert svg.chart({"accuracy": [0.5]}, "loss", labels) == ""


class _FakeHandle:
    def __init__(self, shown):
        self.shown = shown

    def update(self, obj):
        self.shown.append(("update", obj.data))


def _fit(doctor, epochs=4):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(2, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, validation_split=0.25, epochs=epochs, batch_size=16, verbose=0, callbacks=[doctor])


def test_live_display_is_one_output_updated_in_place(monkeypatch):
    import IPython.display

    shown = []

    def display(obj, display_id=False):
        assert display_id is True
        shown.append(("display", obj.data))
        return _FakeHandle(shown)

    monkeypatch.setattr(IPython.display, "display", display)
    lines = []
    doctor = FitDoctor(live=True, log=lines.append)
    _fit(doctor, epochs=4)
    assert [kind for kind, _ in shown] == ["display", "update", "update", "update"]
    assert "Epoch 4" in shown[-1][1] or "epoch 4" in shown[-1][1]
    assert all('class="fitdoctor compact"' in card and "<svg" in card for _, card in shown)
    _fit(doctor, epochs=2)
    assert [kind for kind, _ in shown[4:]] == ["display", "update"], "each fit gets its own display"


def test_live_display_is_off_outside_a_notebook_and_with_live_false(monkeypatch):
    import IPython.display

    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: pytest.fail("displayed outside a notebook"))
    assert not notebook.in_notebook()
    _fit(FitDoctor(verbose=1), epochs=2)
    monkeypatch.setattr(notebook, "in_notebook", lambda: True)
    _fit(FitDoctor(live=False), epochs=2)


def test_live_card_shows_the_current_finding_and_when_each_was_flagged():
    d = fitdoctor.diagnose(OVERFIT, lang="en")
    from fitdoctor.training.callback import live_findings

    found = live_findings(d)
    card = report_html.live_card(OVERFIT, d, found, {"overfitting": 5}, 8)
    assert "Overfitting since epoch 5" in card and "first flagged at epoch 5" in card
    assert "<title>onset 5</title>" in card and "<title>best epoch 4</title>" in card


def test_gallery_titles_never_overlap_the_images():
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 255, (28, 28), dtype=np.uint8) for _ in range(16)]
    fig = plots.mistakes_figure(images, ["true 7, said 1\n3.21"] * 16, {"title": "The images"})
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    overlaps = [
        (a, b)
        for a in fig.axes
        for b in fig.axes
        if a is not b and a.title.get_window_extent(renderer).overlaps(b.images[0].get_window_extent(renderer))
    ]
    assert not overlaps


def _record(chosen, verdicts, before=0.9, after=0.95):
    rounds = [
        {"round": i, "verdict": v, "finished": True, "epochs": 10, "val": {"accuracy": 0.9 + i / 100}, "remedies": []}
        for i, v in enumerate(verdicts)
    ]
    return {
        "rounds": rounds,
        "chosen_round": chosen,
        "before": {"test": {"accuracy": before}},
        "after": {"round": chosen, "test": {"accuracy": after}},
    }


@pytest.mark.parametrize(
    ("record", "outcome"),
    [
        (_record(1, ["overfitting", "good_fit"]), "fixed"),
        (_record(1, ["overfitting", "unstable"]), "improved"),
        (_record(1, ["overfitting", "unstable"], after=0.88), "not_improved"),
        (_record(0, ["overfitting", "unstable"], after=0.9), "kept_original"),
        ({"rounds": [{"round": 0, "verdict": "underfitting", "finished": True, "epochs": 3}]}, "in_progress"),
    ],
)
def test_the_story_of_a_treatment(record, outcome):
    s = report_html.story(record)
    assert s["outcome"] == outcome and s["problem"] == record["rounds"][0]["verdict"]


def test_a_treatment_card_tells_the_story_not_the_kept_rounds_alarm():
    card = report_html.treatment_card(_record(1, ["overfitting", "unstable"], 0.954, 0.976), "en")
    headline = re.search(r'<div class="banner" style="background:([^"]+)"><h1>([^<]+)</h1>', card)
    assert headline.group(2) == "Overfitting → improved" or headline.group(2).lower() == "overfitting → improved"
    assert headline.group(1) == report_html.STORY_COLOR["improved"]
    assert report_html.BANNER["unstable"] not in card
    assert "0.9540 → 0.9760 (+2.2 points)" in card


def test_a_train_result_displays_its_numbers_and_diagnosis():
    from fitdoctor.training.run import RunResult

    d = fitdoctor.diagnose(OVERFIT, lang="en")
    metrics = {"val": {"accuracy": 0.86, "loss": 0.5}, "test": {"accuracy": 0.84, "loss": 0.6}}
    card = RunResult("runs/x", OVERFIT, d, metrics, 8)._repr_html_()
    assert "<b>0.8600</b><span>Validation accuracy</span>" in card
    assert "<b>0.8400</b><span>Test accuracy</span>" in card
    assert "<b>4</b><span>Best epoch</span>" in card and card.count("<svg") == 2


def test_the_report_object_shows_inline_and_saves(tmp_path):
    from fitdoctor.treatment.loop import fix
    from tests.treatment.test_loop import SPEC, FakeTrainer, fake_evaluate

    fix(SPEC, tmp_path / "data", tmp_path / "run", trainer=FakeTrainer(), evaluate=fake_evaluate([]), echo=None)
    report = fitdoctor.report(tmp_path / "run", lang="pt")
    assert isinstance(report, fitdoctor.Report)
    inline = report._repr_html_()
    assert inline.startswith("<style>") and '<div class="fitdoctor" lang="pt-BR">' in inline
    assert "<html" not in inline and "data:image/png;base64," in inline
    out = report.save(tmp_path / "elsewhere" / "r.html")
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and inline in page
    assert (tmp_path / "elsewhere" / "r-loss.png").exists()
    assert report.save() == tmp_path / "run" / "report.pt.html"
