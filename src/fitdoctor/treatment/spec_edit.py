"""Small, pure helpers that read and edit a spec dict (never Keras objects)."""

from __future__ import annotations

from fitdoctor.model.spec import entry

DEFAULT_LR = {
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


def layers(raw: dict) -> list[tuple[str, dict]]:
    """(name, args) for each model layer."""
    return [entry(item) for item in raw["model"]]


def set_layer(raw: dict, index: int, name: str, args: dict) -> None:
    raw["model"][index] = {name: args} if args else name


def output_index(raw: dict) -> int:
    """Index of the output layer: the last Dense."""
    names = [n for n, _ in layers(raw)]
    return max(i for i, n in enumerate(names) if n == "Dense")


def hidden(raw: dict, kinds=TRAINABLE) -> list[int]:
    """Indices of the hidden trainable layers (not the output)."""
    out = output_index(raw)
    return [i for i, (n, _) in enumerate(layers(raw)) if n in kinds and i != out]


def widest_dense(raw: dict) -> int | None:
    dense = [i for i in hidden(raw, ("Dense",))]
    if not dense:
        return None
    return max(dense, key=lambda i: (int(layers(raw)[i][1].get("units", 0)), -i))


def optimizer(raw: dict) -> tuple[str, dict]:
    name, args = entry(raw["compile"]["optimizer"])
    return name, dict(args)


def learning_rate(raw: dict) -> float:
    name, args = optimizer(raw)
    lr = args.get("learning_rate")
    return float(lr) if isinstance(lr, int | float) else DEFAULT_LR.get(name.lower(), 0.001)


def set_optimizer_arg(raw: dict, key: str, value) -> None:
    name, args = optimizer(raw)
    args[key] = value
    raw["compile"]["optimizer"] = {name: args}


def callback_index(raw: dict, name: str) -> int | None:
    for i, item in enumerate(raw.get("callbacks") or []):
        if entry(item)[0] == name:
            return i
    return None


def describe_layer(name: str, args: dict) -> str:
    """'Dense(1024)' style label for messages."""
    key = args.get("units", args.get("filters", args.get("rate", "")))
    return f"{name}({key})" if key != "" else name
