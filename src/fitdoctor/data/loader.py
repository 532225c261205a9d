"""A split folder -> Keras-ready `tf.data` datasets, with class names, counts and weights.

Images are decoded once with Pillow (the decoder `inspect` checked them with) as a viewer
shows them (`upright.viewer_pixels`: EXIF orientation, first frame, 16-bit, CMYK and alpha
handled; large JPEGs decoded at a reduced scale in draft mode), resized, and kept as uint8
arrays; later epochs never decode again. A folder whose decoded images would exceed the
memory budget (`data.memory_budget`, default 4 GiB) streams instead: `tf.data` decodes the
files in parallel with the same decoder, caches the decoded images to a file on local disk
after the first pass, shuffles with a bounded buffer and prefetches; under multi-worker
training each worker reads only its shard of the files. No folder is refused for its size.
TensorFlow is imported only when datasets are built.
"""

from __future__ import annotations

import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fitdoctor.data.images import IMBALANCE_RATIO, SPLIT_NAMES, list_class_files
from fitdoctor.errors import UserError
from fitdoctor.i18n import _

COLOR_MODES = {"grayscale": ("L", 1), "rgb": ("RGB", 3), "rgba": ("RGBA", 4)}
RESIZE_MODES = ("squash", "crop", "pad")  # Keras: plain resize, crop_to_aspect_ratio, pad_to_aspect_ratio
MAX_MEMORY_BYTES = 4 * 1024**3
SHUFFLE_BUFFER = 4096  # streamed images held for shuffling: a bounded, not a whole-set, shuffle
SHUFFLE_SHARE = 32  # ... and at most 1/32 of the memory budget, however large each image is
_CACHE: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}


