"""Build fitdoctor's own labelled corpus of real Keras training histories.

Each run is designed to show one verdict (the label), on one of two data sets (the
bundled MNIST digits, scikit-learn's 8x8 digits) with one of three optimizers (Adam,
SGD, RMSprop). The live FitDoctor callback rides along in every run, so the benchmark
can also measure when it first flags overfitting. Histories and labels are written to
benchmarks/corpus/ (committed); labels were then checked by eye on the contact sheet
that `diagnosis_bench.py` draws (benchmarks/results/corpus_curves.png).

    python benchmarks/make_corpus.py            # all runs (about 10 minutes on 2 cores)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

OUT = Path(__file__).with_name("corpus")


def datasets():
    from sklearn.datasets import load_digits

    from fitdoctor.data.demo_set import load_digits as load_mnist

    x, y = load_mnist()
    x = x.reshape(len(x), -1).astype("float32") / 255.0
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    x, y = x[order], y[order].astype("int32")
    d = load_digits()
    xs = (d.data / 16.0).astype("float32")
    order = rng.permutation(len(xs))
    xs, ys = xs[order], d.target[order].astype("int32")
    return {"mnist": (x[:4000], y[:4000], x[4000:], y[4000:]), "sk8x8": (xs[:1400], ys[:1400], xs[1400:], ys[1400:])}


def optimizer(name: str, lr: float, **kw):
    import keras

    return {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop}[name](
        learning_rate=lr, **kw
    )


def mlp(inputs: int, hidden: list[int], dropout: float = 0.0, init: str = "glorot_uniform", act: str = "relu"):
    import keras

    layers = [keras.Input((inputs,))]
    for units in hidden:
        layers.append(keras.layers.Dense(units, activation=act, kernel_initializer=init))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    return keras.Sequential(layers)


# (label, dataset, optimizer, lr, hidden, dropout, epochs, train subset, batch, extra)
RUNS = []
for ds in ("mnist", "sk8x8"):
    for opt, lr in (("adam", 1e-3), ("rmsprop", 1e-3), ("sgd", 0.05)):
        n = 300 if ds == "mnist" else 100
        long = 60 if ds == "mnist" else 150
        mom = {"momentum": 0.9} if opt == "sgd" else {}
        RUNS.append(("overfitting", ds, opt, lr, [512, 512], 0.0, long, n, 32, {"opt": mom}))
        RUNS.append(("overfitting", ds, opt, lr, [256], 0.0, long + 20, n // 2, 16, {"opt": mom}))
        RUNS.append(
            ("good_fit", ds, opt, lr * (0.5 if opt != "sgd" else 1), [128], 0.3, 100, None, 64, {"early_stop": 5})
        )
        RUNS.append(("underfitting", ds, opt, lr, [2], 0.0, 40, None, 64, {}))
        RUNS.append(("underfitting", ds, opt, lr, [64, 64], 0.0, 15, None, 64, {"init": "zeros", "act": "relu"}))
        if ds == "mnist":
            RUNS.append(
                (
                    "still_improving",
                    ds,
                    opt,
                    {"adam": 2e-5, "rmsprop": 2e-5, "sgd": 1e-3}[opt],
                    [64],
                    0.0,
                    12,
                    None,
                    64,
                    {},
                )
            )
        else:  # cut short while learning fast
            RUNS.append(
                (
                    "still_improving",
                    ds,
                    opt,
                    {"adam": 3e-4, "rmsprop": 3e-4, "sgd": 0.02}[opt],
                    [64],
                    0.0,
                    6,
                    None,
                    64,
                    {},
                )
            )
        RUNS.append(
            (
                "unstable",
                ds,
                opt,
                {"adam": 0.05, "rmsprop": 0.02, "sgd": 1.0}[opt],
                [64],
                0.0,
                30,
                None,
                16,
                {"opt": {"momentum": 0.9}} if opt == "sgd" else {},
            )
        )
        RUNS.append(
            ("diverged", ds, opt, {"adam": 20.0, "rmsprop": 20.0, "sgd": 50.0}[opt], [64, 64], 0.0, 10, None, 64, {})
        )
    RUNS.append(("insufficient_data", ds, "adam", 1e-3, [64], 0.0, 2, None, 64, {}))


def run_one(i: int, spec, data) -> dict:
    import keras

    from fitdoctor.training.callback import FitDoctor

    label, ds, opt, lr, hidden, dropout, epochs, subset, batch, extra = spec
    keras.utils.set_random_seed(100 + i)
    x, y, xv, yv = data[ds]
    if subset:
        x, y = x[:subset], y[:subset]
    model = mlp(x.shape[1], hidden, dropout, extra.get("init", "glorot_uniform"), extra.get("act", "relu"))
    model.compile(
        optimizer=optimizer(opt, lr, **extra.get("opt", {})),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    doctor = FitDoctor(verbose=0, num_classes=10)
    callbacks = [doctor]
    if "early_stop" in extra:
        callbacks.append(keras.callbacks.EarlyStopping(patience=extra["early_stop"], restore_best_weights=True))
    start = time.perf_counter()
    hist = model.fit(x, y, validation_data=(xv, yv), epochs=epochs, batch_size=batch, verbose=0, callbacks=callbacks)
    return {
        "label": label,
        "dataset": ds,
        "optimizer": opt,
        "learning_rate": lr,
        "hidden": hidden,
        "dropout": dropout,
        "epochs": epochs,
        "train_samples": int(len(x)),
        "batch_size": batch,
        "extra": extra,
        "seconds": round(time.perf_counter() - start, 2),
        "num_classes": 10,
        "live_flagged": doctor.flagged,
        "history": {k: [float(v) for v in vals] for k, vals in hist.history.items()},
    }


def main() -> int:
    OUT.mkdir(exist_ok=True)
    data = datasets()
    only = set(sys.argv[1:])
    for i, spec in enumerate(RUNS):
        name = f"{i:02d}_{spec[0]}_{spec[1]}_{spec[2]}"
        if only and name not in only and str(i) not in only:
            continue
        path = OUT / f"{name}.json"
        if path.exists() and not only:
            continue
        record = run_one(i, spec, data)
        path.write_text(json.dumps(record) + "\n")
        print(f"{name}: {len(record['history']['loss'])} epochs, {record['seconds']}s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
