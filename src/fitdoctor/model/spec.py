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

from fitdoctor.errors import UserError, did_you_mean
from fitdoctor.i18n import _

DEFAULTS = {
    "data": {
        "image_size": [28, 28],
        "color_mode": "grayscale",
        "batch_size": 32,
        "augmentation": [],
        "resize": "squash",
        "invariances": [],
        "memory_budget": "4GiB",
    },
    "compile": {"optimizer": "Adam", "loss": "SparseCategoricalCrossentropy", "metrics": ["accuracy"]},
    "fit": {"epochs": 10},
    "callbacks": [],
    "distribute": "none",
}
SECTIONS = ("data", "model", "compile", "fit", "callbacks", "distribute")
FIT_KEYS = ("epochs", "seed", "fine_tune")
FINE_TUNE_KEYS = ("unfreeze", "epochs", "learning_rate")
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

    def line(self, *path) -> int | None:
        """The spec line of an entry (or of its closest known parent), when the spec came from YAML."""
        for cut in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line:
                return line
        return None

    def where(self, *path) -> str:
        """'spec.yaml line 7' for an entry, or the source alone when unknown."""
        line = self.line(*path)
        return _("{source} line {line}", source=self.source, line=line) if line else self.source

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
            raise UserError(
                _(
                    "Entry '{value}' must map to its arguments (e.g. '{value}: {{...}}'). Got {args!r} instead.",
                    value=name,
                    args=args,
                )
            )
        return str(name), args
    raise UserError(_("A spec entry must be a name or 'Name: {{arguments}}'. Got {item!r} instead.", item=item))


MAX_SPEC_BYTES = 1_000_000
MAX_LAYERS = 1000


