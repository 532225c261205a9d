"""Prescriptions: remedies ranked for the case and the spec, each with why and the Keras code."""

from fitdoctor.diagnosis.findings import Finding
from fitdoctor.diagnosis.prescriptions import prescribe, rank
from fitdoctor.model.reading import context

SPEC = {
    "data": {"augmentation": []},
    "model": ["Flatten", {"Dense": {"units": 512, "activation": "relu"}}, {"Dense": {"units": "auto"}}],
    "compile": {"optimizer": {"Adam": {"learning_rate": 0.001}}},
    "callbacks": [],
}


def test_overfitting_starts_with_the_notes_cures_and_moves_what_the_spec_has_down():
    f = Finding("overfitting", 0.9, 8, {"val_rise": 0.3})
    plain = rank(f, context(SPEC))
    assert plain[:3] == ["augmentation", "dropout", "l2"]
    with_dropout = {**SPEC, "model": [*SPEC["model"][:2], {"Dropout": {"rate": 0.5}}, SPEC["model"][2]]}
    assert rank(f, context(with_dropout)).index("dropout") > plain.index("dropout")


def test_a_blown_up_network_never_gets_a_higher_learning_rate():
    f = Finding("underfitting", 0.8, None, {}, form="blown_up")
    order = rank(f, context(SPEC))
    assert order[0] == "lower_lr" and "higher_lr" not in order


def test_a_constant_initializer_puts_better_init_first():
    spec = {**SPEC, "model": ["Flatten", {"Dense": {"units": 8, "kernel_initializer": {"Zeros": {}}}}, "Dense"]}
    f = Finding("underfitting", 0.8, None, {}, form="stuck_at_chance")
    assert rank(f, context(spec))[0] == "better_init"


def test_remedies_carry_why_in_the_language_and_keras_code():
    f = Finding("overfitting", 0.9, 8, {"val_rise": 0.3})
    en, pt = prescribe(f, SPEC, "en"), prescribe(f, SPEC, "pt_BR")
    assert [r.id for r in en] == [r.id for r in pt]
    assert all(r.why and r.keras for r in en) and en[0].why != pt[0].why
    assert "RandomRotation" in en[0].keras
