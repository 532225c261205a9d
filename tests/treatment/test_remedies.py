"""Every remedy on every preset spec still builds and trains one epoch (the conformance suite)."""

import copy
from types import SimpleNamespace
from unittest import mock

import pytest
import yaml

from fitdoctor.model.presets import PRESETS, preset_text
from fitdoctor.treatment.change import Change
from fitdoctor.treatment.registry import REMEDIES
from fitdoctor.treatment.remedies import pretrained_base

FINDINGS = {
    "overfitting": SimpleNamespace(kind="overfitting", form="classic", evidence={}),
    "underfitting": SimpleNamespace(kind="underfitting", form="high_loss", evidence={}),
    "still_improving": SimpleNamespace(kind="still_improving", form="", evidence={"epochs_more": 3}),
    "unstable": SimpleNamespace(kind="unstable", form="spikes", evidence={}),
    "diverged": SimpleNamespace(kind="diverged", form="nan", evidence={}),
    "insufficient_data": SimpleNamespace(kind="insufficient_data", form="", evidence={}),
}


def _presets():
    return {name: yaml.safe_load(preset_text(name)) for name in PRESETS}


def _zeros_initializer() -> dict:
    """The tiny preset with a Zeros kernel initializer on its hidden layer (what better_init treats)."""
    raw = _presets()["tiny"]
    for item in raw["model"]:
        if isinstance(item, dict) and "Dense" in item and item["Dense"].get("units") != "auto":
            item["Dense"]["kernel_initializer"] = {"Zeros": {}}
    return raw


def _specs() -> dict:
    return {**_presets(), "tiny+zeros": _zeros_initializer()}


def _offline_weights():
    """The pretrained base's ImageNet weights as if they loaded (there is no network here); specs then use null."""
    return mock.patch.object(pretrained_base, "weights_available", return_value=None)


def _cases() -> list[tuple[str, str, bool]]:
    """(remedy, spec, train it?) for every spec the remedy changes: none is skipped, each remedy has one.

    Each remedy trains one epoch on the smallest spec it changes; on the others the changed spec
    is built (the Keras model made and compiled), which is what a remedy can break.
    """
    cases = []
    with _offline_weights():
        for rid, module in sorted(REMEDIES.items()):
            changed = [
                name
                for name, raw in _specs().items()
                if module.apply(copy.deepcopy(raw), FINDINGS[module.KINDS[0]]) is not None
            ]
            changed.sort(key=lambda name: not name.startswith("tiny"))  # train the smallest spec it changes
            cases += [(rid, name, i == 0) for i, name in enumerate(changed)]
    return cases


def test_every_remedy_has_a_spec_it_changes():
    assert {rid for rid, _name, _train in _cases()} == set(REMEDIES)


@pytest.mark.parametrize(("rid", "spec_name", "trains"), _cases())
def test_remedy_keeps_spec_trainable(tmp_path, tiny_split, rid, spec_name, trains):
    from fitdoctor.model.build import build_model
    from fitdoctor.model.spec import load_spec
    from fitdoctor.training.run import train

    raw = _specs()[spec_name]
    module = REMEDIES[rid]
    new = copy.deepcopy(raw)
    with _offline_weights():
        change = module.apply(new, FINDINGS[module.KINDS[0]])
    assert new != raw and isinstance(change, Change) and str(change)
    new["fit"]["epochs"] = 1
    if rid == "pretrained_base":  # no network here: the base without its ImageNet weights; one epoch per phase
        new["model"][0][pretrained_base.APPLICATION]["weights"] = None
        new["fit"]["fine_tune"]["epochs"] = 1
    new["callbacks"] = [c for c in new.get("callbacks") or [] if "ModelCheckpoint" not in c]
    if trains:
        result = train(new, tiny_split, tmp_path / "run", evaluate_test=False, echo=None)
        assert result.epochs == 1 + int((new["fit"].get("fine_tune") or {}).get("epochs", 0))
    else:
        shape = (*new["data"]["image_size"], 3 if new["data"]["color_mode"] == "rgb" else 1)
        built = build_model(load_spec(new), 10, shape)
        assert built.model.optimizer is not None and built.model.count_params() > 0


def test_better_init_replaces_a_zeros_initializer_written_any_way():
    for written in ("Zeros", "zeros", {"Zeros": {}}, "Ones", {"Constant": {"value": 0.1}}):
        raw = _presets()["tiny"]
        raw["model"][1] = {"Dense": {"units": 32, "activation": "relu", "kernel_initializer": written}}
        change = REMEDIES["better_init"].apply(raw, FINDINGS["underfitting"])
        assert change is not None and raw["model"][1]["Dense"]["kernel_initializer"] == "HeNormal", written


