"""Build the held-out corpora: real Keras trainings in regimes the development corpus lacks.

The development corpus (make_corpus.py) is MLPs on grey digits with a plain cross-entropy. The
first held-out corpus (RUNS, benchmarks/heldout/), which the rules are never tuned on, trains on
RGB images (generated shapes on textured backgrounds, 32x32) and on the digits with:
augmentation, ReduceLROnPlateau, a cosine schedule, a warm-up schedule, label smoothing, a
sigmoid binary head, MeanSquaredError, class imbalance, noisy labels, batch sizes 16 to 256, runs
of 100-200 epochs and EarlyStopping-ended runs. The second (RUNS2, benchmarks/heldout2/) was made
once the first had been read, with its own seeds and regimes neither had (see RUNS2).

No fitdoctor code runs during training (no live callback): every run is labelled by eye from its
curves (labels.json in the corpus folder, with the reason) before fitdoctor sees it, and the
benchmark replays the live callback on the saved histories.

    python benchmarks/make_heldout.py                   # all runs (about 20 minutes on 2 cores)
    python benchmarks/make_heldout.py 3 7               # only runs 3 and 7
    python benchmarks/make_heldout.py --second          # the second corpus (about 15 minutes)
    python benchmarks/make_heldout.py --sheets --second # draw its curves to label (sheet-N.png)
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

OUT = Path(__file__).with_name("heldout")
SHAPES = ("circle", "square", "triangle", "cross", "ring", "bar")


def shapes(n: int, classes: int, seed: int, size: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """`n` RGB images of `classes` shapes in random colours, sizes and places on noisy textured backgrounds."""
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = np.empty((n, size, size, 3), np.uint8)
    for i, label in enumerate(y):
        background = rng.integers(0, 256, 3)
        texture = rng.normal(0, 28, (size, size, 3))
        canvas = np.clip(background + texture, 0, 255).astype(np.uint8)
        im = Image.fromarray(canvas)
        draw = ImageDraw.Draw(im)
        r = rng.uniform(5, 11)
        cx, cy = rng.uniform(r + 1, size - r - 1, 2)
        colour = tuple(int(c) for c in (background + rng.choice([-1, 1], 3) * rng.integers(60, 140, 3)) % 256)
        box = [cx - r, cy - r, cx + r, cy + r]
        kind = SHAPES[label]
        if kind == "circle":
            draw.ellipse(box, fill=colour)
        elif kind == "square":
            draw.rectangle(box, fill=colour)
        elif kind == "triangle":
            draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=colour)
        elif kind == "cross":
            draw.rectangle([cx - r, cy - r / 3, cx + r, cy + r / 3], fill=colour)
            draw.rectangle([cx - r / 3, cy - r, cx + r / 3, cy + r], fill=colour)
        elif kind == "ring":
            draw.ellipse(box, outline=colour, width=3)
        else:
            draw.rectangle([cx - r, cy - r / 4, cx + r, cy + r / 4], fill=colour)
        x[i] = np.asarray(im)
    return x, y.astype("int32")


def digits_rgb(order_seed: int = 1):
    from fitdoctor.data.demo_set import load_digits

    x, y = load_digits()
    order = np.random.default_rng(order_seed).permutation(len(x))
    x, y = x[order], y[order].astype("int32")
    x = np.repeat(x[..., None], 3, axis=-1)
    return x, y


def cnn(
    shape,
    classes,
    *,
    filters=(16, 32),
    dense=64,
    dropout=0.0,
    l2=0.0,
    augment=(),
    head="softmax",
    batchnorm=False,
    noise=0.0,
):
    import keras

    reg = keras.regularizers.L2(l2) if l2 else None
    layers = [keras.Input(shape), keras.layers.Rescaling(1 / 255.0)]
    if noise:
        layers.append(keras.layers.GaussianNoise(noise))
    if "flip" in augment:
        layers.append(keras.layers.RandomFlip("horizontal"))
    if "rotate" in augment:
        layers.append(keras.layers.RandomRotation(0.08))
    if "shift" in augment:
        layers.append(keras.layers.RandomTranslation(0.1, 0.1))
    if "zoom" in augment:
        layers.append(keras.layers.RandomZoom(0.1))
    for f in filters:
        layers += [
            keras.layers.Conv2D(f, 3, activation="relu", padding="same", kernel_regularizer=reg),
            *([keras.layers.BatchNormalization()] if batchnorm else []),
            keras.layers.MaxPooling2D(2),
        ]
    layers.append(keras.layers.Flatten())
    if dense:
        layers.append(keras.layers.Dense(dense, activation="relu", kernel_regularizer=reg))
    if dropout:
        layers.append(keras.layers.Dropout(dropout))
    if head == "sigmoid":
        layers.append(keras.layers.Dense(1, activation="sigmoid"))
    else:
        layers.append(keras.layers.Dense(classes, activation=head))
    return keras.Sequential(layers)


def mlp(shape, classes, hidden=(256,), dropout=0.0, l2=0.0):
    import keras

    reg = keras.regularizers.L2(l2) if l2 else None
    layers = [keras.Input(shape), keras.layers.Rescaling(1 / 255.0), keras.layers.Flatten()]
    for units in hidden:
        layers.append(keras.layers.Dense(units, activation="relu", kernel_regularizer=reg))
        if dropout:
            layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(classes, activation="softmax"))
    return keras.Sequential(layers)


# name: (data, train, val, model kind, model kwargs, optimizer, lr, loss, epochs, batch, extras)
RUNS = [
    ("rgb_small_cnn_adam", "shapes4", 300, 400, "cnn", {}, "adam", 1e-3, "sparse", 100, 32, {}),
    (
        "rgb_small_cnn_augmented",
        "shapes4",
        300,
        400,
        "cnn",
        {"augment": ("flip", "rotate", "shift")},
        "adam",
        1e-3,
        "sparse",
        100,
        32,
        {},
    ),
    ("rgb_cnn_reduce_lr", "shapes4", 1500, 500, "cnn", {}, "adam", 3e-3, "sparse", 80, 64, {"reduce_lr": True}),
    ("rgb_cnn_cosine", "shapes6", 1500, 500, "cnn", {"dropout": 0.3}, "adam", 2e-3, "sparse", 60, 64, {"cosine": True}),
    ("rgb_cnn_warmup", "shapes6", 1500, 500, "cnn", {}, "adam", 2e-3, "sparse", 50, 64, {"warmup": 8}),
    ("rgb_cnn_label_smoothing", "shapes4", 400, 400, "cnn", {}, "adam", 1e-3, "smooth", 100, 32, {}),
    ("rgb_sigmoid_binary", "shapes2", 300, 300, "cnn", {"head": "sigmoid"}, "adam", 1e-3, "binary", 80, 32, {}),
    (
        "rgb_sigmoid_binary_big",
        "shapes2",
        2000,
        400,
        "cnn",
        {"head": "sigmoid", "dropout": 0.3},
        "adam",
        1e-3,
        "binary",
        30,
        64,
        {},
    ),
    (
        "rgb_imbalanced",
        "shapes4_imbalanced",
        1200,
        400,
        "cnn",
        {"filters": (8,), "dense": 16},
        "sgd",
        1e-3,
        "sparse",
        40,
        64,
        {},
    ),
    ("rgb_batch16_high_lr", "shapes4", 1000, 400, "cnn", {}, "adam", 1e-2, "sparse", 40, 16, {}),
    ("rgb_batch256_low_lr", "shapes4", 1500, 400, "cnn", {}, "sgd", 3e-3, "sparse", 40, 256, {}),
    (
        "rgb_early_stopping",
        "shapes4",
        1500,
        500,
        "cnn",
        {"dropout": 0.3},
        "adam",
        1e-3,
        "sparse",
        150,
        64,
        {"early_stop": 6},
    ),
    (
        "rgb_heavy_l2_dropout",
        "shapes4",
        1500,
        500,
        "cnn",
        {"l2": 0.05, "dropout": 0.6},
        "adam",
        1e-3,
        "sparse",
        40,
        64,
        {},
    ),
    ("rgb_tiny_mlp", "shapes6", 1500, 500, "mlp", {"hidden": (4,)}, "adam", 1e-3, "sparse", 40, 64, {}),
    ("rgb_mse_onehot", "shapes4", 1500, 400, "cnn", {}, "adam", 1e-3, "mse", 60, 64, {}),
    (
        "rgb_noisy_labels",
        "shapes4_noisy",
        800,
        400,
        "cnn",
        {"filters": (32, 64), "dense": 128},
        "adam",
        1e-3,
        "sparse",
        100,
        32,
        {},
    ),
    ("rgb_adam_too_high", "shapes4", 1000, 400, "cnn", {}, "adam", 0.3, "sparse", 25, 64, {}),
    ("rgb_rmsprop_high", "shapes4", 1000, 400, "cnn", {}, "rmsprop", 1e-2, "sparse", 40, 32, {}),
    (
        "rgb_augmented_small_val",
        "shapes4",
        1500,
        120,
        "cnn",
        {"augment": ("rotate", "shift", "zoom"), "dropout": 0.3},
        "adam",
        1e-3,
        "sparse",
        60,
        64,
        {},
    ),
    (
        "rgb_reduce_lr_overfit",
        "shapes4",
        300,
        400,
        "cnn",
        {"filters": (32, 64), "dense": 128},
        "adam",
        1e-3,
        "sparse",
        120,
        32,
        {"reduce_lr": True},
    ),
    ("rgb_sgd_momentum_long", "shapes6", 1000, 500, "cnn", {}, "sgd", 1e-2, "sparse", 150, 64, {"momentum": 0.9}),
    ("rgb_short_run", "shapes4", 1000, 400, "cnn", {}, "adam", 1e-3, "sparse", 2, 64, {}),
    (
        "rgb_underpowered_slow",
        "shapes6",
        1500,
        500,
        "cnn",
        {"filters": (4,), "dense": 8},
        "sgd",
        3e-3,
        "sparse",
        120,
        128,
        {},
    ),
    ("digits_rgb_mlp_long", "digits", 500, 1000, "mlp", {"hidden": (512, 512)}, "adam", 1e-3, "sparse", 200, 32, {}),
    (
        "digits_rgb_mlp_dropout_es",
        "digits",
        3000,
        1000,
        "mlp",
        {"hidden": (256,), "dropout": 0.5},
        "adam",
        1e-3,
        "sparse",
        120,
        128,
        {"early_stop": 8},
    ),
    (
        "digits_rgb_cnn_augmented_smoothing",
        "digits",
        1000,
        500,
        "cnn",
        {"augment": ("rotate", "shift")},
        "adam",
        1e-3,
        "smooth",
        60,
        32,
        {},
    ),
    (
        "digits_rgb_mlp_batch256_cosine",
        "digits",
        3000,
        1000,
        "mlp",
        {"hidden": (128,)},
        "adam",
        3e-3,
        "sparse",
        100,
        256,
        {"cosine": True},
    ),
    ("digits_rgb_sgd_lr_too_low", "digits", 3000, 1000, "mlp", {"hidden": (64,)}, "sgd", 1e-4, "sparse", 30, 64, {}),
    (
        "digits_rgb_binary_sigmoid_imbalanced",
        "digits_binary",
        2000,
        1000,
        "mlp",
        {"hidden": (32,)},
        "adam",
        1e-3,
        "binary_mlp",
        40,
        64,
        {},
    ),
    (
        "digits_rgb_nan",
        "digits",
        2000,
        1000,
        "mlp",
        {"hidden": (256, 256)},
        "sgd",
        5.0,
        "sparse",
        15,
        64,
        {"momentum": 0.9},
    ),
]


# The second held-out corpus (benchmarks/heldout2/): made after the first had been read, in regimes
# neither corpus had (48x48 images, BatchNormalization, GaussianNoise, AdamW, Nadam, exponential and step
# decay, warm-up then cosine, tiny validation sets), with its own seeds. Same fields as RUNS.
RUNS2 = [
    ("rgb48_cnn_adam", "shapes6@48", 400, 400, "cnn", {"filters": (16, 32, 64)}, "adam", 1e-3, "sparse", 60, 32, {}),
    ("rgb_batchnorm_cnn", "shapes4", 300, 400, "cnn", {"batchnorm": True}, "adam", 1e-3, "sparse", 60, 32, {}),
    ("rgb_adamw", "shapes4", 600, 400, "cnn", {}, "adamw", 1e-3, "sparse", 60, 32, {}),
    ("rgb_nadam_tiny_val", "shapes4", 1000, 80, "cnn", {}, "nadam", 1e-3, "sparse", 50, 32, {}),
    ("rgb_exp_decay", "shapes6", 1500, 500, "cnn", {}, "adam", 3e-3, "sparse", 50, 64, {"exp_decay": 0.93}),
    (
        "rgb_step_decay_sgd",
        "shapes4",
        300,
        400,
        "cnn",
        {},
        "sgd",
        1e-2,
        "sparse",
        60,
        32,
        {"momentum": 0.9, "step_decay": (30, 0.1)},
    ),
    ("rgb_gaussian_noise", "shapes4", 1500, 500, "cnn", {"noise": 0.1}, "adam", 1e-3, "sparse", 40, 64, {}),
    ("rgb_wide_dense", "shapes4", 500, 500, "cnn", {"dense": 512}, "adam", 1e-3, "sparse", 60, 64, {}),
    ("rgb_dropout_long", "shapes6", 800, 500, "cnn", {"dropout": 0.5}, "adam", 1e-3, "sparse", 100, 64, {}),
    ("rgb_rmsprop_noisy_labels", "shapes6_noisy", 1000, 500, "cnn", {}, "rmsprop", 1e-3, "sparse", 60, 32, {}),
    (
        "rgb_augmented_long",
        "shapes4",
        600,
        400,
        "cnn",
        {"augment": ("rotate", "shift", "zoom")},
        "adam",
        1e-3,
        "sparse",
        120,
        64,
        {},
    ),
    ("rgb_label_smoothing_big", "shapes6", 2000, 500, "cnn", {}, "adam", 1e-3, "smooth", 30, 64, {}),
    ("rgb_sigmoid_small", "shapes2", 200, 400, "cnn", {"head": "sigmoid"}, "adam", 3e-3, "binary", 50, 32, {}),
    ("rgb_imbalanced_adam", "shapes4_imbalanced", 800, 400, "cnn", {}, "adam", 1e-3, "sparse", 60, 32, {}),
    ("rgb_sgd_slow", "shapes6", 1500, 500, "cnn", {}, "sgd", 1e-3, "sparse", 40, 64, {}),
    ("rgb_tiny_cnn", "shapes6", 1500, 500, "cnn", {"filters": (2,), "dense": 4}, "adam", 1e-3, "sparse", 40, 64, {}),
    (
        "rgb_crushing_regularisation",
        "shapes4",
        1500,
        500,
        "cnn",
        {"dropout": 0.8, "l2": 0.1},
        "adam",
        1e-3,
        "sparse",
        40,
        64,
        {},
    ),
    ("rgb_sgd_far_too_high", "shapes4", 1000, 400, "cnn", {}, "sgd", 1.0, "sparse", 25, 64, {}),
    ("rgb_reduce_lr_big", "shapes6", 2000, 500, "cnn", {}, "adam", 2e-3, "sparse", 50, 64, {"reduce_lr": True}),
    ("rgb_batch128_long", "shapes4", 400, 400, "cnn", {}, "adam", 2e-3, "sparse", 120, 128, {}),
    ("digits_cnn_small_train", "digits", 300, 1000, "cnn", {}, "adam", 1e-3, "sparse", 50, 32, {}),
    ("digits_mlp_adamw", "digits", 1000, 1000, "mlp", {"hidden": (512,)}, "adamw", 1e-3, "sparse", 60, 32, {}),
    (
        "digits_mlp_early_stopping",
        "digits",
        2000,
        1000,
        "mlp",
        {"hidden": (256, 256)},
        "adam",
        1e-3,
        "sparse",
        100,
        64,
        {"early_stop": 5},
    ),
    ("digits_cnn_batchnorm", "digits", 3000, 1000, "cnn", {"batchnorm": True}, "adam", 1e-3, "sparse", 30, 64, {}),
    (
        "digits_mlp_sgd_momentum",
        "digits",
        800,
        1000,
        "mlp",
        {"hidden": (512,)},
        "sgd",
        5e-2,
        "sparse",
        80,
        32,
        {"momentum": 0.9},
    ),
    (
        "digits_mlp_exp_decay",
        "digits",
        600,
        1000,
        "mlp",
        {"hidden": (512,)},
        "adam",
        3e-3,
        "sparse",
        80,
        32,
        {"exp_decay": 0.97},
    ),
    ("digits_cnn_smoothing", "digits", 400, 500, "cnn", {}, "adam", 2e-3, "smooth", 60, 32, {}),
    ("digits_mlp_mse", "digits", 500, 1000, "mlp", {"hidden": (512,)}, "adam", 1e-3, "mse", 80, 32, {}),
    (
        "rgb_warmup_cosine",
        "shapes4",
        400,
        400,
        "cnn",
        {},
        "adam",
        2e-3,
        "sparse",
        70,
        32,
        {"warmup": 5, "cosine": True},
    ),
    ("rgb_nadam_batch16", "shapes6", 600, 400, "cnn", {}, "nadam", 5e-4, "sparse", 50, 16, {}),
]
SETS = {1: (RUNS, "heldout", 500, 900, 1), 2: (RUNS2, "heldout2", 700, 1100, 2)}


def load(name: str, train: int, val: int, seed: int, digits_order: int = 1):
    if name.startswith("digits"):
        x, y = digits_rgb(digits_order)
        if name == "digits_binary":  # "is it a 0?": about 10% positives
            y = (y == 0).astype("int32")
        return x[:train], y[:train], x[train : train + val], y[train : train + val], 2 if "binary" in name else 10
    kind, _, size = name.partition("@")
    classes = int(kind[len("shapes") :].split("_")[0])
    x, y = shapes(train + val, classes, seed, int(size or 32))
    xt, yt, xv, yv = x[:train], y[:train], x[train:], y[train:]
    if name.endswith("imbalanced"):  # class 0 is 70% of training and validation
        rng = np.random.default_rng(seed)
        keep_t = (yt == 0) | (rng.random(len(yt)) < 0.15)
        keep_v = (yv == 0) | (rng.random(len(yv)) < 0.15)
        xt, yt, xv, yv = xt[keep_t], yt[keep_t], xv[keep_v], yv[keep_v]
    if name.endswith("noisy"):  # 25% of the training labels replaced at random
        rng = np.random.default_rng(seed + 1)
        flip = rng.random(len(yt)) < 0.25
        yt = np.where(flip, rng.integers(0, classes, len(yt)), yt).astype("int32")
    return xt, yt, xv, yv, (2 if classes == 2 else classes)


def run_one(i: int, spec, corpus: int = 1) -> dict:
    import keras

    name, data, train, val, kind, kw, opt, lr, loss, epochs, batch, extra = spec
    _, _, model_seed, data_seed, digits_order = SETS[corpus]
    keras.utils.set_random_seed(model_seed + i)
    x, y, xv, yv, classes = load(data, train, val, data_seed + i, digits_order)
    shape = x.shape[1:]
    if kind == "cnn":
        model = cnn(shape, classes, **kw)
    else:
        model = mlp(shape, 1 if loss == "binary_mlp" else classes, **kw)
        if loss == "binary_mlp":
            model.pop()
            model.add(keras.layers.Dense(1, activation="sigmoid"))
    opt_kw = {"momentum": extra["momentum"]} if "momentum" in extra else {}
    optimizers = {
        "adam": keras.optimizers.Adam,
        "sgd": keras.optimizers.SGD,
        "rmsprop": keras.optimizers.RMSprop,
        "adamw": keras.optimizers.AdamW,
        "nadam": keras.optimizers.Nadam,
    }
    optimizer = optimizers[opt](learning_rate=lr, **opt_kw)
    metrics = ["accuracy"]
    if loss == "sparse":
        loss_fn = "sparse_categorical_crossentropy"
    elif loss == "smooth":
        loss_fn = keras.losses.CategoricalCrossentropy(label_smoothing=0.1)
        y, yv = keras.utils.to_categorical(y, classes), keras.utils.to_categorical(yv, classes)
    elif loss == "mse":
        loss_fn = "mean_squared_error"
        y, yv = keras.utils.to_categorical(y, classes), keras.utils.to_categorical(yv, classes)
    else:  # binary, sigmoid head
        loss_fn = "binary_crossentropy"
        y, yv = y.astype("float32"), yv.astype("float32")
    model.compile(optimizer=optimizer, loss=loss_fn, metrics=metrics)
    callbacks = []
    if extra.get("reduce_lr"):
        callbacks.append(keras.callbacks.ReduceLROnPlateau(factor=0.3, patience=5, min_lr=1e-6))
    warm = extra.get("warmup", 0)
    if extra.get("cosine"):  # after the warm-up, if any
        callbacks.append(
            keras.callbacks.LearningRateScheduler(
                lambda e: (
                    lr
                    * min(1.0, (e + 1) / warm if warm else 1.0)
                    * 0.5
                    * (1 + math.cos(math.pi * max(0, e - warm) / (epochs - warm)))
                )
            )
        )
    elif warm:
        callbacks.append(keras.callbacks.LearningRateScheduler(lambda e: lr * min(1.0, (e + 1) / warm)))
    if extra.get("exp_decay"):
        callbacks.append(keras.callbacks.LearningRateScheduler(lambda e: lr * extra["exp_decay"] ** e))
    if extra.get("step_decay"):
        at, factor = extra["step_decay"]
        callbacks.append(keras.callbacks.LearningRateScheduler(lambda e: lr * (factor if e >= at else 1.0)))
    if extra.get("early_stop"):
        callbacks.append(keras.callbacks.EarlyStopping(patience=extra["early_stop"], restore_best_weights=True))
    start = time.perf_counter()
    hist = model.fit(x, y, validation_data=(xv, yv), epochs=epochs, batch_size=batch, verbose=0, callbacks=callbacks)
    return {
        "name": name,
        "data": data,
        "train_samples": int(len(x)),
        "val_samples": int(len(xv)),
        "classes": classes,
        "model": kind,
        "model_args": {k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()},
        "optimizer": opt,
        "learning_rate": lr,
        "loss": loss_fn if isinstance(loss_fn, str) else "categorical_crossentropy(label_smoothing=0.1)",
        "epochs_planned": epochs,
        "batch_size": batch,
        "extra": extra,
        "seconds": round(time.perf_counter() - start, 2),
        "history": {k: [float(v) for v in vals] for k, vals in hist.history.items()},
    }


def labelling_sheets(folder: Path, per_sheet: int = 10) -> list[Path]:
    """Curves to label by eye, with no fitdoctor output on them: loss, accuracy and learning rate per run.

    Written to `folder/sheet-N.png` (git-ignored); each run is one row: losses (log scale) on the
    left, accuracies in the middle, the learning rate where the history has one on the right.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = sorted(folder.glob("[0-9]*.json"))
    sheets = []
    for k in range(0, len(paths), per_sheet):
        chunk = paths[k : k + per_sheet]
        fig, axes = plt.subplots(len(chunk), 3, figsize=(13, 2.1 * len(chunk)), dpi=70, squeeze=False)
        for row, path in zip(axes, chunk, strict=True):
            record = json.loads(path.read_text())
            h = {key: np.array(v, float) for key, v in record["history"].items()}
            epochs = np.arange(1, len(h["loss"]) + 1)
            row[0].plot(epochs, h["loss"], label="loss")
            row[0].plot(epochs, h["val_loss"], label="val_loss")
            row[0].set_yscale("log")
            row[0].grid(alpha=0.3, which="both")
            row[0].set_title(f"{path.stem} ({record['val_samples']} val)", fontsize=8, loc="left")
            if "accuracy" in h:
                row[1].plot(epochs, h["accuracy"])
                row[1].plot(epochs, h["val_accuracy"])
                row[1].grid(alpha=0.3)
            lr = h.get("learning_rate", h.get("lr"))
            if lr is not None:
                row[2].plot(epochs, lr, color="grey")
                row[2].set_yscale("log")
            for ax in row:
                ax.tick_params(labelsize=7)
                ax.xaxis.set_major_locator(plt.MaxNLocator(integer=True, nbins=12))
        fig.tight_layout()
        sheet = folder / f"sheet-{k // per_sheet + 1}.png"
        fig.savefig(sheet)
        plt.close(fig)
        sheets.append(sheet)
    return sheets


def main() -> int:
    args = sys.argv[1:]
    if "--sheets" in args:  # python make_heldout.py --sheets [--second]: draw the curves to label
        folder = OUT.with_name(SETS[2 if "--second" in args else 1][1])
        for sheet in labelling_sheets(folder):
            print(sheet)
        return 0
    corpus = 2 if "--second" in args else 1
    runs, folder = SETS[corpus][:2]
    out = OUT.with_name(folder)
    out.mkdir(exist_ok=True)
    only = {a for a in args if a != "--second"}
    for i, spec in enumerate(runs):
        name = f"{i:02d}_{spec[0]}"
        if only and str(i) not in only and name not in only:
            continue
        path = out / f"{name}.json"
        if path.exists() and not only:
            continue
        record = run_one(i, spec, corpus)
        path.write_text(json.dumps(record) + "\n")
        print(f"{name}: {len(record['history']['loss'])} epochs, {record['seconds']}s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
