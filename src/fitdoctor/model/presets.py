"""Starting specs (`fitdoctor spec new`): small-cnn, mlp and tiny for the digits, photo-cnn for colour
photos, commented in en or pt."""

from __future__ import annotations

import re
from pathlib import Path

from fitdoctor.errors import param_error
from fitdoctor.i18n import _, t

PRESET_DIR = Path(__file__).with_name("presets")
PRESETS = ("small-cnn", "mlp", "tiny", "photo-cnn")


def preset_text(name: str = "small-cnn", lang: str | None = None) -> str:
    """A preset spec as YAML, commented in `lang` (default: the current language).

    The comments are the catalog's `spec_comment.*` messages, placed at each `{name}` mark of
    the preset file.

    Example:
        >>> "Conv2D" in preset_text("small-cnn")
        True
    """
    if name not in PRESETS:
        raise param_error("preset", "spec new", _("one of {choices}", choices=", ".join(PRESETS)), name)
    text = (PRESET_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    return re.sub(r"\{(\w+)\}$", lambda m: t(f"spec_comment.{m.group(1)}", lang), text, flags=re.M)
