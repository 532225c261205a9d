"""What a run must keep to resume after kill -9 exactly where it was.

After each epoch, in this order: the model files are written under hidden pending
names (`best.keras` when it improved, `last.keras` with weights and optimizer state,
the EarlyStopping best weights when they changed), then `history.csv` and
`history.json`, then `state.json`, the commit point: the epoch count, the counters of
the callbacks (EarlyStopping wait/best, ReduceLROnPlateau wait/best/cooldown,
checkpoint best) and the list of pending files. Only then do the pending files take
their final names.

On resume (`recover`), a committed epoch's renames are finished, uncommitted files are
removed, and the history is cut back to the committed epochs: the model, the optimizer
and the counters always come from the same epoch.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import keras
import numpy as np

from fitdoctor.fsio import fsync_path, pending_name, remove_stale_temps
from fitdoctor.rundir import ES_WEIGHTS, LAST, RunDir
from fitdoctor.training.checkpoint import save_model_file

STATE_ATTRS = {
    "EarlyStopping": ("wait", "best", "best_epoch", "stopped_epoch"),
    "ReduceLROnPlateau": ("wait", "best", "cooldown_counter"),
    "AtomicModelCheckpoint": ("best",),
    "ModelCheckpoint": ("best",),
}


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


class RunState(keras.callbacks.Callback):
    """Saves the run's state after each epoch; must come last in the callback list.

    Args:
        run_dir: The run directory.
        tracked: The callbacks whose counters are saved (and restored on resume).
        history: The history so far (resumed runs pass what was committed).
        doctor: The run's FitDoctor, whose first-flag epochs are saved too.
        journal: The list the run's `AtomicModelCheckpoint` appends its pending files to.
        saved_callbacks: On resume, the callbacks' counters from `state.json`, restored when
            training begins.
    """

    def __init__(
        self, run_dir: Path, tracked: list, history: dict[str, list], doctor=None, journal=None, saved_callbacks=None
    ):
        super().__init__()
        self.run_dir = Path(run_dir)
        self.run = RunDir(run_dir)
        self.tracked = tracked
        self.history = history
        self.doctor = doctor
        self.journal = [] if journal is None else journal
        self.saved_callbacks: list[dict] | None = saved_callbacks  # counters to restore on resume
        self._es_best = {}
        self.phase: dict = {}  # with fine_tune: {"boundary": the epoch the head phase ended, or None before}

    def on_train_begin(self, logs=None):
        if self.saved_callbacks:
            for cb, saved in zip(self.tracked, self.saved_callbacks, strict=False):
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
            self.saved_callbacks = None
        self._es_best = {id(cb): getattr(cb, "best", None) for cb in self.tracked}

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self._stage(self.run_dir / LAST, epoch)
        for cb in self.tracked:
            if type(cb).__name__ == "EarlyStopping" and cb.restore_best_weights and cb.best_weights is not None:
                if getattr(cb, "best", None) != self._es_best.get(id(cb)):
                    current = self.model.get_weights()
                    self.model.set_weights(cb.best_weights)
                    self._stage(self.run_dir / ES_WEIGHTS, epoch)
                    self.model.set_weights(current)
                    self._es_best[id(cb)] = cb.best
        self.run.write_history(self.history)
        state = {
            "epoch": epoch + 1,
            "callbacks": callback_states(self.tracked),
            "flagged": dict(self.doctor.flagged) if self.doctor else {},
            "optimizer_iterations": int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)),
            "stopped": bool(getattr(self.model, "stop_training", False)),
            "commit": [[Path(p).name, Path(f).name] for p, f in self.journal],
            **self.phase,
        }
        self.run.write_state(state)
        finish_commit(self.run_dir, state)
        self.journal.clear()

    def _stage(self, path: Path, epoch: int) -> None:
        pending = pending_name(path, epoch + 1)  # a kill mid-write leaves it uncommitted: removed on resume
        save_model_file(self.model, pending)
        self.journal.append((pending, str(path)))


def finish_commit(run_dir: Path, state: dict) -> None:
    """Give a committed epoch's pending files their final names (again after a kill: idempotent)."""
    for pending, final in state.get("commit", []):
        if (Path(run_dir) / pending).exists():
            os.replace(Path(run_dir) / pending, Path(run_dir) / final)
    fsync_path(run_dir)


def recover(run_dir: Path) -> dict | None:
    """The committed state of an interrupted run, with its files made to match it.

    Finishes the committed epoch's renames, then removes what a kill left unfinished
    (temp files, an uncommitted epoch's pending files). Returns None for a run with no
    committed epoch.
    """
    state = RunDir(run_dir).state()
    if state:
        finish_commit(run_dir, state)
    remove_stale_temps(run_dir)
    return state
