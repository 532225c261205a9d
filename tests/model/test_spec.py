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
        "memory_budget": "4GiB",
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


# Issue #15: every mistake in a spec is one line naming the spec and the line, before TensorFlow loads.
@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "model: [Flatten]\nfit: {epochs: two}\n",
            "The 'fit.epochs' of spec '<yaml>' line 2 must be a whole number >= 1. Got 'two' instead.",
        ),
        (
            "model: [Flatten]\nfit: {epochs: 0}\n",
            "The 'fit.epochs' of spec '<yaml>' line 2 must be a whole number >= 1. Got 0 instead.",
        ),
        (
            "data: {batch_size: -8}\nmodel: [Flatten]\n",
            "The 'data.batch_size' of spec '<yaml>' line 1 must be a whole number >= 1. Got -8 instead.",
        ),
        (
            "data: {image_size: [0, 28]}\nmodel: [Flatten]\n",
            "The 'data.image_size' of spec '<yaml>' line 1 must be [height, width], two whole numbers from 1 to 8192. Got [0, 28] instead.",
        ),
        (
            "distribute: gpu\nmodel: [Flatten]\n",
            "The 'distribute' of spec '<yaml>' line 1 must be one of none, mirrored, multi_worker. Got 'gpu' instead.",
        ),
    ],
    ids=[
        "test_spec_epochs_two",
        "test_spec_epochs_zero",
        "test_spec_batch_size_negative",
        "test_spec_image_size_zero",
        "test_spec_distribute_unknown",
    ],
)
def test_spec_field_mistakes(text, message):
    from fitdoctor.errors import UserError

    with pytest.raises(UserError) as err:
        load_spec(text)
    assert str(err.value) == message


def test_spec_path_is_a_folder_or_a_binary_file(tmp_path):
    from fitdoctor.errors import UserError

    with pytest.raises(UserError) as err:
        load_spec(str(tmp_path))
    assert (
        str(err.value)
        == f"Spec '{tmp_path}' is a folder. Pass a YAML file (write one with 'fitdoctor spec new > spec.yaml')."
    )
    binary = tmp_path / "model.keras"
    binary.write_bytes(b"PK\x03\x04\x00\x00binary")
    with pytest.raises(UserError) as err:
        load_spec(str(binary))
    assert str(err.value) == f"Spec '{binary}' is a binary file, not YAML text. Pass the spec's YAML file."


def test_spec_with_nested_yaml_aliases_billion_laughs_is_refused_at_once(tmp_path):
    import time

    from fitdoctor.errors import UserError

    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]"
        for i in range(1, 10)
    ]
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\nmodel:\n  - Dense: {units: *a9}\n")
    start = time.perf_counter()
    with pytest.raises(UserError, match="uses a YAML anchor or alias"):
        load_spec(path)
    assert time.perf_counter() - start < 1.0
