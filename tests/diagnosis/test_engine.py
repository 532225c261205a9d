"""The rules on hand-made curves: every verdict, its evidence, and the messages in both languages."""

import math

import numpy as np
import pytest

from fitdoctor import diagnose
from fitdoctor.diagnosis.findings import VERDICTS

N = 30
EPOCHS = np.arange(N)
DECAY = 2.3 * np.exp(-EPOCHS / 4) + 0.1
FLAT = 2.3 * np.exp(-EPOCHS / 3) + 0.1


def hist(loss, val=None, **more):
    out = {"loss": list(map(float, loss))}
    if val is not None:
        out["val_loss"] = list(map(float, val))
    out.update({k: list(map(float, v)) for k, v in more.items()})
    return out


CASES = {
    "overfitting": hist(DECAY * 0.5, np.r_[DECAY[:10] + 0.2, DECAY[9] + 0.2 + 0.03 * np.arange(1, N - 9)]),
    "underfitting": hist(np.full(N, 2.29) + 0.01 * np.exp(-EPOCHS), np.full(N, 2.3)),
    "still_improving": hist(2.3 - 0.05 * EPOCHS, 2.35 - 0.05 * EPOCHS),
    "unstable": hist(np.where(EPOCHS % 5 == 4, 1.5, 0.6) * (1 - EPOCHS / 100), np.full(N, 0.8)),
    "diverged": hist(np.r_[DECAY[:5], [math.nan] * (N - 5)], np.r_[DECAY[:5], [math.nan] * (N - 5)]),
    "good_fit": hist(FLAT, FLAT + 0.05 + 0.001 * np.sin(EPOCHS)),
    "insufficient_data": hist([2.3, 1.0], [2.3, 1.1]),
}


@pytest.mark.parametrize("kind", VERDICTS)
def test_every_verdict(kind):
    d = diagnose(CASES[kind], num_classes=10, lang="en")
    assert d.verdict == kind, d.to_dict()
    f = d.primary
    assert 0 < f.confidence <= 1 and f.summary and f.evidence
    if kind not in ("good_fit", "insufficient_data"):
        assert f.remedies and all(r.keras and r.why for r in f.remedies)


def test_overfitting_evidence_and_onset():
    f = diagnose(CASES["overfitting"], lang="en").primary
    assert f.onset_epoch == 11 and f.evidence["best_epoch"] == 10
    assert f.evidence["val_rise"] > 0.03 and f.evidence["train_change_since_best"] < 0
    assert f.summary.startswith("Overfitting since epoch 11")


def test_overconfidence_form_explains_loss_vs_accuracy():
    h = dict(CASES["overfitting"])
    h["val_accuracy"] = [0.5 + 0.015 * i for i in range(10)] + [0.64] * (N - 10)
    d = diagnose(h, lang="pt")
    assert d.primary.form == "overconfidence"
    assert any("Perda (loss) vs acurácia" in n for n in d.notes)
    assert d.primary.remedies[0].id == "early_stopping"


def test_quiet_validation_noise_does_not_count_as_overfitting():
    rng = np.random.default_rng(0)
    val = DECAY + 0.1 + rng.normal(0, 0.004, N)
    assert diagnose(hist(DECAY, val), lang="en").verdict != "overfitting"


def test_tiny_train_loss_bumps_are_not_instability():
    loss = np.r_[DECAY[:10], 1e-3 * np.array([1, 3, 1, 4, 1, 2, 1, 3, 1, 2] * 2)]
    d = diagnose(hist(loss, DECAY + 0.1), lang="en")
    assert "unstable" not in {f.kind for f in d.findings}


def test_exploded_then_dead_is_diverged():
    d = diagnose(hist([2e6, 2.31, 2.30, 2.30, 2.30], [2.3] * 5), num_classes=10, lang="en")
    assert d.verdict == "diverged" and d.primary.form == "exploded"


def test_no_validation_series():
    d = diagnose(hist(FLAT), lang="en")
    assert d.verdict == "good_fit" and d.primary.confidence <= 0.5
    assert any("no validation curve" in n for n in d.notes)


