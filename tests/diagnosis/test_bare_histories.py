"""The inputs of issue #10: bare `model.fit().history` dicts, problems that came and went, small validation sets."""

import numpy as np

from fitdoctor import diagnose
from fitdoctor.diagnosis.findings import FAMILY

RNG = np.random.default_rng(7)
EPOCHS = np.arange(80)


def memorising() -> dict:
    """A wide network on a few hundred images: training loss 1.7 -> 1e-4, validation loss climbing."""
    loss = 1.7 * np.exp(-EPOCHS / 6) + 1e-4
    val = 1.1 * np.exp(-EPOCHS / 3) + 0.55 + 0.004 * np.maximum(0, EPOCHS - 8)
    acc = np.minimum(1.0, 0.45 + 0.12 * EPOCHS)
    vacc = np.minimum(0.84, 0.71 + 0.02 * EPOCHS)
    return {"loss": loss.tolist(), "val_loss": val.tolist(), "accuracy": acc.tolist(), "val_accuracy": vacc.tolist()}


def test_a_memorising_network_is_overfitting_with_or_without_the_class_count():
    bare = diagnose(memorising(), lang="en")
    assert bare.verdict == "overfitting"
    assert diagnose(memorising(), lang="en", num_classes=10).verdict == "overfitting"
    assert "exploded" not in bare.primary.summary


def test_a_first_epoch_that_blew_up_and_taught_nothing_is_diverged_without_metadata():
    loss = [2.4e6, 3.1, 5.0, 6.5, 5.2, 3.2, 4.8, 7.1, 5.6, 6.5]
    acc = [0.097, 0.095, 0.097, 0.094, 0.095, 0.103, 0.097, 0.095, 0.106, 0.093]
    d = diagnose({"loss": loss, "accuracy": acc, "val_loss": loss[1:] + [6.0], "val_accuracy": acc}, lang="en")
    assert (d.verdict, d.primary.form) == ("diverged", "exploded")
    assert d.primary.summary.startswith("Diverged: the training loss blew up inside the first epoch")


def test_a_network_dead_from_the_start_is_underfitting_and_the_class_count_only_sharpens_it():
    loss = [2.557] + [2.447] * 29
    hist = {"loss": loss, "val_loss": [2.446] * 30, "accuracy": [0.101] * 30, "val_accuracy": [0.098] * 30}
    bare, known = diagnose(hist, lang="en"), diagnose(hist, lang="en", num_classes=10)
    assert bare.verdict == known.verdict == "underfitting"
    assert known.primary.form == "blown_up" and known.primary.remedies[0].id == "lower_lr"
    assert "higher_lr" not in [r.id for r in known.primary.remedies]


def test_nan_and_a_rise_after_going_down_are_diverged():
    assert diagnose({"loss": [1.0, 0.5, float("nan")] + [1.0] * 3}, lang="en").primary.form == "nan"
    rising = [2.3, 1.0, 0.5, 0.3, 0.3, 2.0, 3.0, 4.0, 5.0, 6.0]
    assert diagnose({"loss": rising}, lang="en").verdict == "diverged"


def burst_then_overfitting() -> dict:
    loss = 2.0 * np.exp(-EPOCHS / 10) + 0.02
    loss[[6, 8, 10]] *= [2.6, 2.2, 2.4]  # spikes at epochs 7, 9 and 11, then training recovers
    val = np.r_[loss[:15] * 1.05 + 0.1, 0.1 + 1.05 * loss[14] + 0.006 * np.arange(1, 66)]
    return {"loss": loss.tolist(), "val_loss": val.tolist()}


def test_a_problem_that_came_and_went_is_secondary_and_the_summary_says_so():
    d = diagnose(burst_then_overfitting(), lang="en")
    assert d.verdict == "overfitting"
    unstable = next(f for f in d.findings if f.kind == "unstable")
    assert unstable.evidence["ended"] is True and unstable.evidence["epochs"] == "7-11"
    assert d.findings.index(unstable) > 0
    assert d.primary.summary.startswith("Unstable early on (epochs 7-11), then: Overfitting since epoch ")
    pt = diagnose(burst_then_overfitting(), lang="pt")
    assert pt.primary.summary.startswith("Instável no começo (épocas 7-11), depois: Overfitting desde a época ")


def treated(val_samples: int = 500) -> dict:
    """A model after augmentation: smooth training loss; a low validation loss (0.45 -> 0.1) on 500 images
    that moves by 20% from one epoch to the next; validation accuracy measured on whole images (k/500)."""
    e = EPOCHS[:40]
    loss = 1.8 * np.exp(-e / 8) + 0.15
    val = (0.35 * np.exp(-e / 6) + 0.1) * np.exp(RNG.normal(0, 0.2, 40))
    vacc = np.round((np.minimum(0.985, 0.7 + 0.3 * (1 - np.exp(-e / 5))) + RNG.normal(0, 0.003, 40)) * val_samples)
    acc = np.minimum(0.97, 0.6 + 0.4 * (1 - np.exp(-e / 6)))
    return {
        "loss": loss.tolist(),
        "val_loss": val.tolist(),
        "accuracy": acc.tolist(),
        "val_accuracy": (vacc / val_samples).tolist(),
    }


