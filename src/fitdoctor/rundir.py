"""The run directory: every file name in it and every read and write of it, in one place.

`fitdoctor train` fills one run directory; `fitdoctor fix` fills one per round under
`rounds/NN/` and adds its own files beside them. Everything that reads or writes these
files (training, resume, the treatment loop, diagnosis of a run folder, the report, the
learning-rate finder) goes through `RunDir`, so the layout is written down here only and
the README's "Run directory" section describes this class.

A run (`train`, or one round of `fix`):

| file | what it holds |
|---|---|
| `spec.yaml` | the spec as resolved (defaults filled in) |
| `run.json` | classes, class names, counts per split, loss, seed, data folder, timings |
| `history.json` | the Keras History (`{"loss": [...], ...}`); NaN and inf are written as null |
| `history.csv` | the same, in `keras.callbacks.CSVLogger` columns |
| `state.json` | the last committed epoch and the callbacks' counters (resume) |
| `best.keras`, `last.keras` | the best and the last model (plain Keras files) |
| `metrics.json` | `{"val": {...}, "test": {...}}`: the best model on each split (`test` only when evaluated) |
| `diagnosis.json` | the live callback's last diagnosis, first-flag epochs and sampled statistics |
| `run.log` | the progress lines |
| `lr-find.json`, `lr-find.png` | the learning-rate range test (`fitdoctor lr-find`) |

A treatment (`fix`) adds `treatment.json` (rounds, remedies, chosen round, test accuracy
before and after: keys and numbers only), `final.keras`, `final-spec.yaml` and
`summary.en.txt` / `summary.pt.txt`; the report is `report.html` (`report.pt.html` in
Portuguese).

Example:
    >>> import tempfile
    >>> run = RunDir(tempfile.mkdtemp())
    >>> run.write_metrics({"accuracy": 0.9, "loss": 0.3})
    >>> run.metrics()
    {'val': {'accuracy': 0.9, 'loss': 0.3}}
    >>> run.round(2).path.name, run.has_history()
    ('02', False)
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path

from fitdoctor.fsio import write_json, write_text

SPEC = "spec.yaml"
INFO = "run.json"
HISTORY = "history.json"
HISTORY_CSV = "history.csv"
STATE = "state.json"
BEST = "best.keras"
LAST = "last.keras"
ES_WEIGHTS = "earlystopping-best.weights.h5"
METRICS = "metrics.json"
DIAGNOSIS = "diagnosis.json"
LOG = "run.log"
LR_FIND = "lr-find.json"
LR_FIND_PLOT = "lr-find.png"
TREATMENT = "treatment.json"
FINAL_MODEL = "final.keras"
FINAL_SPEC = "final-spec.yaml"
ROUNDS = "rounds"
OWN_FILES = (SPEC, INFO, HISTORY, HISTORY_CSV, STATE, BEST, LAST, ES_WEIGHTS, METRICS, DIAGNOSIS, LOG,
             LR_FIND, LR_FIND_PLOT, TREATMENT, FINAL_MODEL, FINAL_SPEC)  # fmt: skip


def history_csv(history: dict[str, list]) -> str:
    """The history as `keras.callbacks.CSVLogger` writes it: `epoch` then sorted keys.

    Example:
        >>> print(history_csv({"loss": [0.5, 0.25]}), end="")
        epoch,loss
        0,0.5
        1,0.25
    """
    keys = sorted(history)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    n = max((len(v) for v in history.values()), default=0)
    for i in range(n):
        writer.writerow([i, *[history[k][i] if i < len(history[k]) else "" for k in keys]])
    return buf.getvalue()


def _lang_suffix(lang: str) -> str:
    return "pt" if lang.startswith("pt") else "en"


class RunDir:
    """One run directory (a `train` run, a `fix` run or one of its rounds).

    Args:
        path: The folder.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __truediv__(self, name: str) -> Path:
        return self.path / name

    # --- reading ---------------------------------------------------------------------------------------
    def read_json(self, name: str):
        """The JSON file `name` of this run, or None when it is not there."""
        path = self.path / name
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))

    def has_history(self) -> bool:
        return (self.path / HISTORY).is_file()

    def history(self, epochs: int | None = None) -> dict[str, list[float]]:
        """history.json with null read back as NaN, cut to `epochs` when given ({} when absent)."""
        data = self.read_json(HISTORY) or {}
        return {k: [math.nan if v is None else v for v in vals][:epochs] for k, vals in data.items()}

    def info(self) -> dict:
        """run.json ({} when absent)."""
        return self.read_json(INFO) or {}

    def state(self) -> dict | None:
        """state.json: the last committed epoch (None for a run with no committed epoch)."""
        return self.read_json(STATE)

    def metrics(self) -> dict:
        """metrics.json as `{"val": {...}, "test": {...}}` ({} when absent).

        Runs written before the shape was fixed kept the test metrics at the top level; they
        are read into the same shape.
        """
        data = self.read_json(METRICS) or {}
        if "test" not in data and data.get("split") == "test":
            data = {"val": data.get("val", {}), "test": {k: v for k, v in data.items() if k != "val"}}
        return data

    def diagnosis_record(self) -> dict:
        """diagnosis.json, the live callback's record ({} when absent)."""
        return self.read_json(DIAGNOSIS) or {}

    def stats(self) -> dict | None:
        """The statistics the live callback sampled (gradient norms, dead-ReLU fractions), if any."""
        stats = self.diagnosis_record().get("stats")
        return stats if stats and stats.get("epochs") else None

    def spec_raw(self) -> dict | None:
        """spec.yaml as a dict (None when absent)."""
        path = self.path / SPEC
        if not path.is_file():
            return None
        import yaml

        return yaml.safe_load(path.read_text(encoding="utf-8"))

    def treatment(self) -> dict | None:
        """treatment.json of a `fix` run (None for a plain run)."""
        return self.read_json(TREATMENT)

    def round(self, k: int) -> RunDir:
        """Round `k` of a `fix` run."""
        return RunDir(self.path / ROUNDS / f"{k:02d}")

    def main_run(self) -> RunDir:
        """The run a report describes: the kept round of a `fix` run, else this run."""
        record = self.treatment()
        return self.round(record.get("chosen_round") or 0) if record else self

    def summary_path(self, lang: str) -> Path:
        return self.path / f"summary.{_lang_suffix(lang)}.txt"

    def report_path(self, lang: str) -> Path:
        return self.path / ("report.html" if _lang_suffix(lang) == "en" else "report.pt.html")

    # --- writing (atomic: temp file, fsync, os.replace) -------------------------------------------------
    def write_history(self, history: dict[str, list]) -> None:
        """history.csv then history.json (NaN and inf as null)."""
        write_text(self.path / HISTORY_CSV, history_csv(history))
        write_json(self.path / HISTORY, history)

    def write_info(self, info: dict) -> None:
        write_json(self.path / INFO, info)

    def write_state(self, state: dict) -> None:
        write_json(self.path / STATE, state)

    def write_metrics(self, val: dict, test: dict | None = None) -> None:
        """metrics.json, always `{"val": ..., "test": ...}` (`test` only when evaluated)."""
        write_json(self.path / METRICS, {"val": val, **({"test": test} if test is not None else {})})

    def write_diagnosis(self, doc: dict) -> None:
        write_json(self.path / DIAGNOSIS, doc)

    def write_treatment(self, doc: dict) -> None:
        write_json(self.path / TREATMENT, doc)