@dataclass
class SplitData:
    """Labels and paths per split, the images in memory or streamed, and what training needs to know.

    `streaming` is False when the decoded images fit the memory budget (`arrays` holds them) and
    True when they stream from the files (`arrays` is empty); `how` says which, and why.
    """

    root: Path
    class_names: list[str]
    image_size: tuple[int, int]
    channels: int
    arrays: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    paths: dict[str, list[str]] = field(default_factory=dict)
    labels: dict[str, np.ndarray] = field(default_factory=dict)
    streaming: bool = False
    how: str = ""
    mode: str = "L"
    resize: str = "squash"
    memory_budget: int = MAX_MEMORY_BYTES

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def class_weights(self) -> dict[int, float] | None:
        """'Balanced' weights from the train split (total / (classes * count)) when its classes are
        imbalanced (the largest has `IMBALANCE_RATIO` x the smallest), else None."""
        counts = np.bincount(self.labels["train"], minlength=self.num_classes)
        if not counts.min() or counts.max() / counts.min() < IMBALANCE_RATIO:
            return None
        total = counts.sum()
        return {i: float(total / (self.num_classes * c)) for i, c in enumerate(counts)}

    def images(self, split: str, limit: int) -> np.ndarray:
        """The first `limit` images of a split as uint8 [N, H, W, C] (decoded now when streaming)."""
        if not self.streaming:
            return self.arrays[split][0][:limit]
        return decode_files(self.root, self.paths[split][:limit], self.image_size, self.mode, resize=self.resize)

    def dataset(
        self,
        split: str,
        *,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int | None = None,
        one_hot: bool = False,
        augment=None,
        shard: tuple[int, int] | None = None,
    ):
        """A batched `tf.data.Dataset` of (float32 images in [0, 1], labels) for one split.

        Args:
            shard: (workers, this worker's index) when streaming under multi-worker training:
                each worker reads and decodes only its share of the files.
        """
        import tensorflow as tf

        if self.streaming:
            ds = self._streamed(split, shard)
            if shuffle:
                ds = ds.shuffle(self.shuffle_buffer(split), seed=seed, reshuffle_each_iteration=True)
        else:
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

    def shuffle_buffer(self, split: str) -> int:
        """How many streamed images are held for shuffling: `SHUFFLE_BUFFER`, and at most 1/`SHUFFLE_SHARE`
        of the memory budget (so 1 MP images do not hold 12 GB), never fewer than 16."""
        image_bytes = self.image_size[0] * self.image_size[1] * self.channels
        by_memory = max(16, self.memory_budget // SHUFFLE_SHARE // image_bytes)
        return max(1, min(SHUFFLE_BUFFER, by_memory, len(self.labels[split])))

    def _streamed(self, split: str, shard: tuple[int, int] | None):
        """Files -> decoded uint8 images in parallel, cached to a file on local disk after the first pass."""
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices((self.paths[split], self.labels[split]))
        if shard is not None:
            ds = ds.shard(*shard)
        height, width = self.image_size
        channels = self.channels

        def decode(rel):
            return _decode((str(self.root), [rel.decode()], self.image_size, self.mode, self.resize))[0]

        def load(path, label):
            image = tf.numpy_function(decode, [path], tf.uint8)
            image.set_shape((height, width, channels))
            return image, label

        ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
        key = (str(self.root.resolve()), self.image_size, self.mode, self.resize, split, shard)
        name = hashlib.sha256(repr(key).encode()).hexdigest()[:16]  # one cache per split, size, decoder and shard
        return ds.cache(str(_cache_dir() / name))


def _cache_dir() -> Path:
    """One temp folder per process for the streamed splits' cache files, removed at exit."""
    global _STREAM_CACHE
    if _STREAM_CACHE is None:
        import atexit
        import shutil
        import tempfile

        _STREAM_CACHE = Path(tempfile.mkdtemp(prefix="fitdoctor-stream-"))
        atexit.register(shutil.rmtree, _STREAM_CACHE, True)
    return _STREAM_CACHE


_STREAM_CACHE: Path | None = None


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
                _(
                    "'{path}' cannot be read as an image ({reason}). Move it out of the split folder; 'fitdoctor data"
                    " inspect {root}' lists every unusable file.",
                    path=path,
                    reason=reason,
                    root=root,
                )
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


def parse_bytes(value) -> int:
    """A memory budget: a number of bytes, or text with a unit ("512MB", "4GB", "1.5 GiB").

    Example:
        >>> parse_bytes("4GB"), parse_bytes("512 MiB"), parse_bytes(1000)
        (4000000000, 536870912, 1000)
    """
    import re

    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return int(value)
    units = {
        "": 1,
        "B": 1,
        "KB": 10**3,
        "MB": 10**6,
        "GB": 10**9,
        "TB": 10**12,
        "KIB": 2**10,
        "MIB": 2**20,
        "GIB": 2**30,
        "TIB": 2**40,
    }
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", str(value))
    if not match or match.group(2).upper() not in units or float(match.group(1)) <= 0:
        raise UserError(
            _("The 'memory_budget' of data must be a size such as 512MB or 4GB. Got {value!r} instead.", value=value)
        )
    return int(float(match.group(1)) * units[match.group(2).upper()])


def load_for_spec(root: str | os.PathLike, spec) -> SplitData:
    """The split folder read the way a spec's data section says (image_size, color_mode, resize, memory_budget)."""
    d = spec.raw["data"]
    return load_split(
        root,
        image_size=tuple(d["image_size"]),
        color_mode=d["color_mode"],
        resize=d["resize"],
        memory_budget=parse_bytes(d["memory_budget"]),
    )


def load_split(
    root: str | os.PathLike,
    *,
    image_size: tuple[int, int] = (28, 28),
    color_mode: str = "grayscale",
    resize: str = "squash",
    memory_budget: int = MAX_MEMORY_BYTES,
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
        memory_budget: Decoded images up to this many bytes (default 4 GiB) are kept in memory;
            a larger folder streams from its files (see `SplitData.dataset`).

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
            _(
                "The 'color_mode' parameter of data must be one of grayscale, rgb, rgba. Got {color_mode!r} instead.",
                color_mode=color_mode,
            )
        )
    if resize not in RESIZE_MODES:
        raise UserError(
            _("The 'resize' parameter of data must be one of squash, crop, pad. Got {resize!r} instead.", resize=resize)
        )
    if not (root / "train").is_dir():
        raise UserError(
            _(
                "'{root}' has no train/ folder. Pass a folder made by 'fitdoctor data split' (train/, val/ and test/,"
                " one folder per class inside each).",
                root=root,
            )
        )
    mode, channels = COLOR_MODES[color_mode]
    size = (int(image_size[0]), int(image_size[1]))
    listing = {s: list_class_files(root / s) for s in SPLIT_NAMES if (root / s).is_dir()}
    class_names = sorted(set().union(*[set(v) for v in listing.values()]))
    if len(class_names) < 2:
        raise UserError(
            _("'{root}/train' has {n} class folder(s); a classifier needs at least 2.", root=root, n=len(class_names))
        )
    total = sum(len(r) for v in listing.values() for r in v.values())
    decoded = total * size[0] * size[1] * channels
    streaming = decoded > memory_budget
    sizes = {"n": total, "gb": decoded / 1e9, "mb": decoded / 1e6, "budget": memory_budget / 1e9}
    how = (
        _(
            "streaming {n} images from their files (decoded {gb:.2f} GB > memory budget {budget:.2f} GB), cached on "
            "local disk after the first pass",
            **sizes,
        )
        if streaming
        else _("{n} images decoded in memory ({mb:.0f} MB of {budget:.2f} GB budget)", **sizes)
    )
    data = SplitData(
        root=root,
        class_names=class_names,
        image_size=size,
        channels=channels,
        streaming=streaming,
        how=how,
        mode=mode,
        resize=resize,
        memory_budget=memory_budget,
    )
    index = {name: i for i, name in enumerate(class_names)}
    for split, classes in listing.items():
        rels = [f"{split}/{r}" for name in class_names for r in classes.get(name, [])]
        labels = np.array([index[name] for name in class_names for _path in classes.get(name, [])], dtype=np.int32)
        data.labels[split] = labels
        data.paths[split] = rels
        if not streaming:
            key = (str(root.resolve()), size, mode, resize, _signature(root, rels))
            if key not in _CACHE:
                _CACHE[key] = (decode_files(root, rels, size, mode, resize=resize), labels)
            data.arrays[split] = _CACHE[key]
        data.counts[split] = {name: len(classes.get(name, [])) for name in class_names}
    if "val" not in data.labels:
        raise UserError(_("'{root}' has no val/ folder. Split with --ratio TRAIN VAL [TEST] to make one.", root=root))
    return data
