"""Every check of the spec before training, with its wording pinned, and every building block."""

import numpy as np
import pytest

from fitdoctor.errors import UserError
from fitdoctor.model.build import build_model, make_callbacks, wants_one_hot
from fitdoctor.model.spec import load_spec

SHAPE = (28, 28, 1)


def build(text, classes=10):
    return build_model(load_spec(text), classes, SHAPE)


def test_unknown_layer_with_closest_match():
    with pytest.raises(UserError, match=r"Unknown layer 'Flaten' \(<yaml> line 3\)\. Did you mean 'Flatten'\?"):
        build(
            "model:\n  - Conv2D: {filters: 2, kernel_size: 3}\n  - Flaten\n  - Dense: {units: auto, activation: softmax}\n"
        )


@pytest.mark.parametrize(
    ("section", "text", "message"),
    [
        (
            "optimizer",
            "compile: {optimizer: Adamm}",
            r"Unknown optimizer 'Adamm' \(<yaml> line \d\)\. Did you mean 'Adam'\?",
        ),
        (
            "loss",
            "compile: {loss: SparseCategoricalCrossentropyy}",
            r"Unknown loss 'SparseCategoricalCrossentropyy'.*Did you mean 'SparseCategoricalCrossentropy'\?",
        ),
        ("initializer", "", None),
    ],
)
def test_unknown_names(section, text, message):
    if message is None:
        with pytest.raises(
            UserError, match=r"Unknown initializer 'GlorotUnifrom' \(<yaml> line 2\)\. Did you mean 'GlorotUniform'\?"
        ):
            build(
                "model:\n  - Dense: {units: 8, kernel_initializer: GlorotUnifrom}\n  - Dense: {units: auto, activation: softmax}\n"
            )
        return
    with pytest.raises(UserError, match=message):
        build(f"model: [Flatten, {{Dense: {{units: auto, activation: softmax}}}}]\n{text}\n")


def test_unknown_activation():
    with pytest.raises(UserError, match=r"Unknown activation 'rleu' \(<yaml> line 2\)\. Did you mean 'relu'\?"):
        build("model:\n  - Dense: {units: 8, activation: rleu}\n  - Dense: {units: auto, activation: softmax}\n")


def test_bad_argument_name():
    with pytest.raises(
        UserError, match=r"Layer Dense \(<yaml> line 2\) has no argument 'unit'\. Did you mean 'units'\?"
    ):
        build("model:\n  - Dense: {unit: 8}\n  - Dense: {units: auto, activation: softmax}\n")


def test_output_units_must_match_classes():
    with pytest.raises(
        UserError,
        match=r"The output layer Dense \(<yaml> line 3\) has units=5, but the data has 10 classes\. Use 'units: auto'",
    ):
        build("model:\n  - Flatten\n  - Dense: {units: 5, activation: softmax}\n")


def test_softmax_with_one_unit():
    with pytest.raises(UserError, match=r"softmax with one unit: it always outputs 1\.0"):
        build("model:\n  - Flatten\n  - Dense: {units: 1, activation: softmax}\n", classes=2)


def test_sigmoid_with_categorical_crossentropy():
    with pytest.raises(
        UserError,
        match=r"uses sigmoid with CategoricalCrossentropy over 10 classes: the outputs don't sum to 1\. Use 'activation: softmax'",
    ):
        build(
            "model:\n  - Flatten\n  - Dense: {units: auto, activation: sigmoid}\ncompile: {loss: CategoricalCrossentropy}\n"
        )


def test_input_shape_mismatch():
    with pytest.raises(UserError, match=r"expects input_shape \[32, 32, 3\], but the data is \[28, 28, 1\]"):
        build(
            "model:\n  - Conv2D: {filters: 2, kernel_size: 3, input_shape: [32, 32, 3]}\n  - Flatten\n  - Dense: {units: auto, activation: softmax}\n"
        )


