"""Starting specs (`fitdoctor spec new`): small-cnn, mlp and tiny, commented in en or pt."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from fitdoctor.errors import param_error

PRESET_DIR = Path(__file__).with_name("presets")
PRESETS = ("small-cnn", "mlp", "tiny")


def preset_text(name: str = "small-cnn", lang: str = "en") -> str:
    """A preset spec as commented YAML.

    Example:
        >>> "Conv2D" in preset_text("small-cnn")
        True
    """
    if name not in PRESETS:
        raise param_error("preset", "spec new", "one of small-cnn, mlp, tiny", name)
    lang = "pt" if lang.startswith("pt") else "en"
    comments = yaml.safe_load((PRESET_DIR / "comments.yaml").read_text(encoding="utf-8"))[lang]
    text = (PRESET_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    return re.sub(r"\{(\w+)\}$", lambda m: comments.get(m.group(1), m.group(0)), text, flags=re.M)
