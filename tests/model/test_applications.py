"""keras.applications bases in the spec: preprocessing, greyscale to RGB, inference-mode BatchNormalization,
weights from a file, clear errors, and fine-tuning in two phases that resume across their boundary."""

import json

import keras
import numpy as np
import pytest

from fitdoctor.errors import UserError
from fitdoctor.model.applications import preprocessing_affine, unfreeze
from fitdoctor.model.build import build_model
from fitdoctor.model.spec import load_spec

BASE = "MobileNetV3Small: {{weights: {weights}, pooling: avg, trainable: false, alpha: 0.75, minimalistic: true}}"
SPEC = """\
data: {{image_size: [32, 32], color_mode: {color}, batch_size: 16}}
model:
  - {base}
  - Dense: {{units: auto, activation: softmax}}
compile: {{optimizer: {{Adam: {{learning_rate: 0.001}}}}, loss: SparseCategoricalCrossentropy, metrics: [accuracy]}}
fit: {{epochs: {epochs}{tune}}}
"""


def spec_text(
    weights="null", color="grayscale", epochs=1, tune=", fine_tune: {unfreeze: 12, epochs: 1, learning_rate: 1e-4}"
):
    return SPEC.format(base=BASE.format(weights=weights), color=color, epochs=epochs, tune=tune)


@pytest.mark.parametrize(
    "name", ["MobileNetV3Small", "MobileNetV2", "ResNet50", "DenseNet121", "EfficientNetB0", "VGG16", "ConvNeXtTiny"]
)
def test_the_preprocessing_is_the_application_s_own(name):
    import sys

    fn = getattr(keras.applications, name)
    pixels = np.random.default_rng(0).uniform(0, 255, (2, 5, 5, 3)).astype(np.float32)
    expected = np.asarray(sys.modules[fn.__module__].preprocess_input(pixels.copy()))
    m, b = preprocessing_affine(fn)
    assert np.allclose(pixels @ m + b, expected, atol=1e-3)


def test_greyscale_reaches_the_base_as_rgb_in_its_own_range():
    """The frozen 1x1 convolution in front of the base: [0, 1] grey -> the base's RGB input."""
    built = build_model(load_spec(spec_text()), 4, (32, 32, 1))
    pre = built.model.layers[1]
    assert pre.name.endswith("_preprocess") and not pre.trainable
    grey = np.random.default_rng(1).uniform(0, 1, (2, 32, 32, 1)).astype(np.float32)
    rgb = np.asarray(pre(grey))
    assert rgb.shape == (2, 32, 32, 3)
    assert np.allclose(rgb, np.repeat(grey, 3, -1) * 255, atol=1e-3)  # MobileNetV3 preprocesses inside: 0-255 RGB


def test_the_base_runs_in_inference_mode_and_only_the_head_trains():
    built = build_model(load_spec(spec_text()), 4, (32, 32, 1))
    model = built.model
    base = model.layers[2]
    assert isinstance(base, keras.Model) and not base.trainable
    assert [w.name for w in model.trainable_weights] == ["kernel", "bias"]  # the Dense head only
    x = np.random.default_rng(2).uniform(0, 1, (16, 32, 32, 1)).astype(np.float32)
    moving = [w for w in base.weights if "moving_mean" in w.path]
    before = [np.array(w) for w in moving]
    model.fit(x, np.arange(16) % 4, epochs=1, verbose=0)
    assert all(np.array_equal(a, np.array(w)) for a, w in zip(before, moving, strict=True))  # BN statistics kept
    opened = unfreeze(base, 12)
    assert 0 < opened <= 12
    assert not any(layer.trainable for layer in base.layers if isinstance(layer, keras.layers.BatchNormalization))
    assert sum(layer.trainable for layer in base.layers if layer.weights) == opened


def test_weights_from_a_file_saved_by_the_user(tmp_path):
    keras.utils.set_random_seed(4)
    own = keras.applications.MobileNetV3Small(
        input_shape=(32, 32, 3), include_top=False, weights=None, pooling="avg", alpha=0.75, minimalistic=True
    )
    own.save_weights(tmp_path / "mine.weights.h5")
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(spec_text(weights="mine.weights.h5", color="rgb"))  # relative to the spec's folder
    built = build_model(load_spec(spec_file), 4, (32, 32, 3))
    base = built.model.layers[2]
    assert all(np.array_equal(np.array(a), np.array(b)) for a, b in zip(own.weights, base.weights, strict=True))


@pytest.mark.parametrize(
    "base, size, message",
    [
        ("MobileNetV3Small: {weights: null, include_top: true}", 32, "must have include_top: false"),
        ("MobileNetV3Small: {weights: null, polling: avg}", 32, "has no argument 'polling'. Did you mean 'pooling'?"),
        ("MobileNetV3Small: {weights: missing.weights.h5}", 32, "The weights file 'missing.weights.h5'"),
        ("MobileNetV3Smal: {weights: null}", 32, "Did you mean 'MobileNetV3Small'?"),
        ("ResNet50: {weights: null}", 16, "ResNet50 (<yaml> line 3) cannot take images of 16x16"),
    ],
)
def test_mistakes_are_one_clear_line(base, size, message):
    spec = load_spec(SPEC.format(base=base, color="rgb", epochs=1, tune="").replace("[32, 32]", f"[{size}, {size}]"))
    with pytest.raises(UserError) as err:
        build_model(spec, 4, (size, size, 3))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_fine_tune_needs_a_base_and_its_keys_are_checked():
    plain = "model: [Flatten, {Dense: {units: auto, activation: softmax}}]\nfit: {epochs: 1, fine_tune: {epochs: 1}}\n"
    with pytest.raises(UserError, match="needs a keras.applications base"):
        build_model(load_spec(plain), 4, (28, 28, 1))
    with pytest.raises(UserError, match="Unknown key 'unfrezee' in fit.fine_tune .* Did you mean 'unfreeze'"):
        load_spec(plain.replace("{epochs: 1}}", "{epochs: 1, unfrezee: 3}}"))


