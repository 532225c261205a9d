"""The one reader of a spec dict: what its layers, optimizer, initializers and callbacks say.

Building the model (`model/build.py`), ranking the remedies (`diagnosis/prescriptions.py`)
and applying them (`treatment/remedies/`) all read a spec through these functions, so a
fact such as "this initializer is Zeros" or "Adam's usual learning rate" is decided once.
Edits live in `treatment/spec_edit.py`. Pure Python: no Keras import.

Example:
    >>> raw = {"model": ["Flatten", {"Dense": {"units": 64, "kernel_initializer": {"Zeros": {}}}},
    ...                  {"Dense": {"units": "auto", "activation": "softmax"}}],
    ...        "compile": {"optimizer": "SGD"}}
    >>> hidden(raw), is_constant_initializer(layers(raw)[1][1]["kernel_initializer"]), learning_rate(raw)
    ([1], True, 0.01)
"""

from __future__ import annotations

from fitdoctor.model.spec import entry

# Keras's own default learning rate of each optimizer (keras.optimizers.<Name>().learning_rate).
USUAL_LR = {
    "adam": 0.001,
    "adamw": 0.001,
    "sgd": 0.01,
    "rmsprop": 0.001,
    "adagrad": 0.001,
    "nadam": 0.001,
    "adamax": 0.001,
    "adadelta": 0.001,
    "ftrl": 0.001,
    "lion": 0.0001,
}
TRAINABLE = ("Dense", "Conv2D", "Conv1D", "Conv3D", "SeparableConv2D", "DepthwiseConv2D")
CONSTANT_INITIALIZERS = ("zeros", "ones", "constant")


def norm(name: object) -> str:
    """A Keras name compared loosely: case and underscores ignored ("he_normal" == "HeNormal")."""
    return str(name).replace("_", "").lower()


def layers(raw: dict) -> list[tuple[str, dict]]:
    """(name, args) of each model layer, in order."""
    return [entry(item) for item in raw["model"]]


def output_index(raw: dict) -> int:
    """Index of the output layer: the last Dense."""
    names = [n for n, _args in layers(raw)]
    return max(i for i, n in enumerate(names) if n == "Dense")


def hidden(raw: dict, kinds=TRAINABLE) -> list[int]:
    """Indices of the hidden trainable layers (not the output)."""
    out = output_index(raw)
    return [i for i, (n, _args) in enumerate(layers(raw)) if n in kinds and i != out]


def widest_dense(raw: dict) -> int | None:
    """Index of the hidden Dense layer with the most units (the first of equals), or None."""
    dense = hidden(raw, ("Dense",))
    if not dense:
        return None
    return max(dense, key=lambda i: (int(layers(raw)[i][1].get("units", 0)), -i))


def optimizer(raw: dict) -> tuple[str, dict]:
    """(name, args) of the optimizer."""
    name, args = entry(raw["compile"]["optimizer"])
    return name, dict(args)


def usual_lr(name: str) -> float:
    """Keras's default learning rate for an optimizer name (0.001 for one it does not list)."""
    return USUAL_LR.get(norm(name), 0.001)


def learning_rate(raw: dict) -> float:
    """The optimizer's learning rate: the spec's, else the optimizer's usual one."""
    name, args = optimizer(raw)
    lr = args.get("learning_rate")
    return float(lr) if isinstance(lr, int | float) else usual_lr(name)


def callback_index(raw: dict, name: str) -> int | None:
    """Index of the first callback called `name`, or None."""
    for i, item in enumerate(raw.get("callbacks") or []):
        if entry(item)[0] == name:
            return i
    return None


def initializer_name(value) -> str:
    """The loose name of an initializer written as "Zeros", "zeros" or {Zeros: {...}} ("" for anything else)."""
    return norm(entry(value)[0]) if isinstance(value, dict | str) and value else ""


def is_constant_initializer(value) -> bool:
    """Zeros, Ones or Constant: every unit starts the same and learns the same thing."""
    return initializer_name(value) in CONSTANT_INITIALIZERS


def is_zeros_initializer(value) -> bool:
    return initializer_name(value) == "zeros"


def describe_layer(name: str, args: dict) -> str:
    """'Dense(1024)' style label for messages."""
    key = args.get("units", args.get("filters", args.get("rate", "")))
    return f"{name}({key})" if key != "" else name


def context(raw: dict | None) -> dict:
    """What a spec already does, for ranking remedies: augmentation, dropout, L2, early stopping,
    batch normalisation, constant initializers, the optimizer and its learning rate, whether its
    images suit a pretrained base (RGB, 32x32 or more) and whether it has one.

    A spec that cannot be read (a hand-made dict) gives what could be read.
    """
    from fitdoctor.errors import UserError

    ctx = {
        "augmentation": False,
        "max_dropout": 0.0,
        "l2": False,
        "early_stopping": False,
        "constant_init": False,
        "batchnorm": False,
        "lr": None,
        "optimizer": None,
        "photos": False,  # RGB images of at least 32x32: a pretrained ImageNet base can take them
        "pretrained": False,  # a keras.applications base is already in the model
    }
    if not raw:
        return ctx
    try:
        data = raw.get("data") or {}
        ctx["augmentation"] = bool(data.get("augmentation"))
        ctx["photos"] = data.get("color_mode") == "rgb" and min(data.get("image_size") or [0]) >= 32
        for name, args in layers(raw) if raw.get("model") else []:
            if name == "Dropout":
                ctx["max_dropout"] = max(ctx["max_dropout"], float(args.get("rate", 0)))
            ctx["batchnorm"] |= name == "BatchNormalization"
            ctx["l2"] |= "kernel_regularizer" in args
            ctx["constant_init"] |= is_constant_initializer(args.get("kernel_initializer"))
            ctx["augmentation"] |= name.startswith("Random")
            ctx["pretrained"] |= "include_top" in args or "weights" in args  # how application entries are written
        ctx["early_stopping"] = callback_index(raw, "EarlyStopping") is not None
        if (raw.get("compile") or {}).get("optimizer"):
            name, args = optimizer(raw)
            ctx["optimizer"], ctx["lr"] = norm(name), args.get("learning_rate")
    except (UserError, TypeError, ValueError, AttributeError):
        pass
    return ctx
