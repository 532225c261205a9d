"""Histories from other tools: Lightning's metrics.csv, Hugging Face's trainer_state.json, TensorBoard logs.

Each reader returns plain per-epoch series (name -> list of floats, NaN where an epoch has no
value) that `history.from_dict` then normalises like any Keras History:

- PyTorch Lightning's `CSVLogger` writes one row per logging call: training and validation
  values on alternate rows with blank cells, `*_step` and `*_epoch` variants, and `epoch` and
  `step` columns. Rows are grouped by epoch; an epoch-level value wins over step values, which
  are averaged (what Keras reports for an epoch).
- The Hugging Face `Trainer`'s `trainer_state.json` holds `log_history`: training losses every
  `logging_steps` at fractional epochs and `eval_*` entries. Entries are grouped by the epoch
  they fall in (`ceil(epoch)`), training losses averaged, the last evaluation kept.
- TensorBoard event files (Keras's `TensorBoard` callback: `train/` and `validation/` folders,
  `epoch_loss`-style tags; or tags like `Loss/train`, `Loss/val`). Reading them needs the
  `tensorboard` package (`pip install "fitdoctor[tensorboard]"`) for its protocol buffers only:
  TensorFlow is never imported.
"""

from __future__ import annotations

import math
import struct
from collections import defaultdict
from pathlib import Path

from fitdoctor.errors import UserError
from fitdoctor.i18n import _

TFEVENTS = "events.out.tfevents."
MAX_RECORD = 64 * 1024 * 1024  # an event record larger than this is not a scalar log: refuse, do not allocate
SKIPPED_HF = ("runtime", "per_second", "flos", "epoch", "step", "grad_norm", "total_")
VALIDATION_PARTS = {"validation", "val", "valid", "eval", "test"}