def _read_spec_file(path: Path) -> str:
    """A spec file's text: a folder, a missing, huge or binary file is a one-line error."""
    if path.is_dir():
        raise UserError(
            _(
                "Spec '{path}' is a folder. Pass a YAML file (write one with 'fitdoctor spec new > spec.yaml').",
                path=path,
            )
        )
    if not path.exists():
        raise UserError(_("Spec '{path}' does not exist. Write one with 'fitdoctor spec new > spec.yaml'.", path=path))
    if path.stat().st_size > MAX_SPEC_BYTES:
        raise UserError(
            _(
                "Spec '{path}' is {size} bytes; a spec is a short YAML file. Pass the right file.",
                path=path,
                size=path.stat().st_size,
            )
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(
            _(
                "Spec '{path}' is not UTF-8 text (byte {start} cannot be read). Pass a YAML file.",
                path=path,
                start=exc.start,
            )
        ) from None
    if "\x00" in text:
        raise UserError(_("Spec '{path}' is a binary file, not YAML text. Pass the spec's YAML file.", path=path))
    return text


def _refuse_aliases(node, name: str) -> None:
    """Refuse YAML anchors and aliases: a 1 KB file of nested aliases expands to billions of entries."""
    seen: set[int] = set()
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if getattr(current, "anchor", None) or id(current) in seen:
            raise UserError(
                _(
                    "Spec '{value}' line {line} uses a YAML anchor or alias (& or *), which fitdoctor does not "
                    "expand. Write the values out.",
                    value=name,
                    line=current.start_mark.line + 1,
                )
            )
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            for key, value in current.value:
                stack.extend((key, value))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


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
                raise UserError(
                    _("Section '{section}' must be a mapping. Got {value!r} instead.", section=section, value=value)
                )
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
        spec = Spec(_merge_defaults(source), "<dict>")
        check_fields(spec)
        return spec
    text, name = source, "<yaml>"
    if isinstance(source, os.PathLike) or (
        isinstance(source, str)
        and "\n" not in source
        and (source.endswith((".yaml", ".yml")) or os.path.exists(source) or os.sep in source)
    ):
        text, name = _read_spec_file(Path(source)), str(source)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        _refuse_aliases(node, name)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = " ".join(str(getattr(exc, "problem", exc)).split())
        if mark:
            message = _(
                "Spec '{spec}' line {line} is not valid YAML ({problem}). Fix that line.",
                spec=name,
                line=mark.line + 1,
                problem=problem,
            )
        else:
            message = _("Spec '{spec}' is not valid YAML ({problem}). Fix it.", spec=name, problem=problem)
        raise UserError(message) from None
    if not isinstance(raw, dict):
        raise UserError(
            _(
                "Spec '{value}' must be a mapping with a 'model' list. Got {name} instead.",
                value=name,
                name=type(raw).__name__,
            )
        )
    unknown = [k for k in raw if k not in SECTIONS]
    if unknown:
        raise UserError(
            _("Unknown section '{section}' in spec '{spec}'.", section=unknown[0], spec=name)
            + did_you_mean(unknown[0], SECTIONS, show_choices=True)
        )
    data = raw.get("data")
    if data is not None and not isinstance(data, dict):
        raise UserError(
            _("The 'data' section of spec '{value}' must be a mapping (image_size, color_mode, ...).", value=name)
        )
    for key in data or {}:
        if key not in DEFAULTS["data"]:
            raise UserError(
                _("Unknown key '{key}' in the data section of spec '{spec}'.", key=key, spec=name)
                + did_you_mean(key, DEFAULTS["data"], show_choices=True)
            )
    declared = (data or {}).get("invariances") or []
    if not isinstance(declared, list) or any(x not in INVARIANCES for x in declared):
        raise UserError(
            _(
                "The data.invariances of spec '{value}' must be a list of {invariances} (transforms that keep every "
                "class's label). Got {declared!r} instead.",
                value=name,
                invariances=", ".join(INVARIANCES),
                declared=declared,
            )
        )
    if not isinstance(raw.get("model"), list) or not raw["model"]:
        raise UserError(
            _(
                "Spec '{value}' needs a 'model' list of layers (e.g. '- Dense: {{units: auto, activation: softmax}}').",
                value=name,
            )
        )
    lines: dict[tuple, int] = {}
    _line_map(node, (), lines)
    spec = Spec(_merge_defaults(raw), name, lines)
    check_fields(spec)
    return spec


CHOICES = {
    ("data", "color_mode"): ("grayscale", "rgb", "rgba"),
    ("data", "resize"): ("squash", "crop", "pad"),
    ("distribute",): ("none", "mirrored", "multi_worker"),
}


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_fields(spec: Spec) -> None:
    """Types and ranges of the spec's settings, checked before anything is built or trained.

    Example:
        >>> try:
        ...     load_spec("model: [Flatten]\\nfit: {epochs: two}\\n")
        ... except UserError as err:
        ...     print(str(err).split(" must")[0])
        The 'fit.epochs' of spec '<yaml>' line 2
    """

    def need(ok: bool, path: tuple, what: str) -> None:
        if ok:
            return
        value = spec.raw
        for key in path:
            value = value[key]
        values = {"path": ".".join(map(str, path)), "spec": spec.source, "what": what, "value": value}
        line = spec.line(*path)
        if line:
            raise UserError(
                _(
                    "The '{path}' of spec '{spec}' line {line} must be {what}. Got {value!r} instead.",
                    line=line,
                    **values,
                )
            )
        raise UserError(_("The '{path}' of spec '{spec}' must be {what}. Got {value!r} instead.", **values))

    layers = len(spec.raw["model"])
    if layers > MAX_LAYERS:
        raise UserError(
            _(
                "The model of spec '{source}' lists {layers} layers; fitdoctor builds at most {max_layers}. Check the"
                " model list (a generated spec may have repeated it).",
                source=spec.source,
                layers=layers,
                max_layers=MAX_LAYERS,
            )
        )
    d = spec.raw["data"]
    need(
        _whole(spec.raw["fit"].get("epochs")) and spec.raw["fit"]["epochs"] >= 1,
        ("fit", "epochs"),
        _(_("a whole number >= 1")),
    )
    need(_whole(d["batch_size"]) and d["batch_size"] >= 1, ("data", "batch_size"), _("a whole number >= 1"))
    size = d["image_size"]
    need(
        isinstance(size, list) and len(size) == 2 and all(_whole(x) and 1 <= x <= 8192 for x in size),
        ("data", "image_size"),
        _("[height, width], two whole numbers from 1 to 8192"),
    )
    for path, choices in CHOICES.items():
        value = spec.raw
        for key in path:
            value = value[key]
        need(value in choices, path, _("one of {choices}", choices=", ".join(choices)))
    from fitdoctor.data.loader import parse_bytes

    try:
        parse_bytes(d["memory_budget"])
    except UserError:
        need(False, ("data", "memory_budget"), _("a size such as 512MB or 4GB"))
    for section in ("augmentation",):
        need(isinstance(d[section], list), ("data", section), _("a list of Keras layers"))
    need(isinstance(spec.raw["callbacks"], list), ("callbacks",), _("a list of Keras callbacks"))
    fit = spec.raw["fit"]
    need(isinstance(fit, dict), ("fit",), _("a mapping (epochs, fine_tune)"))
    for key in fit:
        if key not in FIT_KEYS:
            raise UserError(
                _("Unknown key '{key}' in the fit section of spec '{spec}'.", key=key, spec=spec.where("fit", key))
                + did_you_mean(key, FIT_KEYS, show_choices=True)
            )
    tune = fit.get("fine_tune")
    if tune is not None:
        need(isinstance(tune, dict), ("fit", "fine_tune"), _("a mapping with unfreeze, epochs and learning_rate"))
        for key in tune:
            if key not in FINE_TUNE_KEYS:
                raise UserError(
                    _(
                        "Unknown key '{key}' in fit.fine_tune of spec '{spec}'.",
                        key=key,
                        spec=spec.where("fit", "fine_tune", key),
                    )
                    + did_you_mean(key, FINE_TUNE_KEYS, show_choices=True)
                )
        unfreeze = tune.get("unfreeze", "all")
        need(
            unfreeze == "all" or (_whole(unfreeze) and unfreeze >= 1),
            ("fit", "fine_tune", "unfreeze"),
            _("a whole number of layers >= 1, or all"),
        )
        need(
            _whole(tune.get("epochs")) and tune["epochs"] >= 1,
            ("fit", "fine_tune", "epochs"),
            _("a whole number >= 1"),
        )
        rate = tune.get("learning_rate", 1e-5)
        if isinstance(rate, str):  # YAML 1.1 reads 1e-5 (no dot) as text
            try:
                rate = tune["learning_rate"] = float(rate)
            except ValueError:
                pass
        need(
            isinstance(rate, int | float) and not isinstance(rate, bool) and 0 < rate < 1,
            ("fit", "fine_tune", "learning_rate"),
            _("a number between 0 and 1 (e.g. 1e-5: fine-tuning needs a low rate)"),
        )