def test_fine_tuning_is_one_curve_with_its_boundary_and_the_saved_model_predicts_the_same(tmp_path, tiny_split):
    from fitdoctor.training.run import train

    lines = []
    result = train(spec_text(), tiny_split, tmp_path / "run", seed=1, echo=lines.append)
    assert len(result.history["loss"]) == 2
    assert any(line.startswith("Fine-tuning from epoch 2: ") for line in lines), lines
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["fine_tune_from_epoch"] == 2 and not info["stopped_early"]
    live = json.loads((tmp_path / "run" / "diagnosis.json").read_text())
    assert live["epochs"] == 2  # the live callback saw both phases as one curve
    model = keras.saving.load_model(tmp_path / "run" / "last.keras")  # plain Keras, no custom objects
    base = model.layers[2]
    assert any(layer.trainable for layer in base.layers) and len(model.trainable_weights) > 2
    x = np.random.default_rng(3).uniform(0, 1, (8, 32, 32, 1)).astype(np.float32)
    model.save(tmp_path / "again.keras")
    again = keras.saving.load_model(tmp_path / "again.keras")
    assert np.allclose(model.predict(x, verbose=0), again.predict(x, verbose=0), atol=1e-6)


def test_resume_continues_across_the_phase_boundary(tmp_path, tiny_split, monkeypatch):
    from fitdoctor import rundir as state_module
    from fitdoctor.training.run import train

    class Killed(BaseException):  # as a kill: not an error Keras may report
        pass

    real_write_json = state_module.write_json

    def write_json(path, obj, **kwargs):
        if path.name == "state.json" and obj["epoch"] == 3:  # killed in the second fine-tuning epoch
            raise Killed
        real_write_json(path, obj, **kwargs)

    spec = spec_text(tune=", fine_tune: {unfreeze: all, epochs: 2, learning_rate: 1e-4}")
    monkeypatch.setattr(state_module, "write_json", write_json)
    with pytest.raises(Killed):
        train(spec, tiny_split, tmp_path / "run", seed=1, echo=None)
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["epoch"] == 2 and state["boundary"] == 1
    monkeypatch.setattr(state_module, "write_json", real_write_json)
    lines = []
    result = train(spec, tiny_split, tmp_path / "run", seed=1, resume=True, echo=lines.append)
    assert not any(line.startswith("Fine-tuning from") for line in lines)  # already unfrozen: last.keras
    assert len(result.history["loss"]) == 3
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["epoch"] == 3 and state["boundary"] == 1
    model = keras.saving.load_model(tmp_path / "run" / "last.keras")
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(1e-4)


def test_weights_from_a_file_one_frozen_epoch_one_fine_tuning_epoch_save_reload_predict_the_same(tmp_path):
    """The issue's check: MobileNetV3Small from a weights file saved by the test, 1 epoch frozen, 1 fine-tuning
    (the run's own phase change), saved, reloaded with plain `keras.saving.load_model`, the same predictions."""
    from types import SimpleNamespace

    from fitdoctor.training.run import _start_fine_tuning

    keras.utils.set_random_seed(5)
    own = keras.applications.MobileNetV3Small(
        input_shape=(32, 32, 3), include_top=False, weights=None, pooling="avg", alpha=0.75, minimalistic=True
    )
    own.save_weights(tmp_path / "base.weights.h5")
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(spec_text(weights=str(tmp_path / "base.weights.h5"), color="rgb"))
    spec = load_spec(spec_file)
    built = build_model(spec, 4, (32, 32, 3))
    x = np.random.default_rng(6).uniform(0, 1, (32, 32, 32, 3)).astype(np.float32)
    y = np.arange(32) % 4
    frozen = [np.array(w) for w in built.model.layers[2].weights]
    built.model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert all(np.array_equal(a, np.array(w)) for a, w in zip(frozen, built.model.layers[2].weights, strict=True))
    lines = []
    _start_fine_tuning(spec, SimpleNamespace(num_classes=4), built, spec.raw["fit"]["fine_tune"], 1, lines.append)
    built.model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    changed = [not np.array_equal(a, np.array(w)) for a, w in zip(frozen, built.model.layers[2].weights, strict=True)]
    assert any(changed) and not all(changed)  # the top layers moved, the rest (and BatchNormalization) did not
    built.model.save(tmp_path / "tuned.keras")
    reloaded = keras.saving.load_model(tmp_path / "tuned.keras")
    assert np.allclose(built.model.predict(x, verbose=0), reloaded.predict(x, verbose=0), atol=1e-6)
    assert lines and lines[0].startswith("Fine-tuning from epoch 2: ")
