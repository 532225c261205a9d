"""Atomic model files: a kill never leaves a truncated `best.keras` or `last.keras`."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import keras


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def save_model_atomic(model, path: str | os.PathLike) -> None:
    """`model.save` to a temp `.keras` file beside `path`, fsync, then `os.replace`."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    try:
        if str(path).endswith(".weights.h5"):
            tmp = path.with_name(f".{path.name[: -len('.weights.h5')]}.tmp.weights.h5")
            model.save_weights(tmp, overwrite=True)
        else:
            model.save(tmp, overwrite=True)
        _fsync(str(tmp))
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


class AtomicModelCheckpoint(keras.callbacks.ModelCheckpoint):
    """Keras's `ModelCheckpoint`, writing each file under a temp name first.

    Same arguments and decisions as `keras.callbacks.ModelCheckpoint`; only the write is
    made atomic (temp file, fsync, `os.replace`).
    """

    def _get_file_path(self, epoch, batch, logs):
        real = super()._get_file_path(epoch, batch, logs)
        self._pending = real
        head, name = os.path.split(real)
        if name.endswith(".weights.h5"):
            return os.path.join(head, f".{name[:-11]}.tmp.weights.h5")
        stem, ext = os.path.splitext(name)
        return os.path.join(head, f".{stem}.tmp{ext}")

    def _save_model(self, epoch, batch, logs):
        self._pending = None
        super()._save_model(epoch, batch, logs)
        real = self._pending
        if real:
            head, name = os.path.split(real)
            tmp = self._get_file_path(epoch, batch, logs)
            if os.path.exists(tmp):
                _fsync(tmp)
                os.replace(tmp, real)