def test_a_noisy_low_validation_loss_after_augmentation_is_not_instability():
    d = diagnose(treated(), lang="en")
    assert "unstable" not in {f.kind for f in d.findings}, d.primary.summary


def test_the_validation_set_size_is_read_from_the_accuracy_steps_and_sets_the_noise_floor():
    d = diagnose(treated(500), lang="en")
    note = next(n for n in d.notes if n.startswith("Differences under"))
    assert "about 500 images, read from the steps of the accuracy curve: two standard errors of a difference" in note
    assert note.startswith("Differences under 1.7 points of validation accuracy are noise")  # 2 sqrt(2 p(1-p) / 500)


def test_label_smoothing_sigmoid_mse_and_learning_rate_steps_are_normal_inputs():
    smooth_loss = 0.5 + 1.5 * np.exp(-EPOCHS[:40] / 4)  # label smoothing: a floor at 0.5 ...
    smooth = {
        "loss": smooth_loss.tolist(),
        "accuracy": [min(0.995, 0.5 + 0.05 * e) for e in range(40)],
        "val_loss": (smooth_loss + 0.05).tolist(),
        "val_accuracy": [min(0.99, 0.5 + 0.05 * e) for e in range(40)],
    }
    assert diagnose(smooth, lang="en").verdict not in ("underfitting", "diverged")  # ... for a model right 99.5%
    steps = 1.0 * np.exp(-EPOCHS[:60] / 8) + 0.3
    steps[20:] -= 0.1  # ReduceLROnPlateau: a step down where the rate changed
    steps[40:] -= 0.05
    lr = [1e-3] * 20 + [3e-4] * 20 + [1e-4] * 20
    d = diagnose({"loss": steps.tolist(), "val_loss": (steps + 0.05).tolist(), "lr": lr}, lang="en")
    assert FAMILY[d.verdict] != "broken"
    mse = {
        "loss": (0.09 * np.exp(-EPOCHS[:30] / 5) + 0.002).tolist(),
        "val_loss": (0.09 * np.exp(-EPOCHS[:30] / 5) + 0.01).tolist(),
    }
    assert diagnose(mse, lang="en").verdict in ("good_fit", "still_improving")


# The kept model of a `fitdoctor demo` run (round 1: augmentation, Dropout, EarlyStopping), as it was saved.
TREATED_DEMO_ROUND = {
    "accuracy": [
        0.5395,
        0.7362,
        0.8165,
        0.8495,
        0.8655,
        0.8665,
        0.8848,
        0.8963,
        0.9013,
        0.8967,
        0.8975,
        0.912,
        0.9075,
        0.9197,
        0.9172,
        0.9227,
        0.922,
        0.9185,
        0.9218,
        0.9247,
        0.9335,
        0.9277,
        0.9362,
        0.931,
        0.9342,
        0.9293,
        0.9362,
        0.9388,
        0.9438,
        0.9415,
    ],
    "loss": [
        1.4084,
        0.8319,
        0.5952,
        0.4868,
        0.4289,
        0.4191,
        0.3841,
        0.3434,
        0.3197,
        0.3202,
        0.3328,
        0.2857,
        0.2946,
        0.2718,
        0.2578,
        0.2482,
        0.2513,
        0.2496,
        0.2364,
        0.2332,
        0.2141,
        0.2186,
        0.2189,
        0.2301,
        0.2101,
        0.228,
        0.2006,
        0.2011,
        0.1874,
        0.2092,
    ],
    "val_accuracy": [
        0.826,
        0.928,
        0.914,
        0.922,
        0.946,
        0.96,
        0.956,
        0.95,
        0.956,
        0.962,
        0.966,
        0.956,
        0.964,
        0.956,
        0.962,
        0.964,
        0.958,
        0.948,
        0.96,
        0.968,
        0.968,
        0.966,
        0.96,
        0.978,
        0.954,
        0.962,
        0.974,
        0.984,
        0.976,
        0.964,
    ],
    "val_loss": [
        0.5693,
        0.3195,
        0.278,
        0.2466,
        0.1951,
        0.1491,
        0.1432,
        0.1822,
        0.1518,
        0.1292,
        0.1245,
        0.1635,
        0.1245,
        0.1583,
        0.1212,
        0.1135,
        0.1134,
        0.1322,
        0.1368,
        0.114,
        0.1059,
        0.1324,
        0.1205,
        0.0856,
        0.1219,
        0.0973,
        0.0788,
        0.0672,
        0.0799,
        0.0917,
    ],
}


def test_the_treated_demo_model_is_not_called_unstable():
    """Augmentation and Dropout make the training loss move ~5% an epoch on its way down: that is not instability."""
    d = diagnose(TREATED_DEMO_ROUND, lang="en")
    assert "unstable" not in {f.kind for f in d.findings}, d.primary.summary
    assert d.verdict in ("good_fit", "still_improving")