def test_a_misspelt_validation_series_is_named():
    """A typo leaves no validation curve; the note names the series and what it probably meant."""
    d = diagnose({"loss": list(FLAT), "val_los": list(FLAT)}, lang="en")
    assert (
        "There is no validation curve, but there is a series named 'val_los': did you mean 'val_loss'? Rename it "
        "and diagnose again: overfitting cannot be seen without a validation curve." in d.notes
    )
    assert not any("did you mean" in n for n in diagnose(hist(FLAT), lang="en").notes)


def test_accuracy_only_history():
    acc = 1 - DECAY / 3
    val = np.r_[acc[:10] - 0.02, acc[9] - 0.02 - 0.02 * np.arange(1, N - 9)]
    d = diagnose({"accuracy": list(acc), "val_accuracy": list(val)}, lang="en")
    assert d.verdict == "overfitting" and d.primary.evidence["monitor"] == "val_error"


def test_thousand_epoch_histories_are_fast():
    import time

    t = np.arange(1000)
    h = hist(np.exp(-t / 200) + 0.1, np.exp(-t / 200) + 0.15 + 0.0001 * np.maximum(t - 500, 0))
    start = time.perf_counter()
    for _ in range(20):
        diagnose(h, lang="en")
    assert time.perf_counter() - start < 2.0


def test_early_warning_fires_two_epochs_after_the_best():
    from fitdoctor.diagnosis.history import from_dict
    from fitdoctor.diagnosis.rules import early_overfitting

    loss = [1.0, 0.6, 0.4, 0.3, 0.25, 0.2]
    assert early_overfitting(from_dict({"loss": loss[:4], "val_loss": [1.0, 0.7, 0.5, 0.53]})) is None
    f = early_overfitting(from_dict({"loss": loss[:5], "val_loss": [1.0, 0.7, 0.5, 0.53, 0.54]}))
    assert f is not None and f.form == "early" and f.onset_epoch == 4 and f.evidence["best_epoch"] == 3


def test_early_warning_stalled_form_needs_three_epochs_a_falling_train_loss_and_no_recovery():
    from fitdoctor.diagnosis.history import from_dict
    from fitdoctor.diagnosis.rules import early_overfitting
    from fitdoctor.diagnosis.summaries import summarise

    loss = [1.0, 0.6, 0.4, 0.3, 0.25, 0.2]
    val = [1.0, 0.7, 0.5, 0.501, 0.502, 0.503]  # flat just above the best: no 5% rise to see
    assert early_overfitting(from_dict({"loss": loss[:5], "val_loss": val[:5]})) is None  # 2 epochs since best
    f = early_overfitting(from_dict({"loss": loss, "val_loss": val}))
    assert f.form == "stalled" and f.evidence["epochs_since_best"] == 3 and f.evidence["best_epoch"] == 3
    assert f.evidence["train_change_since_best"] == pytest.approx(-0.5)
    assert "not improved for 3 epochs" in summarise(f, "en") and "não melhora há 3 épocas" in summarise(f, "pt")
    recovering = [1.0, 0.7, 0.5, 0.51, 0.52, 0.505]
    assert early_overfitting(from_dict({"loss": loss, "val_loss": recovering})) is None
    flat_train = [1.0, 0.6, 0.4, 0.39, 0.38, 0.37]  # training loss down only 7.5% since the best
    assert early_overfitting(from_dict({"loss": flat_train, "val_loss": val})) is None


def test_loss_that_climbs_back_above_its_start_is_diverged():
    loss = [
        1.888,
        1.911,
        1.927,
        1.879,
        1.924,
        2.095,
        2.193,
        2.263,
        2.2,
        2.075,
        2.16,
        2.027,
        1.986,
        1.988,
        2.317,
        2.307,
        2.602,
        2.325,
        2.319,
        2.324,
    ]
    d = diagnose({"loss": loss, "val_loss": [x * 0.95 for x in loss]}, num_classes=10, lang="en")
    assert d.verdict == "diverged" and d.primary.form == "rising"
    assert [r.id for r in d.primary.remedies][:2] == ["lower_lr", "clipnorm"]
