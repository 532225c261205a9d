"""The bundled demo data set: 5,000 MNIST digits (500 per class), 28x28 greyscale.

MNIST by Yann LeCun and Corinna Cortes, CC BY-SA 3.0 (see ATTRIBUTION.txt beside this
file). `write_demo_set` writes them as `DEST/<digit>/<n>.png`.
"""

from __future__ import annotations

import os
from pathlib import Path

from fitdoctor.errors import UserError
from fitdoctor.i18n import _
from fitdoctor.validation import RULES, validate_params

NPZ_PATH = Path(__file__).with_name("digits.npz")
ATTRIBUTION = Path(__file__).with_name("ATTRIBUTION.txt").read_text(encoding="utf-8").strip()


def load_digits():
    """The demo digits as `(images uint8 [5000, 28, 28], labels uint8 [5000])`."""
    import numpy as np

    with np.load(NPZ_PATH) as data:
        return data["images"], data["labels"]


@validate_params(RULES["demo_set"], where="demo-set")
def write_demo_set(dest: str | os.PathLike, *, limit_per_class: int | None = None) -> int:
    """Write the digits as PNG files, one folder per class; return how many were written.

    Refuses a non-empty DEST unless it already holds exactly this set (then it is kept).

    Args:
        dest: The folder to create.
        limit_per_class: Write only the first N digits of each class (default: all 500).

    Example:
        >>> import tempfile
        >>> write_demo_set(tempfile.mkdtemp() + "/digits", limit_per_class=2)
        20
    """
    from PIL import Image

    from fitdoctor.fsio import atomic_open

    dest = Path(dest)
    images, labels = load_digits()
    wanted: list[tuple[Path, int]] = []
    seen: dict[int, int] = {}
    for i, label in enumerate(labels.tolist()):
        n = seen.get(label, 0)
        if limit_per_class is not None and n >= limit_per_class:
            continue
        seen[label] = n + 1
        wanted.append((dest / str(label) / f"{n:03d}.png", i))
    if dest.exists() and any(dest.iterdir()):
        existing = {p for p in dest.rglob("*") if p.is_file()}
        if existing == {p for p, _index in wanted}:
            return 0
        raise UserError(
            _("Folder '{dest}' is not empty. Pass a new folder for the demo set; nothing was written.", dest=dest)
        )
    for path, i in wanted:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_open(path, "wb") as f:
            Image.fromarray(images[i], mode="L").save(f, format="PNG")
    return len(wanted)
