"""Import TensorFlow (and Keras) once, without the start-up chatter on stderr.

`TF_CPP_MIN_LOG_LEVEL=2` is set first, as TensorFlow documents; TensorFlow 2.21 still
prints a few absl lines before its logging starts, so stderr is parked in a temp file
during the import and replayed only if the import fails.
"""

from __future__ import annotations

import os
import sys
import tempfile

from fitdoctor.i18n import _


def import_quietly() -> None:
    """Import tensorflow and keras with the C++ start-up logs hidden (a no-op if already imported)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    missing = False
    with tempfile.TemporaryFile() as parked:
        os.dup2(parked.fileno(), 2)
        try:
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
        except ModuleNotFoundError as exc:
            if exc.name != "tensorflow":
                _replay(parked, saved)
                raise
            missing = True
        except BaseException:
            _replay(parked, saved)
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    if missing:
        from fitdoctor.errors import UserError

        raise UserError(
            _(
                "TensorFlow is not installed in this environment, and fitdoctor trains with it. Install any "
                "TensorFlow 2.18 or later: 'pip install tensorflow' (or 'pip install \"fitdoctor[cpu]\"')."
            )
        )


def _replay(parked, saved: int) -> None:
    """Put stderr back and write what the failed import printed to it."""
    os.dup2(saved, 2)
    parked.seek(0)
    sys.stderr.write(parked.read().decode("utf-8", "replace"))
