"""A split folder -> Keras-ready `tf.data` datasets, with class names, counts and weights.

Images are decoded once with Pillow (the decoder `inspect` checked them with) as a viewer
shows them (`upright.viewer_pixels`: EXIF orientation, first frame, 16-bit, CMYK and alpha
handled; large JPEGs decoded at a reduced scale in draft mode), resized, and kept as uint8
arrays; later epochs never decode again. A folder whose decoded images would exceed
`max_memory_bytes` is refused with a clear error (there is no streaming mode yet).
TensorFlow is imported only when datasets are built.
"""

from __future__ import annotations

import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fitdoctor.data.images import SPLIT_NAMES, list_class_files
from fitdoctor.errors import UserError

COLOR_MODES = {"grayscale": ("L", 1), "rgb": ("RGB", 3), "rgba": ("RGBA", 4)}
RESIZE_MODES = ("squash", "crop", "pad")  # Keras: plain resize, crop_to_aspect_ratio, pad_to_aspect_ratio
MAX_MEMORY_BYTES = 4 * 1024**3
_CACHE: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


@dataclass
class SplitData:
    """Arrays (or file lists) per split, the class names and what training needs to know."""

    root: Path
    class_names: list[str]
    image_size: tuple[int, int]
    channels: int
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    paths: dict[str, list[str]] = field(default_factory=dict)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def class_weights(self) -> dict[int, float]:
        """'Balanced' weights from the train split: total / (classes * count)."""
        _, y = self.arrays["train"]
        counts = np.bincount(y, minlength=self.num_classes)
        total = counts.sum()
        return {i: float(total / (self.num_classes * c)) if c else 0.0 for i, c in enumerate(counts)}

    def dataset(
        self,
        split: str,
        *,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int | None = None,
        one_hot: bool = False,
        augment=None,
    ):
        """A batched `tf.data.Dataset` of (float32 images in [0, 1], labels) for one split."""
        import tensorflow as tf

        x, y = self.arrays[split]
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        if shuffle:
            ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size)
        depth = self.num_classes

        def prep(images, labels):
            images = tf.cast(images, tf.float32) / 255.0
            if one_hot:
                labels = tf.one_hot(labels, depth)
            return images, labels

        ds = ds.map(prep, num_parallel_calls=tf.data.AUTOTUNE)
        if augment is not None:
            ds = ds.map(lambda a, b: (augment(a, training=True), b), num_parallel_calls=tf.data.AUTOTUNE)
        return ds.prefetch(tf.data.AUTOTUNE)


