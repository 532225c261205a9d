"""The loader: a split folder in, labelled arrays out, with clear errors for folders it cannot use."""

import numpy as np
import pytest

from fitdoctor.data.loader import load_split
from fitdoctor.errors import UserError
from tests.conftest import make_class_folder


def _split(root, counts):
    for split in ("train", "val"):
        make_class_folder(root / split, counts, start_seed=0 if split == "train" else 100)
    return root


def test_images_and_labels_follow_the_class_folders(tmp_path):
    data = load_split(_split(tmp_path / "s", {"cat": 3, "dog": 2}), image_size=(16, 16))
    x, y = data.arrays["train"]
    assert data.class_names == ["cat", "dog"] and x.shape == (5, 16, 16, 1) and x.dtype == np.uint8
    assert sorted(y.tolist()) == [0, 0, 0, 1, 1]
    assert data.num_classes == 2 and not data.streaming and "decoded in memory" in data.how


def test_class_weights_only_for_imbalanced_classes(tmp_path):
    assert load_split(_split(tmp_path / "a", {"cat": 3, "dog": 3}), image_size=(8, 8)).class_weights() is None
    weights = load_split(_split(tmp_path / "b", {"cat": 6, "dog": 2}), image_size=(8, 8)).class_weights()
    assert weights == {0: 8 / (2 * 6), 1: 8 / (2 * 2)}


def test_folders_it_cannot_use_are_one_line_errors(tmp_path):
    make_class_folder(tmp_path / "noval" / "train", {"cat": 2, "dog": 2})
    with pytest.raises(UserError, match=r"has no val/ folder"):
        load_split(tmp_path / "noval", image_size=(8, 8))
    _split(tmp_path / "one", {"cat": 2})
    with pytest.raises(UserError, match=r"has 1 class folder\(s\); a classifier needs at least 2"):
        load_split(tmp_path / "one", image_size=(8, 8))
    root = _split(tmp_path / "bad", {"cat": 2, "dog": 2})
    (root / "train" / "cat" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(UserError, match=r"broken.png' cannot be read as an image"):
        load_split(root, image_size=(8, 8))
