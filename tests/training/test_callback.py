"""FitDoctor in anyone's model.fit, and its decisions on hand-made logs."""

import json

import keras
import numpy as np

from fitdoctor import FitDoctor

OVERFIT = [(1.0, 1.0), (0.6, 0.7), (0.4, 0.55), (0.3, 0.5), (0.2, 0.56), (0.15, 0.62), (0.1, 0.7), (0.08, 0.78)]


def _model():
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3, activation="relu"), keras.layers.Dense(2, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_in_a_plain_user_fit(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    doctor = FitDoctor(path=tmp_path / "diagnosis.json", sample=(x[:16], y[:16]), verbose=0)
    _model().fit(x, y, validation_split=0.25, epochs=4, batch_size=16, verbose=0, callbacks=[doctor])
    doc = json.loads((tmp_path / "diagnosis.json").read_text())
    from fitdoctor.diagnosis.findings import VERDICTS

    assert doc["epochs"] == 4 and doc["verdict"] in VERDICTS
    assert doc["stats"]["epochs"] == [1, 2, 3, 4]
    assert set(doc["stats"]["grad_norms"]) >= {"dense", "dense_1"} or len(doc["stats"]["grad_norms"]) == 2
    assert len(next(iter(doc["stats"]["dead_relu"].values()))) == 4


def test_stop_on_overfitting_restores_best_weights():
    model = _model()
    lines = []
    doctor = FitDoctor(stop_on=("overfitting",), log=lines.append)
    doctor.set_model(model)
    doctor.on_train_begin()
    weights_at = {}
    for epoch, (loss, val) in enumerate(OVERFIT):
        model.set_weights([np.full_like(w, epoch) for w in model.get_weights()])
        weights_at[epoch + 1] = model.get_weights()
        doctor.on_epoch_end(epoch, {"loss": loss, "val_loss": val})
        if model.stop_training:
            break
    assert doctor.stopped_reason == "overfitting"
    assert epoch + 1 <= 4 + 3, "flagged more than 3 epochs after the best one"
    assert doctor.best_epoch == 4
    assert all((a == b).all() for a, b in zip(model.get_weights(), weights_at[4], strict=True))
    assert any("overfitting" in line for line in lines)


def test_state_is_reset_on_train_begin():
    model = _model()
    doctor = FitDoctor(verbose=0)
    doctor.set_model(model)
    doctor.on_train_begin()
    doctor.on_epoch_end(0, {"loss": 1.0})
    doctor.on_train_begin()
    assert doctor.history == {} and doctor.flagged == {}


def test_the_stats_function_is_traced_once_per_model_and_compile():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    doctor = FitDoctor(verbose=0, sample=(x[:8], y[:8]))
    model = _model()
    model.fit(x, y, validation_split=0.25, epochs=2, batch_size=8, verbose=0, callbacks=[doctor])
    first = doctor._stats[1]
    model.fit(x, y, validation_split=0.25, epochs=2, batch_size=8, verbose=0, callbacks=[doctor])
    assert doctor._stats[1] is first and first.experimental_get_tracing_count() == 1
    assert doctor.stats["epochs"] == [1, 2]  # per-fit state is still reset
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")  # a new loss graph: trace again
    model.fit(x, y, validation_split=0.25, epochs=1, batch_size=8, verbose=0, callbacks=[doctor])
    assert doctor._stats[1] is not first