def _float(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _by_epoch(per_epoch: dict[str, dict[int, list[float]]]) -> dict[str, list[float | None]]:
    """{name: {epoch: [values]}} -> {name: [mean value per epoch, None where none]}, epochs renumbered from 0."""
    epochs = sorted({e for values in per_epoch.values() for e in values})
    out = {}
    for name, values in per_epoch.items():
        out[name] = [sum(values[e]) / len(values[e]) if values.get(e) else None for e in epochs]
    return out


def grouped_rows(rows: list[dict]) -> dict[str, list[float]] | None:
    """A CSV whose rows are logging calls (Lightning), collapsed to one value per epoch; None for one row per epoch.

    Example:
        >>> rows = [{"epoch": "0", "step": "9", "train_loss": "1.0", "val_loss": ""},
        ...         {"epoch": "0", "step": "9", "train_loss": "", "val_loss": "1.2"},
        ...         {"epoch": "1", "step": "19", "train_loss": "0.5", "val_loss": ""},
        ...         {"epoch": "1", "step": "19", "train_loss": "", "val_loss": "0.9"}]
        >>> grouped_rows(rows)
        {'train_loss': [1.0, 0.5], 'val_loss': [1.2, 0.9]}
    """
    if not rows or "epoch" not in rows[0]:
        return None
    epochs = [_float(r.get("epoch")) for r in rows]
    if len({e for e in epochs if math.isfinite(e)}) == len(rows):
        return None  # one row per epoch: a plain CSVLogger file
    columns = [c for c in rows[0] if c and c not in ("epoch", "step")]
    bases = {c.removesuffix("_epoch").removesuffix("_step") for c in columns}
    per_epoch: dict[str, dict[int, list[float]]] = {}
    for base in sorted(bases):
        # an epoch-level column (name or name_epoch) wins over the step-level one
        for column in (base, f"{base}_epoch", f"{base}_step"):
            if column not in columns:
                continue
            values: dict[int, list[float]] = defaultdict(list)
            for epoch, row in zip(epochs, rows, strict=True):
                value = _float(row.get(column))
                if math.isfinite(epoch) and not math.isnan(value):
                    values[int(epoch)].append(value)
            if values:
                per_epoch[base] = values
                break
    return _by_epoch(per_epoch)


def from_trainer_state(data: dict, source: str) -> dict[str, list[float]]:
    """The per-epoch series of a Hugging Face `trainer_state.json` (its `log_history`).

    Example:
        >>> log = [{"loss": 1.0, "epoch": 0.5}, {"loss": 0.8, "epoch": 1.0},
        ...        {"eval_loss": 0.9, "eval_accuracy": 0.7, "epoch": 1.0},
        ...        {"loss": 0.5, "epoch": 2.0}, {"eval_loss": 0.85, "eval_accuracy": 0.72, "epoch": 2.0},
        ...        {"train_runtime": 12.0, "train_loss": 0.7, "epoch": 2.0}]
        >>> from_trainer_state({"log_history": log}, "trainer_state.json")
        {'loss': [0.9, 0.5], 'eval_loss': [0.9, 0.85], 'eval_accuracy': [0.7, 0.72]}
    """
    log = data.get("log_history")
    if not isinstance(log, list):
        raise UserError(_("'{source}' has no log_history list. Pass the Trainer's trainer_state.json.", source=source))
    per_epoch: dict[str, dict[int, list[float]]] = defaultdict(dict)
    for entry in log:
        if not isinstance(entry, dict) or "train_runtime" in entry:
            continue  # the end-of-training summary repeats an average, not an epoch
        position = _float(entry.get("epoch"))
        if math.isnan(position):
            continue
        epoch = max(1, math.ceil(position - 1e-9))  # epoch 0.5 and 1.0 are both in the first epoch
        for key, value in entry.items():
            if any(part in key for part in SKIPPED_HF):
                continue
            number = _float(value)
            if math.isnan(number) and value is not None:
                continue
            slot = per_epoch[key].setdefault(epoch, [])
            if key.startswith("eval_") or key == "learning_rate":
                slot[:] = [number]  # the last evaluation (and rate) of the epoch
            else:
                slot.append(number)
    if not per_epoch:
        raise UserError(
            _("'{source}' logs no loss in log_history. Pass a trainer_state.json of a run that logged.", source=source)
        )
    return _by_epoch(per_epoch)


def _events(path: Path):
    """The Event messages of one TensorBoard event file (TFRecord framing, protocol buffers)."""
    try:
        from tensorboard.compat.proto import event_pb2
    except ImportError:
        raise UserError(
            _(
                "'{path}' is a TensorBoard log; reading it needs the tensorboard package. Install it with: pip "
                'install "fitdoctor[tensorboard]" (TensorFlow is not needed).',
                path=path,
            )
        ) from None
    with open(path, "rb") as f:
        while True:
            header = f.read(12)
            if len(header) < 12:
                return
            (length,) = struct.unpack("<Q", header[:8])
            if length > MAX_RECORD:
                raise UserError(
                    _(
                        "'{path}' has a record of {length} bytes: not a TensorBoard scalar log.",
                        path=path,
                        length=length,
                    )
                )
            data = f.read(length)
            f.read(4)
            if len(data) < length:
                return  # a last record still being written
            try:
                yield event_pb2.Event.FromString(data)
            except Exception:  # noqa: BLE001 - protobuf raises its own DecodeError
                raise UserError(
                    _("'{path}' is not a TensorBoard event file (a record does not decode).", path=path)
                ) from None


def _scalar(value) -> float | None:
    kind = value.WhichOneof("value")
    if kind == "simple_value":
        return float(value.simple_value)
    if kind != "tensor":
        return None
    t = value.tensor
    if t.float_val:
        return float(t.float_val[0])
    if t.double_val:
        return float(t.double_val[0])
    if t.tensor_content and t.dtype in (1, 2):  # DT_FLOAT, DT_DOUBLE
        fmt, size = ("<f", 4) if t.dtype == 1 else ("<d", 8)
        return float(struct.unpack(fmt, t.tensor_content[:size])[0]) if len(t.tensor_content) >= size else None
    return None


def _series_name(tag: str, validation_folder: bool) -> str | None:
    """Keras's `epoch_loss` in train/ or validation/, or tags like `Loss/train` and `val/accuracy`."""
    name = tag.lower()
    if name.startswith(("batch_", "evaluation_")):
        return None
    parts = [p for p in name.replace(" ", "_").split("/") if p]
    split = "val" if validation_folder else "train"
    for part in list(parts):
        if part in VALIDATION_PARTS or part in ("train", "training"):
            split = "val" if part in VALIDATION_PARTS else "train"
            parts.remove(part)
    if not parts:
        return None
    metric = "_".join(parts).removeprefix("epoch_")
    if metric.startswith(("val_", "validation_")):
        return metric
    return f"val_{metric}" if split == "val" else metric


def from_tensorboard(path: Path) -> dict[str, list[float]]:
    """The per-epoch scalars of a TensorBoard log folder (or one event file), by step."""
    files = [path] if path.is_file() else sorted(p for p in path.rglob(f"{TFEVENTS}*") if p.is_file())
    per_epoch: dict[str, dict[int, list[float]]] = defaultdict(dict)
    for file in files:
        folders = {p.lower() for p in file.relative_to(path).parent.parts} if path.is_dir() else set()
        validation = bool(folders & VALIDATION_PARTS)
        for event in _events(file):
            for value in event.summary.value:
                name = _series_name(value.tag, validation)
                number = _scalar(value)
                if name is not None and number is not None:
                    per_epoch[name][int(event.step)] = [number]
    if not per_epoch:
        raise UserError(
            _("'{path}' holds no scalar in its TensorBoard events. Pass the folder a run logged to.", path=path)
        )
    return _by_epoch(per_epoch)


def find_tensorboard(path: Path) -> bool:
    """Whether a folder (or file) is a TensorBoard log: event files in it or in its sub-folders (two levels)."""
    if path.is_file():
        return path.name.startswith(TFEVENTS)
    return any(p.name.startswith(TFEVENTS) for pattern in ("*", "*/*", "*/*/*") for p in path.glob(pattern))
