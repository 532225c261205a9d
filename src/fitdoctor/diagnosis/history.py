"""Load training histories from every form people have them in.

A Keras History dict as JSON, a `CSVLogger` CSV, a fitdoctor run directory, a
`keras.callbacks.History` object, an OverfitGuard-style JSON (`train_metric` and
`monitor_metric` name the series), PyTorch Lightning's `metrics.csv`, the Hugging Face
Trainer's `trainer_state.json` and TensorBoard event folders (see `formats`). Series names
are normalised (`acc` -> `accuracy`, `train_loss` -> `loss`, `eval_loss` -> `val_loss`);
NaN and inf are kept, since they are evidence.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fitdoctor.errors import UserError
from fitdoctor.i18n import _

ALIASES = {
    "acc": "accuracy",
    "val_acc": "val_accuracy",
    "train_loss": "loss",
    "train_acc": "accuracy",
    "train_accuracy": "accuracy",
    "validation_loss": "val_loss",
    "valid_loss": "val_loss",
    "sparse_categorical_accuracy": "accuracy",
    "val_sparse_categorical_accuracy": "val_accuracy",
    "categorical_accuracy": "accuracy",
    "val_categorical_accuracy": "val_accuracy",
    "binary_accuracy": "accuracy",
    "val_binary_accuracy": "val_accuracy",
    "learning_rate": "lr",
    "eval_loss": "val_loss",
    "eval_accuracy": "val_accuracy",
    "eval_acc": "val_accuracy",
    "val_acc_epoch": "val_accuracy",
}

VALIDATION_NAMES = ("val_loss", "val_accuracy")


def near_validation_name(names) -> tuple[str, str] | None:
    """(series, meant) when a history without validation has a series named almost like one.

    A typo such as `val_los` leaves a history with no validation curve; the diagnosis says so and
    names the series it probably meant. Only close spellings count (difflib ratio 0.8 or more),
    and never the training twin: `accuracy` is not taken for `val_accuracy`.

    Example:
        >>> near_validation_name(["loss", "val_los"])
        ('val_los', 'val_loss')
        >>> near_validation_name(["loss", "accuracy"]) is None
        True
    """
    import difflib

    for name in names:
        for meant in VALIDATION_NAMES:
            if name in (meant, meant[len("val_") :]):  # the curve itself, or its training twin
                continue
            if difflib.SequenceMatcher(None, name.lower(), meant).ratio() >= 0.8:
                return name, meant
    return None


@dataclass
class History:
    """Per-epoch series plus what is known about the run.

    Args:
        series: name -> float array (one value per epoch; NaN where missing).
        source: Where it came from (a path or "<object>").
        num_classes: Number of classes when known (for the chance-level loss).
        loss_name: The loss function's name when known.
        stats: Optional statistics from the live callback (gradient norms, dead ReLUs).
        spec: The training spec when read from a run directory.
        val_samples: Size of the validation set when known (a run directory's counts).
        gaps: Series -> 1-based epochs that had no value (null, blank): read between their
            neighbours (or from the nearest epoch at either end), never taken for a NaN.
        trimmed_from: When the series had unequal lengths, the longest length before they were
            cut to the shortest one.
    """

    series: dict[str, np.ndarray]
    source: str = "<object>"
    num_classes: int | None = None
    loss_name: str | None = None
    stats: dict = field(default_factory=dict)
    spec: dict | None = None
    val_samples: int | None = None
    gaps: dict[str, list[int]] = field(default_factory=dict)
    trimmed_from: int | None = None

    @property
    def epochs(self) -> int:
        return max((len(v) for v in self.series.values()), default=0)

    def get(self, name: str) -> np.ndarray | None:
        values = self.series.get(name)
        return values if values is not None and len(values) else None


def _to_float(value, null_is_nan: bool = False) -> float | None:
    """A number, None for a missing value (null, blank), or raise ValueError for text that is no number."""
    if value is None and null_is_nan:
        return math.nan
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(value)
    return float(value)


def _parse_series(name: str, values: list, source: str, null_is_nan: bool) -> tuple[np.ndarray, list[int]]:
    """The series as floats with its gaps filled, and the 1-based epochs that were gaps."""
    parsed, bad = [], []
    for i, value in enumerate(values):
        try:
            parsed.append(_to_float(value, null_is_nan))
        except (TypeError, ValueError):
            bad.append(i)
            parsed.append(None)
    if bad:
        shown = ", ".join(f"{i + 1} ({values[i]!r})" for i in bad[:3])
        raise UserError(
            _(
                "'{source}': series '{value}' has values that are not numbers at epoch(s) {shown}. Pass numbers (null"
                " for an epoch without a value).",
                source=source,
                value=name,
                shown=shown,
            )
        )
    gaps = [i for i, v in enumerate(parsed) if v is None]
    out = np.array([math.nan if v is None else v for v in parsed], dtype=float)
    known = np.array([i for i, v in enumerate(parsed) if v is not None])
    if gaps and len(known):
        out[gaps] = np.interp(gaps, known, out[known])  # between neighbours; the nearest one at the ends
    return out, [i + 1 for i in gaps]


def from_dict(data: dict, source: str = "<object>", *, null_is_nan: bool = False) -> History:
    """Build a History from a Keras History dict (or an OverfitGuard-style dict).

    A value that is text but no number is an error naming the series and epochs. A null or
    blank value is an epoch without a value (a gap, see `History.gaps`), unless `null_is_nan`
    (fitdoctor's own history.json, where JSON has no NaN): then it is the NaN it stands for.
    Series of unequal lengths are cut to the shortest (`History.trimmed_from`).

    Example:
        >>> from_dict({"loss": [1, 0.5], "val_acc": [0.5, 0.6]}).series["val_accuracy"].tolist()
        [0.5, 0.6]
    """
    if "history" in data and isinstance(data["history"], dict):
        data = {**data["history"], **{k: v for k, v in data.items() if k != "history"}}
    if isinstance(data.get("log_history"), list):
        from fitdoctor.diagnosis.formats import from_trainer_state

        data = from_trainer_state(data, source)
    renames = {}
    if "train_metric" in data or "monitor_metric" in data:
        for key, target in (("train_metric", "loss"), ("monitor_metric", "val_loss")):
            name = data.get(key)
            if isinstance(name, str) and name in data:
                is_acc = "acc" in name.lower()
                renames[name] = target.replace("loss", "accuracy") if is_acc else target
    series, gaps = {}, {}
    for name, values in data.items():
        if not isinstance(values, list) or (values and isinstance(values[0], dict | list)):
            continue
        key = renames.get(name) or ALIASES.get(name, name)
        if key in ("epoch", "step"):
            continue
        parsed, missing = _parse_series(name, values, source, null_is_nan)
        if len(missing) < len(values):  # a series of nothing but gaps says nothing
            series[key] = parsed
            if missing:
                gaps[key] = missing
    if not any(k in series for k in ("loss", "val_loss", "accuracy", "val_accuracy")):
        raise UserError(
            _(
                "'{source}' has no loss or accuracy series (found: {found}). Pass a Keras History (loss, val_loss, "
                "...) or a CSVLogger file.",
                source=source,
                found=", ".join(sorted(series)) or _("none"),
            )
        )
    lengths = {len(v) for v in series.values()}
    trimmed_from = None
    if len(lengths) > 1:  # a series cut short: judge the epochs they all have
        trimmed_from, shortest = max(lengths), min(lengths)
        series = {k: v[:shortest] for k, v in series.items()}
        gaps = {k: [e for e in v if e <= shortest] for k, v in gaps.items()}
    stats = data.get("fitdoctor_stats") if isinstance(data.get("fitdoctor_stats"), dict) else {}
    return History(
        series=series,
        source=source,
        stats=stats,
        num_classes=data.get("num_classes") if isinstance(data.get("num_classes"), int) else None,
        gaps={k: v for k, v in gaps.items() if v},
        trimmed_from=trimmed_from,
    )


def _text(path: Path) -> str:
    """A history file's text; a binary or non-UTF-8 file is a one-line error."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(
            _(
                "'{path}' is not UTF-8 text (byte {start} cannot be read). Pass a Keras History JSON or a CSVLogger "
                "CSV.",
                path=path,
                start=exc.start,
            )
        ) from None
    except OSError as exc:
        raise UserError(
            _(
                "'{path}' cannot be read ({strerror}). Pass a history file you can read.",
                path=path,
                strerror=exc.strerror,
            )
        ) from None


def from_csv(path: Path) -> History:
    """Read a `keras.callbacks.CSVLogger` file (an `epoch` column and one column per series)."""
    rows = list(csv.DictReader(io.StringIO(_text(path), newline="")))
    if not rows:
        raise UserError(_("'{path}' has no rows. Pass a CSVLogger file with at least one epoch.", path=path))
    from fitdoctor.diagnosis.formats import grouped_rows

    columns = grouped_rows(rows) or {name: [row.get(name) for row in rows] for name in rows[0] if name}
    return from_dict(columns, str(path))


def from_run_dir(path: Path) -> History:
    """Read a fitdoctor run directory: its history, the live callback's statistics, run.json and the spec."""
    from fitdoctor.rundir import HISTORY, HISTORY_CSV, RunDir

    run = RunDir(path)
    if run.has_history():
        history = from_json(run / HISTORY, null_is_nan=True)  # fitdoctor writes NaN and inf as null
    elif (run / HISTORY_CSV).exists():
        history = from_csv(run / HISTORY_CSV)
    else:
        raise UserError(_("'{path}' has no history.json or history.csv. Pass a fitdoctor run directory.", path=path))
    history.source = str(path)
    history.stats = run.stats() or {}
    info = run.info()
    history.num_classes = info.get("num_classes", history.num_classes)
    history.loss_name = info.get("loss")
    val_counts = (info.get("counts") or {}).get("val")
    if isinstance(val_counts, dict) and val_counts:
        history.val_samples = int(sum(val_counts.values()))
    history.spec = run.spec_raw()
    return history


def from_json(path: Path, *, null_is_nan: bool = False) -> History:
    try:
        data = json.loads(_text(path))
    except json.JSONDecodeError as exc:
        raise UserError(
            _(
                "'{path}' is not valid JSON ({msg}, line {lineno}). Pass a Keras History JSON.",
                path=path,
                msg=exc.msg,
                lineno=exc.lineno,
            )
        ) from None
    if not isinstance(data, dict):
        raise UserError(
            _(
                "'{path}' holds a JSON {kind}, not an object. Pass a Keras History JSON.",
                path=path,
                kind=type(data).__name__,
            )
        )
    return from_dict(data, str(path), null_is_nan=null_is_nan)


def load_history(source) -> History:
    """Load any supported input: a path (JSON, CSV, run directory), a dict, or a Keras History.

    Example:
        >>> load_history({"loss": [0.9, 0.4]}).epochs
        2
    """
    if isinstance(source, History):
        return source
    if isinstance(source, dict):
        return from_dict(source)
    if hasattr(source, "history") and isinstance(source.history, dict):
        return from_dict(dict(source.history))
    path = Path(os.fspath(source))
    if not path.exists():
        raise UserError(
            _("'{path}' does not exist. Pass a history JSON, a CSVLogger CSV or a run directory.", path=path)
        )
    from fitdoctor.diagnosis import formats

    if path.is_dir():
        from fitdoctor.rundir import HISTORY, HISTORY_CSV

        own = (path / HISTORY).exists() or (path / HISTORY_CSV).exists()
        for name in ("metrics.csv", "trainer_state.json"):  # a Lightning or Hugging Face run folder
            if (path / name).is_file() and not own:
                return load_history(path / name)
        if not own and formats.find_tensorboard(path):
            return from_dict(formats.from_tensorboard(path), str(path))
        return from_run_dir(path)
    if formats.find_tensorboard(path):
        return from_dict(formats.from_tensorboard(path), str(path))
    if path.suffix.lower() in (".csv", ".log", ".tsv"):
        return from_csv(path)
    return from_json(path)