def fit_aspect(im, size: tuple[int, int], resize: str):
    """Crop (centred) or pad (black, centred) `im` to the aspect ratio of `size` (height, width), as Keras does.

    Example:
        >>> from PIL import Image
        >>> wide = Image.new("RGB", (400, 100))
        >>> fit_aspect(wide, (50, 50), "crop").size, fit_aspect(wide, (50, 50), "pad").size
        ((100, 100), (400, 400))
    """
    from PIL import Image

    w, h = im.size
    target = size[1] / size[0]
    if resize == "squash" or abs(w / h - target) < 1e-6:
        return im
    if resize == "crop":
        cw, ch = (round(h * target), h) if w / h > target else (w, round(w / target))
        left, top = (w - cw) // 2, (h - ch) // 2
        return im.crop((left, top, left + cw, top + ch))
    pw, ph = (w, round(w / target)) if w / h > target else (round(h * target), h)
    canvas = Image.new(im.mode, (pw, ph))
    canvas.paste(im, ((pw - w) // 2, (ph - h) // 2))
    return canvas


def _decode(args: tuple[str, list[str], tuple[int, int], str, str]) -> np.ndarray:
    from PIL import Image

    from fitdoctor.data.upright import viewer_pixels

    root, rels, size, mode, resize = args
    out = []
    for rel in rels:
        path = os.path.join(root, rel)
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block forever
                raise OSError("not a regular file")
            with Image.open(path) as im:
                im = fit_aspect(viewer_pixels(im, mode, draft=(size[1], size[0])), size, resize)
                if im.size != (size[1], size[0]):
                    im = im.resize((size[1], size[0]), Image.Resampling.BILINEAR)
                arr = np.asarray(im, dtype=np.uint8)
        except Exception as exc:  # Pillow raises many types for files that are no image
            reason = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
            raise UserError(
                f"'{path}' cannot be read as an image ({reason}). Move it out of the split folder; "
                f"'fitdoctor data inspect {root}' lists every unusable file."
            ) from None
        out.append(arr if arr.ndim == 3 else arr[..., None])
    return np.stack(out) if out else np.zeros((0, size[0], size[1], 1), np.uint8)


def _signature(root: Path, rels: list[str]) -> tuple:
    stats = [os.stat(root / r) for r in rels]
    return tuple((r, s.st_size, s.st_mtime_ns) for r, s in zip(rels, stats, strict=True))


def decode_files(
    root: Path, rels: list[str], size: tuple[int, int], mode: str, workers: int | None = None, resize: str = "squash"
) -> np.ndarray:
    """Decode and resize files in parallel threads (Pillow releases the GIL while decoding;
    threads are also safe once TensorFlow runs, unlike forked processes); uint8 [N, H, W, C]."""
    workers = workers or os.cpu_count() or 1
    if len(rels) < 256 or workers == 1:
        return _decode((str(root), rels, size, mode, resize))
    step = max(64, len(rels) // (workers * 4))
    jobs = [(str(root), rels[i : i + step], size, mode, resize) for i in range(0, len(rels), step)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return np.concatenate(list(pool.map(_decode, jobs)))


def load_split(
    root: str | os.PathLike,
    *,
    image_size: tuple[int, int] = (28, 28),
    color_mode: str = "grayscale",
    resize: str = "squash",
    max_memory_bytes: int = MAX_MEMORY_BYTES,
) -> SplitData:
    """Read `root/train|val|test/<class>/...` into memory, decoded once.

    Args:
        root: A folder made by `fitdoctor data split` (or laid out the same way).
        image_size: (height, width) every image is resized to, default (28, 28).
        color_mode: "grayscale" (default), "rgb" or "rgba".
        resize: How an image of another aspect ratio meets `image_size`, as in Keras: "squash"
            (default: resized as is, like `image_dataset_from_directory`), "crop" (the centre
            cropped to the target's aspect first, `crop_to_aspect_ratio`) or "pad" (black borders
            added first, `pad_to_aspect_ratio`).
        max_memory_bytes: Refuse folders whose decoded images exceed this, default 4 GiB.

    Example:
        >>> import tempfile
        >>> from fitdoctor.data.demo_set import write_demo_set
        >>> from fitdoctor.data.split import split_folder
        >>> d = tempfile.mkdtemp()
        >>> _ = write_demo_set(d + "/digits", limit_per_class=10)
        >>> _ = split_folder(d + "/digits", d + "/split", ratio=(0.8, 0.1, 0.1))
        >>> data = load_split(d + "/split")
        >>> data.arrays["train"][0].shape, data.class_names[:3]
        ((80, 28, 28, 1), ['0', '1', '2'])
    """
    root = Path(root)
    if color_mode not in COLOR_MODES:
        raise UserError(
            f"The 'color_mode' parameter of data must be one of grayscale, rgb, rgba. Got {color_mode!r} instead."
        )
    if resize not in RESIZE_MODES:
        raise UserError(f"The 'resize' parameter of data must be one of squash, crop, pad. Got {resize!r} instead.")
    if not (root / "train").is_dir():
        raise UserError(
            f"'{root}' has no train/ folder. Pass a folder made by 'fitdoctor data split' "
            "(train/, val/ and test/, one folder per class inside each)."
        )
    mode, channels = COLOR_MODES[color_mode]
    size = (int(image_size[0]), int(image_size[1]))
    listing = {s: list_class_files(root / s) for s in SPLIT_NAMES if (root / s).is_dir()}
    class_names = sorted(set().union(*[set(v) for v in listing.values()]))
    if len(class_names) < 2:
        raise UserError(f"'{root}/train' has {len(class_names)} class folder(s); a classifier needs at least 2.")
    total = sum(len(r) for v in listing.values() for r in v.values())
    if total * size[0] * size[1] * channels > max_memory_bytes:
        raise UserError(
            f"'{root}' holds {total} images; decoded at {size[0]}x{size[1]}x{channels} they need more than "
            f"{max_memory_bytes / 1e9:.1f} GB. Pass a smaller image_size in the spec's data section."
        )
    data = SplitData(root=root, class_names=class_names, image_size=size, channels=channels)
    index = {name: i for i, name in enumerate(class_names)}
    for split, classes in listing.items():
        rels = [f"{split}/{r}" for name in class_names for r in classes.get(name, [])]
        labels = np.array([index[name] for name in class_names for _ in classes.get(name, [])], dtype=np.int32)
        key = (str(root.resolve()), size, mode, resize, _signature(root, rels))
        if key not in _CACHE:
            _CACHE[key] = (decode_files(root, rels, size, mode, resize=resize), labels)
        data.arrays[split] = _CACHE[key]
        data.paths[split] = rels
        data.counts[split] = {name: len(classes.get(name, [])) for name in class_names}
    if "val" not in data.arrays:
        raise UserError(f"'{root}' has no val/ folder. Split with --ratio TRAIN VAL [TEST] to make one.")
    return data
