"""Atomic model files: a kill never leaves a truncated `best.keras` or `last.keras`.

Within a run the files also wait under pending names until `state.json` commits their
epoch (see `training.state`), so a kill between the two never pairs one epoch's model
with another epoch's counters.
"""

from __future__ import annotations

import os

import keras

from fitdoctor.fsio import fsync_path, pending_name, temp_name


def save_model_file(model, path: str | os.PathLike) -> None:
    """`model.save` (`save_weights` for a `.weights.h5` name), then fsync: on disk when it returns."""
    if str(path).endswith(".weights.h5"):
        model.save_weights(path, overwrite=True)
    else:
        model.save(path, overwrite=True)
    fsync_path(path)


class AtomicModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """Keras's `ModelCheckpoint`, writing each file under a temp name first.

    Same arguments and decisions as `keras.callbacks.ModelCheckpoint`; only the write is
    made atomic (temp file, fsync, `os.replace`).

    Args:
        *args: As `keras.callbacks.ModelCheckpoint`.
        journal: If a list, the file is written under its epoch's `pending_name` and
            `(pending, final)` is appended; the journal's owner renames it once the
            epoch is committed. Without it the file takes its final name at once.
        **kwargs: As `keras.callbacks.ModelCheckpoint`.
    """

    def __init__(self, *args, journal: list | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.journal = journal

    def _get_file_path(self, epoch, batch, logs):
        self._final = super()._get_file_path(epoch, batch, logs)
        self._written = temp_name(self._final) if self.journal is None else pending_name(self._final, epoch + 1)
        return self._written

    def _save_model(self, epoch, batch, logs):
        self._final = None
        super()._save_model(epoch, batch, logs)
        if not self._final or not os.path.exists(self._written):
            return  # not saved this epoch (save_best_only)
        fsync_path(self._written)
        if self.journal is None:
            os.replace(self._written, self._final)
        else:
            self.journal.append((self._written, self._final))
