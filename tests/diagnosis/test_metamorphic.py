"""Metamorphic tests on every corpus history: a verdict must not flip with what a user rarely has.

The corpora are real Keras runs (benchmarks/corpus, the development set; benchmarks/heldout and
benchmarks/heldout2, the held-out sets). Each history is diagnosed bare (as `model.fit().history` gives it) and then
changed in ways that must not matter: the class count and loss name added, `acc`/`val_acc`
names, losses scaled by 10 or 0.1, the accuracy series removed where the loss alone decides.
The live callback is replayed epoch by epoch and must agree with the offline diagnosis.
"""

import json
from pathlib import Path

import pytest

from fitdoctor import FitDoctor, diagnose
from fitdoctor.diagnosis import rules
from fitdoctor.diagnosis.findings import FAMILY
from fitdoctor.diagnosis.history import from_dict
from fitdoctor.training.callback import live_findings

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
RUNS = sorted(path for corpus in ("corpus", "heldout", "heldout2") for path in (BENCH / corpus).glob("[0-9]*.json"))
# Verdicts and forms that read accuracy (training accuracy low, learnt nothing after a blow-up,
# validation jumps confirmed by a fall in validation accuracy): removing it may change them, by design.
READS_ACCURACY = {
    ("underfitting", ""),
    ("diverged", "exploded"),
    ("unstable", "val_spikes"),
    ("good_fit", ""),
    ("still_improving", ""),
}


def _load(path: Path) -> tuple[dict, dict]:
    run = json.loads(path.read_text())
    return run["history"], run


def _classes(run: dict) -> int:
    return run.get("num_classes") or run.get("classes")


def _with_metadata(history: dict, run: dict):
    h = from_dict(history)
    h.num_classes = _classes(run)
    h.loss_name = run.get("loss") or "sparse_categorical_crossentropy"
    return diagnose(h, lang="en")


def test_the_corpora_are_there():
    assert len(RUNS) >= 50


@pytest.mark.parametrize("path", RUNS, ids=[p.stem for p in RUNS])
def test_metadata_never_flips_the_verdict_family(path):
    history, run = _load(path)
    bare, meta = diagnose(history, lang="en"), _with_metadata(history, run)
    assert FAMILY[bare.verdict] == FAMILY[meta.verdict], (bare.verdict, meta.verdict)


@pytest.mark.parametrize("path", RUNS, ids=[p.stem for p in RUNS])
def test_acc_names_scaled_losses_and_removed_accuracy(path):
    history, _ = _load(path)
    bare = diagnose(history, lang="en")
    renamed = {{"accuracy": "acc", "val_accuracy": "val_acc"}.get(k, k): v for k, v in history.items()}
    assert diagnose(renamed, lang="en").verdict == bare.verdict, "acc/val_acc names"
    for factor in (10.0, 0.1):
        scaled = {k: [x * factor for x in v] if k in ("loss", "val_loss") else v for k, v in history.items()}
        assert diagnose(scaled, lang="en").verdict == bare.verdict, f"losses x{factor}"
    kind = (bare.verdict, bare.primary.form if bare.verdict in ("diverged", "unstable") else "")
    ev = bare.primary.evidence
    memorised = (
        bare.verdict == "overfitting"
        and bare.primary.form in ("classic", "overconfidence")
        and not (ev["val_rise"] >= rules.OVERFIT_RISE and ev["improvement_given_back"] >= rules.OVERFIT_GIVEBACK)
    )  # material only because training accuracy shows a memorised training set
    if kind not in READS_ACCURACY and not memorised:
        no_accuracy = {k: v for k, v in history.items() if "acc" not in k}
        assert diagnose(no_accuracy, lang="en").verdict == bare.verdict, "accuracy removed"


@pytest.mark.parametrize("path", RUNS, ids=[p.stem for p in RUNS])
def test_live_callback_and_offline_diagnosis_agree_on_overfitting_at_every_epoch(path):
    """The FitDoctor callback, fed the run's epochs, flags overfitting exactly when `diagnose` of the prefix says so."""
    history, run = _load(path)
    doctor = FitDoctor(verbose=0, live=False, num_classes=_classes(run))
    doctor.on_train_begin()
    first_offline = None
    for epoch in range(len(history["loss"])):
        doctor.on_epoch_end(epoch, {k: v[epoch] for k, v in history.items()})
        prefix = {k: v[: epoch + 1] for k, v in history.items()}
        offline = diagnose(prefix, lang="en", num_classes=_classes(run))
        says_offline = any(f.kind == "overfitting" and not f.evidence.get("ended") for f in offline.findings)
        says_live = any(f.kind == "overfitting" for f in live_findings(doctor.diagnosis))
        assert says_live == says_offline, f"epoch {epoch + 1}: live {says_live}, offline {says_offline}"
        if says_offline and first_offline is None:
            first_offline = epoch + 1
    assert doctor.flagged.get("overfitting") == first_offline