def test_warnings():
    built = build(
        "model:\n  - Flatten\n  - Dense: {units: 8, kernel_initializer: Zeros}\n  - Dropout: {rate: 0.7}\n"
        "  - Dense: {units: auto, activation: softmax}\n"
        "compile: {loss: MeanSquaredError, optimizer: {SGD: {learning_rate: 5.0}}}\n"
    )
    text = "\n".join(built.warnings)
    assert "uses the Zeros initializer on a hidden layer: all its units stay identical" in text
    assert "Dropout rate 0.7 (<yaml> line 4) is above 0.5" in text
    assert "Loss MeanSquaredError (<yaml> line 6) is meant for regression" in text
    assert "Learning rate 5.0 (<yaml> line 6) is outside [1e-6, 1]" in text
    assert built.one_hot


def test_every_seed_building_block_builds():
    built = build("""\
model:
  - Conv2D: {filters: 4, kernel_size: 3, activation: relu, kernel_initializer: GlorotUniform}
  - MaxPooling2D: {pool_size: 2}
  - Flatten
  - Dense: {units: 16, activation: sigmoid, kernel_initializer: {RandomNormal: {stddev: 0.05}}, kernel_regularizer: {L2: {l2: 0.0001}}}
  - Dropout: {rate: 0.5}
  - Dense: {units: auto, activation: softmax, kernel_initializer: Zeros}
compile:
  optimizer: {RMSprop: {learning_rate: 0.001}}
  loss: sparse_categorical_crossentropy
  metrics: [accuracy, Precision, Recall]
callbacks:
  - EarlyStopping: {monitor: val_loss, patience: 3}
""")
    assert [type(x).__name__ for x in built.model.layers] == [
        "Conv2D",
        "MaxPooling2D",
        "Flatten",
        "Dense",
        "Dropout",
        "Dense",
    ]
    assert built.model.output_shape == (None, 10)
    assert type(built.model.optimizer).__name__ == "RMSprop"
    assert not built.one_hot


def test_snake_case_aliases_and_callbacks():
    built = build(
        "model: [Flatten, {Dense: {units: auto, activation: softmax}}]\ncompile: {optimizer: sgd, loss: categorical_crossentropy}\n"
        "callbacks: [{EarlyStopping: {patience: 2}}, {ModelCheckpoint: {monitor: val_loss}}]\n"
    )
    assert type(built.model.optimizer).__name__ == "SGD" and built.one_hot
    assert [
        type(c).__name__
        for c in make_callbacks(load_spec("model: [Flatten]\ncallbacks: [{EarlyStopping: {patience: 2}}]\n"))
    ] == ["EarlyStopping"]
    with pytest.raises(
        UserError, match=r"Unknown callback 'EarlyStoping' \(<yaml> line 2\)\. Did you mean 'EarlyStopping'\?"
    ):
        make_callbacks(load_spec("model: [Flatten]\ncallbacks: [{EarlyStoping: {patience: 2}}]\n"))


def test_labels_follow_the_loss():
    assert wants_one_hot("CategoricalCrossentropy") and wants_one_hot("MeanSquaredError") and wants_one_hot("mse")
    assert not wants_one_hot("SparseCategoricalCrossentropy") and not wants_one_hot("binary_crossentropy", 1)


def test_precision_recall_with_integer_labels():
    from fitdoctor.model.metrics import MulticlassPrecision, MulticlassRecall

    y = np.array([0, 1, 2, 2])
    probs = np.array([[0.8, 0.1, 0.1], [0.1, 0.2, 0.7], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3]], dtype="float32")
    p, r = MulticlassPrecision(num_classes=3), MulticlassRecall(num_classes=3)
    p.update_state(y, probs)
    r.update_state(y, probs)
    assert float(p.result()) == pytest.approx(0.5) and float(r.result()) == pytest.approx(0.5)
    onehot = MulticlassPrecision(num_classes=3, sparse=False)
    onehot.update_state(np.eye(3)[y], probs)
    assert float(onehot.result()) == pytest.approx(0.5)
