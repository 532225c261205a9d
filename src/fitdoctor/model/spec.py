"""Read a YAML spec, remember where each entry sits, fill in the defaults.

The spec is the contract of `fitdoctor train`:

    data: {image_size: [28, 28], color_mode: grayscale, batch_size: 64, augmentation: [...], resize: squash}
    model: [ {Conv2D: {...}}, Flatten, {Dense: {units: auto, activation: softmax}} ]
    compile: {optimizer: {Adam: {learning_rate: 0.001}}, loss: ..., metrics: [...]}
    fit: {epochs: 30}
    callbacks: [ {EarlyStopping: {...}} ]
    distribute: none

Loading never imports Keras; checking names against Keras happens in `fitdoctor.model.build`.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from fitdoctor.errors import UserError

DEFAULTS = {
    "data": {
        "image_size": [28, 28],
        "color_mode": "grayscale",
        "batch_size": 32,
        "augmentation": [],
        "resize": "squash",
        "invariances": [],
    },
    "compile": {"optimizer": "Adam", "loss": "SparseCategoricalCrossentropy", "metrics": ["accuracy"]},
    "fit": {"epochs": 10},
    "callbacks": [],
    "distribute": "none",
}
SECTIONS = ("data", "model", "compile", "fit", "callbacks", "distribute")
# Transforms that keep every class's label, declared by the user; the treatment flips images only then.
INVARIANCES = ("horizontal_flip", "vertical_flip", "rotation")


@dataclass
class Spec:
    """A training spec: the resolved dict, where it came from, and the line of each entry.

    Args:
        raw: The spec with defaults filled in.
        source: File name (or "<dict>").
        lines: Path tuple (e.g. ("model", 2)) -> 1-based line number in the file.
    """

    raw: dict
    source: str = "<dict>"
    lines: dict[tuple, int] = field(default_factory=dict)

    def where(self, *path) -> str:
        """'spec.yaml line 7' for an entry, or the source alone when unknown."""
        for cut in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line:
                return f"{self.source} line {line}"
        return self.source

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.raw, sort_keys=False, allow_unicode=True)

    def copy(self) -> Spec:
        return Spec(copy.deepcopy(self.raw), self.source, dict(self.lines))


def entry(item) -> tuple[str, dict]:
    """(name, arguments) of a list entry that is a bare name or a one-key mapping.

    Example:
        >>> entry({"Dense": {"units": 3}}), entry("Flatten")
        (('Dense', {'units': 3}), ('Flatten', {}))
    """
    if isinstance(item, str):
        return item, {}
    if isinstance(item, dict) and len(item) == 1:
        name, args = next(iter(item.items()))
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise UserError(f"Entry '{name}' must map to its arguments (e.g. '{name}: {{...}}'). Got {args!r} instead.")
        return str(name), args
    raise UserError(f"A spec entry must be a name or 'Name: {{arguments}}'. Got {item!r} instead.")


def _line_map(node, path: tuple, out: dict) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            _line_map(value, (*path, key.value), out)
            out[(*path, key.value)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _line_map(value, (*path, i), out)


def _merge_defaults(raw: dict) -> dict:
    spec = copy.deepcopy(raw)
    for section, default in DEFAULTS.items():
        if isinstance(default, dict):
            value = spec.get(section) or {}
            if not isinstance(value, dict):
                raise UserError(f"Section '{section}' must be a mapping. Got {value!r} instead.")
            spec[section] = {**copy.deepcopy(default), **value}
        elif section not in spec or spec[section] is None:
            spec[section] = copy.deepcopy(default)
    return spec


def load_spec(source) -> Spec:
    """Load a spec from a YAML file, a YAML string or a dict, with defaults filled in.

    Example:
        >>> s = load_spec("model:\\n  - Flatten\\n  - Dense: {units: auto, activation: softmax}\\n")
        >>> s.raw["compile"]["loss"], s.where("model", 1)
        ('SparseCategoricalCrossentropy', '<yaml> line 3')
    """
    if isinstance(source, Spec):
        return source.copy()
    if isinstance(source, dict):
        return Spec(_merge_defaults(source), "<dict>")
    text, name = source, "<yaml>"
    if isinstance(source, os.PathLike) or (
        isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml"))
    ):
        path = Path(source)
        if not path.exists():
            raise UserError(f"Spec '{path}' does not exist. Write one with 'fitdoctor spec new > spec.yaml'.")
        text, name = path.read_text(encoding="utf-8"), str(path)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark else ""
        raise UserError(
            f"Spec '{name}'{where} is not valid YAML ({getattr(exc, 'problem', exc)}). Fix that line."
        ) from None
    if not isinstance(raw, dict):
        raise UserError(f"Spec '{name}' must be a mapping with a 'model' list. Got {type(raw).__name__} instead.")
    unknown = [k for k in raw if k not in SECTIONS]
    if unknown:
        from fitdoctor.errors import closest

        hint = closest(str(unknown[0]), SECTIONS)
        raise UserError(
            f"Unknown section '{unknown[0]}' in spec '{name}'."
            + (f" Did you mean '{hint}'?" if hint else f" Sections are: {', '.join(SECTIONS)}.")
        )
    data = raw.get("data")
    if data is not None and not isinstance(data, dict):
        raise UserError(f"The 'data' section of spec '{name}' must be a mapping (image_size, color_mode, ...).")
    for key in data or {}:
        if key not in DEFAULTS["data"]:
            from fitdoctor.errors import closest

            hint = closest(str(key), list(DEFAULTS["data"]))
            raise UserError(
                f"Unknown key '{key}' in the data section of spec '{name}'."
                + (f" Did you mean '{hint}'?" if hint else f" Keys are: {', '.join(DEFAULTS['data'])}.")
            )
    declared = (data or {}).get("invariances") or []
    if not isinstance(declared, list) or any(x not in INVARIANCES for x in declared):
        raise UserError(
            f"The data.invariances of spec '{name}' must be a list of {', '.join(INVARIANCES)} "
            f"(transforms that keep every class's label). Got {declared!r} instead."
        )
    if not isinstance(raw.get("model"), list) or not raw["model"]:
        raise UserError(
            f"Spec '{name}' needs a 'model' list of layers (e.g. '- Dense: {{units: auto, activation: softmax}}')."
        )
    lines: dict[tuple, int] = {}
    _line_map(node, (), lines)
    return Spec(_merge_defaults(raw), name, lines)
