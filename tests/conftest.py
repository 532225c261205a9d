"""Shared fixtures: small image folders built in tmp_path."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def fitdoctor_argv(*args) -> list[str]:
    """The command line that runs `fitdoctor ARGS...` in a new process with this interpreter."""
    return [sys.executable, "-m", "fitdoctor", *map(str, args)]


@pytest.fixture(autouse=True)
def _own_scan_cache(tmp_path_factory, monkeypatch):
    """Each test gets its own, empty scan cache (never the user's ~/.cache)."""
    monkeypatch.setenv("FITDOCTOR_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


def make_png(path: Path, seed: int, size: int = 16) -> Path:
    """A random greyscale PNG, different for each seed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size, size), dtype=np.uint8), mode="L").save(path)
    return path


def make_smooth_png(path: Path, seed: int, size: int = 48) -> Path:
    """A smooth random picture (blurred blobs), whose perceptual hash survives resizing."""
    from PIL import ImageFilter

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 255, (6, 6), dtype=np.uint8), mode="L")
    small.resize((size, size), Image.Resampling.BICUBIC).filter(ImageFilter.GaussianBlur(2)).save(path)
    return path


def make_class_folder(root: Path, counts: dict[str, int], start_seed: int = 0) -> Path:
    """`root/<class>/<i>.png` with `counts[class]` distinct random images each."""
    seed = start_seed
    for label, n in counts.items():
        for i in range(n):
            make_png(root / label / f"{i:03d}.png", seed)
            seed += 1
    return root


def tree_hashes(root: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under root (links followed)."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture
def class_folder(tmp_path: Path) -> Path:
    return make_class_folder(tmp_path / "src", {"cat": 10, "dog": 10, "fox": 5})


@pytest.fixture(scope="session")
def tiny_split(tmp_path_factory) -> Path:
    """The demo digits, 12 per class, split 6/3/3: a real split folder that trains in seconds."""
    from fitdoctor.data.demo_set import write_demo_set
    from fitdoctor.data.split import split_folder

    root = tmp_path_factory.mktemp("tiny")
    write_demo_set(root / "digits", limit_per_class=12)
    split_folder(root / "digits", root / "split", ratio=(0.5, 0.25, 0.25), seed=0)
    return root / "split"


SMALL_SPEC = """\
data: {image_size: [28, 28], color_mode: grayscale, batch_size: 16}
model:
  - Flatten
  - Dense: {units: 32, activation: relu}
  - Dense: {units: auto, activation: softmax}
compile: {optimizer: {Adam: {learning_rate: 0.001}}, loss: SparseCategoricalCrossentropy, metrics: [accuracy]}
fit: {epochs: 2}
"""