def test_augmentation_flips_only_classes_declared_flip_invariant():
    raw = _presets()["mlp"]
    REMEDIES["augmentation"].apply(raw, FINDINGS["overfitting"])
    assert not any("RandomFlip" in a for a in raw["data"]["augmentation"])
    raw = _presets()["mlp"]
    raw["data"]["color_mode"] = "rgb"  # colour photos of arrows pointing left or right: a flip changes the label
    REMEDIES["augmentation"].apply(raw, FINDINGS["overfitting"])
    assert not any("RandomFlip" in a for a in raw["data"]["augmentation"])
    for declared, mode in (
        (["horizontal_flip"], "horizontal"),
        (["vertical_flip"], "vertical"),
        (["horizontal_flip", "vertical_flip", "rotation"], "horizontal_and_vertical"),
    ):
        raw = _presets()["mlp"]
        raw["data"].update(color_mode="rgb", invariances=declared)
        REMEDIES["augmentation"].apply(raw, FINDINGS["overfitting"])
        assert {"RandomFlip": {"mode": mode}} in raw["data"]["augmentation"]


def test_rotation_stays_within_a_few_degrees_unless_declared():
    def rotation(raw):
        return next(a["RandomRotation"]["factor"] for a in raw["data"]["augmentation"] if "RandomRotation" in a)

    raw = _presets()["mlp"]
    for _round in range(5):  # added, then strengthened again and again: never past 5 degrees
        REMEDIES["augmentation"].apply(raw, FINDINGS["overfitting"])
        assert rotation(raw) * 360 <= 5.0
    raw = _presets()["mlp"]
    raw["data"]["invariances"] = ["rotation"]
    REMEDIES["augmentation"].apply(raw, FINDINGS["overfitting"])
    assert rotation(raw) * 360 == 18.0
    REMEDIES["augmentation"].apply(raw, FINDINGS["overfitting"])
    assert rotation(raw) * 360 == 27.0


def test_invariances_are_checked():
    from fitdoctor.errors import UserError
    from fitdoctor.model.spec import load_spec

    with pytest.raises(UserError) as err:
        load_spec("data: {invariances: [mirror]}\nmodel: [Flatten]\n")
    assert str(err.value) == (
        "The data.invariances of spec '<yaml>' must be a list of horizontal_flip, vertical_flip, rotation "
        "(transforms that keep every class's label). Got ['mirror'] instead."
    )


@pytest.mark.parametrize(("epochs", "patience"), [(10, 5), (24, 6), (30, 7), (40, 10), (200, 10)])
def test_early_stopping_patience_is_at_least_five_and_at_most_ten(epochs, patience):
    raw = {"model": ["Flatten"], "fit": {"epochs": epochs}}
    REMEDIES["early_stopping"].apply(raw, SimpleNamespace(kind="overfitting", evidence={}))
    args = raw["callbacks"][0]["EarlyStopping"]
    assert args == {"monitor": "val_loss", "patience": patience, "restore_best_weights": True}


PHOTO_OVERFITTING = SimpleNamespace(
    kind="overfitting",
    form="classic",
    onset_epoch=6,
    evidence={"monitor": "val_loss", "val_rise": 0.3, "train_change_since_best": -0.5},
)


def test_a_pretrained_base_replaces_the_trunk_of_a_photo_model_and_fine_tunes():
    raw = _presets()["photo-cnn"]
    with _offline_weights():
        change = REMEDIES["pretrained_base"].apply(raw, PHOTO_OVERFITTING, {"train_per_class": 140})
    assert change.key == "change.pretrained_base" and change.values["removed"] == 5
    assert raw["model"][0] == {"MobileNetV3Small": pretrained_base.BASE}
    assert [next(iter(x)) for x in raw["model"][1:]] == ["Dense", "Dense"]  # the head stays
    assert raw["fit"]["fine_tune"] == {"unfreeze": 20, "epochs": 7, "learning_rate": 1e-5}
    for case, facts in (("digits", {}), ("plenty", {"train_per_class": 5000})):
        other = _presets()["small-cnn" if case == "digits" else "photo-cnn"]
        with _offline_weights():
            assert REMEDIES["pretrained_base"].apply(other, PHOTO_OVERFITTING, facts) is None, case


def test_without_its_weights_the_pretrained_base_says_why_and_the_others_are_used():
    from fitdoctor.treatment.registry import choose

    raw = _presets()["photo-cnn"]
    skipped = []
    with mock.patch.object(pretrained_base, "weights_available", return_value="URL fetch failure: no network"):
        new, applied = choose(raw, PHOTO_OVERFITTING, facts={"train_per_class": 140}, skipped=skipped)
    assert [a.id for a in applied] == ["augmentation", "dropout", "l2"]
    assert skipped[0]["id"] == "pretrained_base"
    text = str(Change(skipped[0]["reason"]["key"], **skipped[0]["reason"]["values"]))
    assert "MobileNetV3Small" in text and "URL fetch failure: no network" in text and "~/.keras/models" in text
