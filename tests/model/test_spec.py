import pytest

from fitdoctor.errors import UserError
from fitdoctor.model.spec import load_spec

SPEC = """\
data: {batch_size: 8}
model:
  - Conv2D: {filters: 4, kernel_size: 3}
  - Flaten
  - Dense: {units: auto, activation: softmax}
"""


def test_defaults_and_lines(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    spec = load_spec(path)
    assert spec.raw["data"] == {
        "image_size": [28, 28],
        "color_mode": "grayscale",
        "batch_size": 8,
        "augmentation": [],
        "resize": "squash",
        "invariances": [],
    }
    assert spec.raw["compile"]["loss"] == "SparseCategoricalCrossentropy"
    assert spec.where("model", 1) == f"{path} line 4"


def test_missing_file():
    with pytest.raises(
        UserError, match=r"Spec 'nope\.yaml' does not exist\. Write one with 'fitdoctor spec new > spec\.yaml'"
    ):
        load_spec("nope.yaml")


def test_bad_yaml():
    with pytest.raises(UserError, match=r"Spec '<yaml>' line \d is not valid YAML"):
        load_spec("model:\n  - Dense: {units: 3\n")


def test_unknown_section():
    with pytest.raises(UserError, match=r"Unknown section 'compil' in spec '<yaml>'\. Did you mean 'compile'\?"):
        load_spec("model: [Flatten]\ncompil: {}\n")


def test_model_required():
    with pytest.raises(UserError, match=r"needs a 'model' list of layers"):
        load_spec("fit: {epochs: 2}\n")


def test_an_unknown_data_key_is_an_error_with_a_suggestion():
    from fitdoctor.errors import UserError

    with pytest.raises(UserError) as err:
        load_spec("data: {imag_size: [32, 32]}\nmodel: [Flatten]\n")
    assert str(err.value) == "Unknown key 'imag_size' in the data section of spec '<yaml>'. Did you mean 'image_size'?"
