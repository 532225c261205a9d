"""The atomic ModelCheckpoint: alone it renames at once; with a journal the file waits for its commit."""

import keras
import numpy as np

from fitdoctor.training.checkpoint import AtomicModelCheckpoint


def _fit(callback, epochs=3):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(32, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, validation_split=0.25, epochs=epochs, batch_size=8, verbose=0, callbacks=[callback])


def test_alone_it_leaves_only_the_final_file(tmp_path):
    _fit(AtomicModelCheckpoint(str(tmp_path / "best.keras"), save_best_only=True))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras"]
    assert keras.saving.load_model(tmp_path / "best.keras").count_params() == 10


def test_with_a_journal_each_saved_epoch_waits_under_its_pending_name(tmp_path):
    journal = []
    _fit(AtomicModelCheckpoint(str(tmp_path / "best.keras"), journal=journal), epochs=2)
    assert [(p.split("/")[-1], f.split("/")[-1]) for p, f in journal] == [
        (".best.e1.pending.keras", "best.keras"),
        (".best.e2.pending.keras", "best.keras"),
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".best.e1.pending.keras", ".best.e2.pending.keras"]
