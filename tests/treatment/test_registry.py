"""The registry: the remedies chosen for a finding follow the diagnosis's ranking and change the spec."""

import copy

from fitdoctor.diagnosis.findings import Finding
from fitdoctor.treatment.registry import PER_ROUND, REMEDIES, choose

SPEC = {
    "data": {"augmentation": [], "color_mode": "grayscale"},
    "model": ["Flatten", {"Dense": {"units": 512, "activation": "relu"}}, {"Dense": {"units": "auto"}}],
    "compile": {"optimizer": {"Adam": {"learning_rate": 0.001}}},
    "callbacks": [],
    "fit": {"epochs": 20},
}
OVERFITTING = Finding("overfitting", 0.9, 8, {"monitor": "val_loss", "val_rise": 0.3, "train_change_since_best": -0.4})


def test_choose_applies_the_best_ranked_remedies_without_touching_the_input():
    before = copy.deepcopy(SPEC)
    new, applied = choose(SPEC, OVERFITTING)
    assert SPEC == before and new != SPEC
    assert [a.id for a in applied] == ["augmentation", "dropout", "l2"] and len(applied) == PER_ROUND["overfitting"]
    record = applied[0].to_dict()
    assert record["because"]["key"] == "because.overfitting" and record["change"]["key"].startswith("change.")


def test_remedies_run_out_instead_of_strengthening_forever():
    """Each round changes the spec; after a few rounds nothing is left to change, and choose says so."""
    spec, rounds = SPEC, 0
    while True:
        new, applied = choose(spec, OVERFITTING)
        if not applied:
            break
        assert new != spec and all(a.change for a in applied)
        spec, rounds = new, rounds + 1
        assert rounds < 12, [a.id for a in applied]
    assert rounds >= 2


def test_every_remedy_is_registered_under_its_own_id():
    assert all(module.ID == rid and module.KINDS for rid, module in REMEDIES.items())


def test_the_reasons_for_remedies_have_no_english_in_portuguese():
    from fitdoctor.treatment.change import render

    finding = Finding("underfitting", 0.8, None, {"train_end": 1.9}, form="high_loss")
    _, applied = choose(SPEC, finding)
    because = applied[0].to_dict()["because"]
    assert render(because, "en") == "underfitting (high loss, train loss 1.9)"
    assert render(because, "pt") == "underfitting (perda alta, perda de treino 1.9)"
