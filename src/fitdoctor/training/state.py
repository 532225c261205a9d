"""What a run must keep to resume after kill -9 exactly where it was.

After each epoch, in this order: `last.keras` (weights and optimizer state), the
EarlyStopping best weights when they changed, `history.csv` and `history.json`, and
last `state.json`, the commit point: the epoch count and the counters of the callbacks
(EarlyStopping wait/best, ReduceLROnPlateau wait/best/cooldown, checkpoint best). On
resume, everything is cut back to what `state.json` says was committed.
"""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import keras
import numpy as np

from fitdoctor.fsio import write_json, write_text
from fitdoctor.training.checkpoint import save_model_atomic

STATE_ATTRS = {
    "EarlyStopping": ("wait", "best", "best_epoch", "stopped_epoch"),
    "ReduceLROnPlateau": ("wait", "best", "cooldown_counter"),
    "AtomicModelCheckpoint": ("best",),
    "ModelCheckpoint": ("best",),
}
ES_WEIGHTS = "earlystopping-best.weights.h5"


def _plain(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return {"float": repr(value)}
    return value


def _unplain(value):
    if isinstance(value, dict) and "float" in value:
        return float(value["float"])
    return value


def callback_states(callbacks: list) -> list[dict]:
    out = []
    for cb in callbacks:
        attrs = STATE_ATTRS.get(type(cb).__name__)
        out.append({"class": type(cb).__name__, **({a: _plain(getattr(cb, a, None)) for a in attrs} if attrs else {})})
    return out


def history_csv(history: dict[str, list]) -> str:
    """The history as `keras.callbacks.CSVLogger` writes it: `epoch` then sorted keys."""
    keys = sorted(history)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["epoch", *keys])
    n = max((len(v) for v in history.values()), default=0)
    for i in range(n):
        writer.writerow([i, *[history[k][i] if i < len(history[k]) else "" for k in keys]])
    return buf.getvalue()


class RunState(keras.callbacks.Callback):
    """Saves the run's state after each epoch; must come last in the callback list.

    Args:
        run_dir: The run directory.
        tracked: The callbacks whose counters are saved (and restored on resume).
        history: The history so far (resumed runs pass what was committed).
        doctor: The run's FitDoctor, whose first-flag epochs are saved too.
    """

    def __init__(self, run_dir: Path, tracked: list, history: dict[str, list], doctor=None, on_epoch=None):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.tracked = tracked
        self.history = history
        self.doctor = doctor
        self.on_epoch = on_epoch
        self.pending: list[dict] | None = None
        self._es_best = {}

    def on_train_begin(self, logs=None):
        if self.pending:
            for cb, saved in zip(self.tracked, self.pending, strict=False):
                if saved.get("class") != type(cb).__name__:
                    continue
                for key, value in saved.items():
                    if key != "class":
                        setattr(cb, key, _unplain(value))
                if (
                    type(cb).__name__ == "EarlyStopping"
                    and cb.restore_best_weights
                    and (self.run_dir / ES_WEIGHTS).exists()
                ):
                    current = self.model.get_weights()
                    self.model.load_weights(self.run_dir / ES_WEIGHTS)
                    cb.best_weights = self.model.get_weights()
                    self.model.set_weights(current)
            self.pending = None
        self._es_best = {id(cb): getattr(cb, "best", None) for cb in self.tracked}

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        save_model_atomic(self.model, self.run_dir / "last.keras")
        for cb in self.tracked:
            if type(cb).__name__ == "EarlyStopping" and cb.restore_best_weights and cb.best_weights is not None:
                if getattr(cb, "best", None) != self._es_best.get(id(cb)):
                    current = self.model.get_weights()
                    self.model.set_weights(cb.best_weights)
                    save_model_atomic(self.model, self.run_dir / ES_WEIGHTS)
                    self.model.set_weights(current)
                    self._es_best[id(cb)] = cb.best
        write_text(self.run_dir / "history.csv", history_csv(self.history))
        write_json(self.run_dir / "history.json", self.history)
        state = {
            "epoch": epoch + 1,
            "callbacks": callback_states(self.tracked),
            "flagged": dict(self.doctor.flagged) if self.doctor else {},
            "optimizer_iterations": int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)),
        }
        write_json(self.run_dir / "state.json", state)
        if self.on_epoch:
            self.on_epoch(epoch, logs or {})


def load_state(run_dir: Path) -> dict | None:
    path = Path(run_dir) / "state.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def committed_history(run_dir: Path, epochs: int) -> dict[str, list]:
    """history.json cut back to the committed epochs (no gaps, no repeats)."""
    path = Path(run_dir) / "history.json"
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {k: [float("nan") if v is None else v for v in vals][:epochs] for k, vals in data.items()}
