"""The learning-rate range test: measures, stops on divergence, leaves the model as it found it."""

import json
import subprocess

import keras
import numpy as np
import pytest

from fitdoctor import LRFinder
from fitdoctor.errors import UserError
from fitdoctor.training.lr_find import suggestions
from tests.conftest import SMALL_SPEC, fitdoctor_argv


def _model(lr=1e-3):
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(3, activation="softmax")]
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=lr), loss="sparse_categorical_crossentropy")
    return model


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2048, 8)).astype("float32")
    return x, (x[:, 0] > 0).astype("int32") + (x[:, 1] > 1).astype("int32")


def test_the_range_test_leaves_weights_optimizer_and_rate_as_they_were():
    keras.utils.set_random_seed(0)
    model, (x, y) = _model(), _data()
    model.fit(x[:64], y[:64], epochs=1, verbose=0)  # an optimizer with state already
    weights = [w.copy() for w in model.get_weights()]
    state = [v.numpy().copy() for v in model.optimizer.variables]
    finder = LRFinder(1e-6, 10.0, steps=60)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[finder])
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights(), strict=True))
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(state, model.optimizer.variables, strict=True))
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-3)
    assert finder.lrs[0] == pytest.approx(1e-6) and np.all(np.diff(finder.lrs) > 0)


def test_the_range_test_stops_when_the_loss_passes_four_times_its_best():
    keras.utils.set_random_seed(0)
    model, (x, y) = _model(), _data()
    finder = LRFinder(1e-4, 1e4, steps=100)  # rates far past what Adam survives
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[finder])
    assert len(finder.lrs) < 100
    assert finder.losses[-1] > 4 * min(finder.losses) or not np.isfinite(finder.losses[-1])
    found = finder.suggestions()
    assert found["valley"] < found["minimum"] * 10 and 1e-4 <= found["valley"] <= 1e4


def test_a_learning_rate_schedule_is_refused_with_the_fix():
    model, (x, y) = _model(keras.optimizers.schedules.ExponentialDecay(1e-3, 10, 0.9)), _data()
    with pytest.raises(UserError, match="Give the optimizer a constant learning_rate for lr-find"):
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[LRFinder()])


def test_suggestions_need_enough_points():
    with pytest.raises(UserError, match="too few finite losses"):
        suggestions([1e-3, 1e-2], [1.0, float("nan")])


def test_cli_answers_in_one_line_and_writes_the_plot(tiny_split, tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(SMALL_SPEC)
    run = tmp_path / "lr"
    cmd = fitdoctor_argv(
        "lr-find", str(spec), "--data", str(tiny_split), "--run", str(run), "--steps", "30", "--seed", "1"
    )
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Suggested learning rate: ")
    assert lines[0].endswith(f"Plot: {run / 'lr-find.png'}")
    doc = json.loads((run / "lr-find.json").read_text())
    assert set(doc["suggestions"]) == {"valley", "steep", "minimum"} and len(doc["lrs"]) == len(doc["losses"])
    again = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2 and "already holds a range test (lr-find.json)" in again.stderr
