"""Small, pure edits of a spec dict (never Keras objects); reading is `fitdoctor.model.reading`."""

from __future__ import annotations

from fitdoctor.model.reading import optimizer


def set_layer(raw: dict, index: int, name: str, args: dict) -> None:
    """Write layer `index` back as a bare name (no arguments) or `{name: args}`."""
    raw["model"][index] = {name: args} if args else name


def set_optimizer_arg(raw: dict, key: str, value) -> None:
    """Set one argument of the optimizer, keeping the others."""
    name, args = optimizer(raw)
    args[key] = value
    raw["compile"]["optimizer"] = {name: args}
