"""Dataset toolkit against its peers, as ratios measured in one run.

On N small PNGs in 10 classes (made from the bundled digits, each one distinct):
- `fitdoctor data split --mode copy` vs `splitfolders.ratio` (same ratios): ratio >= 1.0 wanted;
- `--mode hardlink` vs `splitfolders.ratio` copying: >= 10x wanted;
  both cold (`--no-cache`: every file decoded) and after one `data inspect` (unchanged files
  are not decoded again);
- `data inspect` (full decode on all cores) vs a single-process Pillow decode loop: >= 1.6x wanted;
- the loader feeding a Keras model vs `keras.utils.image_dataset_from_directory` (images/s, 2nd epoch);
- peak memory of `inspect` and `split` at 5,000 and 20,000 files (< 300 MB, sub-linear).

With `photos`, on a generated folder of photo-like images (`fitdoctor.data.photo_set`: 4 classes x
PER_CLASS, 1-12 megapixels, about 85% JPEG and the rest PNG, WebP, CMYK JPEG and animated GIF, a third
of the JPEGs stored sideways with an EXIF Orientation tag), results in `results/data_photos.json`:
- EXIF: every EXIF-rotated file decoded upright, compared with `PIL.ImageOps.exif_transpose` (100% wanted);
- `data inspect` (every check on) vs a single-process Pillow full-decode loop, files/s (>= 2x wanted);
- the loader to a 160x160 RGB spec vs `keras.utils.image_dataset_from_directory`, on the JPEGs (the peer
  skips WebP), both validating on the val split each epoch: training images/s of the first epoch
  (decoding included, >= 3x wanted) and of the second (>= 1x);
- streaming: peak memory of one process that loads the JPEGs at a size whose decoded total is >= 10 GB
  and trains two epochs on them (< 1 GB wanted), beside the peak of the same model, batch and image
  size on four in-memory batches (TensorFlow and Keras's own share), and the difference.

    pip install -e '.[bench]' && python benchmarks/data_bench.py [N]
    python benchmarks/data_bench.py photos [PER_CLASS [streaming]]
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPEAT = 3  # best of 3 for each split timing: this disk's speed varies several-fold from run to run
RESULTS = HERE / "results"


def make_pngs(root: Path, n: int) -> None:
    from PIL import Image

    from fitdoctor.data.demo_set import load_digits

    images, labels = load_digits()
    rng = np.random.default_rng(0)
    for i in range(n):
        j = i % len(images)
        img = images[j].astype(np.int16) + rng.integers(-12, 13, images[j].shape)
        folder = root / str(int(labels[j]))
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(folder / f"{i:05d}.png")


def timed(fn) -> float:
    """Seconds `fn` takes, after flushing everyone's pending writes (so no run pays for an earlier one's)."""
    os.sync()
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def cli(*args: str) -> None:
    """Run a fitdoctor command in this process, as the peers run here (no interpreter start-up in either)."""
    import contextlib
    import io

    from fitdoctor.cli import main

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        rc = main(list(args))
    if rc != 0:
        raise SystemExit(f"fitdoctor {' '.join(args)} exited {rc}")


def peak_mb(*args: str) -> float:
    """Peak RSS (MB) of a fitdoctor command: the main process plus the largest worker."""
    code = (
        "import resource, sys\nfrom fitdoctor.cli import main\nrc = main(sys.argv[1:])\n"
        "me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\nprint(me, kids)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True).stdout
    me, kids = (int(x) for x in out.split()[-2:])
    return round((me + kids) / 1024, 1)


def splitfolders_copy(src: Path, dst: Path) -> None:
    import splitfolders

    splitfolders.ratio(str(src), output=str(dst), seed=1, ratio=(0.8, 0.1, 0.1))


def pillow_loop(root: Path) -> None:
    from PIL import Image

    for path in sorted(root.rglob("*.png")):
        with Image.open(path) as im:
            im.load()


def feed_rate(split: Path) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    from fitdoctor.data.loader import load_split

    def model():
        m = keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                keras.layers.Flatten(),
                keras.layers.Dense(64, activation="relu"),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        m.compile("adam", "sparse_categorical_crossentropy")
        return m

    def rate(ds, n):
        m = model()
        m.fit(ds, epochs=1, verbose=0)
        start = time.perf_counter()
        m.fit(ds, epochs=1, verbose=0)
        return n / (time.perf_counter() - start)

    data = load_split(split)
    n = len(data.arrays["train"][1])
    ours = rate(data.dataset("train", batch_size=64, shuffle=True, seed=1), n)
    peer_ds = keras.utils.image_dataset_from_directory(
        split / "train", image_size=(28, 28), color_mode="grayscale", batch_size=64, seed=1, verbose=False
    )
    peer_ds = peer_ds.map(lambda x, y: (x / 255.0, y))
    peer = rate(peer_ds, n)
    return {
        "fitdoctor_images_per_s": round(ours),
        "image_dataset_from_directory_images_per_s": round(peer),
        "ratio": round(ours / peer, 2),
    }


PHOTO_MODEL = """
import keras
def model(size):
    m = keras.Sequential([keras.Input((size, size, 3)), keras.layers.AveragePooling2D(max(1, size // 40)),
                          keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.GlobalAveragePooling2D(),
                          keras.layers.Dense(4, activation="softmax")])
    m.compile("adam", "sparse_categorical_crossentropy")
    return m
"""

# Each loader runs in its own process (a clean TensorFlow, its own peak memory), timing its first and
# second epoch; the files are in the page cache for both (read by the generator and by inspect).
LOADER_RUN = (
    PHOTO_MODEL
    + """
import json, os, resource, sys, time
which, split, size, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
start = time.perf_counter()
if which == "fitdoctor":
    from fitdoctor.data.loader import load_split
    data = load_split(split, image_size=(size, size), color_mode="rgb")
    n = len(data.labels["train"])
    ds = data.dataset("train", batch_size=batch, shuffle=True, seed=1)
    val = data.dataset("val", batch_size=batch)
    how = data.how
elif which == "peer":
    def folder(name, shuffle):
        ds = keras.utils.image_dataset_from_directory(
            split + "/" + name, image_size=(size, size), batch_size=batch, shuffle=shuffle, seed=1, verbose=False)
        return ds.map(lambda x, y: (x / 255.0, y))
    ds, val = folder("train", True), folder("val", False)
    n = sum(len(f) for _r, _d, f in os.walk(split + "/train"))
    how = ""
else:  # baseline: the same model, batch and image size on four in-memory batches (TensorFlow's own share)
    import numpy as np
    import tensorflow as tf
    x = np.zeros((4 * batch, size, size, 3), np.uint8)
    ds = val = tf.data.Dataset.from_tensor_slices((x, np.zeros(4 * batch, np.int32))).batch(batch).map(
        lambda a, b: (tf.cast(a, tf.float32) / 255.0, b))
    n, how = 4 * batch, ""
m = model(size)
m.fit(ds, validation_data=val, epochs=1, verbose=0)
first = time.perf_counter() - start
start = time.perf_counter()
m.fit(ds, validation_data=val, epochs=1, verbose=0)
second = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"images": n, "first_epoch_s": round(first, 1), "second_epoch_s": round(second, 1),
                  "first_images_per_s": round(n / first, 1), "second_images_per_s": round(n / second, 1),
                  "peak_mb": round(peak), "how": how}))
"""
)


def _upright(path: str) -> bool:
    from PIL import Image, ImageOps

    from fitdoctor.data.upright import viewer_pixels

    with Image.open(path) as im:
        ours = np.asarray(viewer_pixels(im, "RGB"))
    with Image.open(path) as im:
        reference = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    return ours.shape == reference.shape and bool(np.array_equal(ours, reference))


def pillow_full_decode(paths: list[Path]) -> None:
    from PIL import Image

    for path in paths:
        with Image.open(path) as im:
            im.load()


def loader_run(which: str, split: Path, size: int, batch: int) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    out = subprocess.run(
        [sys.executable, "-c", LOADER_RUN, which, str(split), str(size), str(batch)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def photos(per_class: int, only: str | None = None) -> dict:
    """The photo figures; `only="streaming"` measures the streaming part again and keeps the others."""

    from PIL import Image

    from fitdoctor.data.photo_set import write_photo_set
    from fitdoctor.data.split import split_folder
    from fitdoctor.data.upright import orientation

    work = HERE / "work"
    src = work / f"photos-{per_class}-s0"
    made = work / f"photos-{per_class}-s0.json"
    if not made.exists():  # generated once (minutes for 1-12 MP), reused by later runs
        shutil.rmtree(src, ignore_errors=True)
        start = time.perf_counter()
        summary = write_photo_set(src, per_class=per_class, megapixels=(1, 12), seed=0, workers=None)
        summary["seconds"] = round(time.perf_counter() - start, 1)
        made.write_text(json.dumps(summary))
    summary = json.loads(made.read_text())
    files = sorted(p for p in src.rglob("*") if p.is_file())
    jpegs, rotated = [], []
    for path in files:
        with Image.open(path) as im:
            if im.format == "JPEG":
                jpegs.append(path)
            if orientation(im) != 1:
                rotated.append(path)
    out: dict = {"cores": os.cpu_count(), "set": summary, "jpeg_files": len(jpegs)}
    if only == "streaming":
        out = {**json.loads((RESULTS / "data_photos.json").read_text()), **out}
    else:
        out.update(_exif_and_inspect(src, files, rotated))
    with tempfile.TemporaryDirectory(dir=work) as tmp:
        tmp = Path(tmp)
        for path in jpegs:  # the JPEGs only, linked: the peer does not read WebP
            link = tmp / "jpegs" / path.relative_to(src)
            link.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, link)
        split_folder(tmp / "jpegs", tmp / "split", ratio=(0.8, 0.2), seed=1, mode="hardlink")
        if only != "streaming":
            out["loader_160"] = _loaders(tmp / "split")
        out["streaming"] = _streaming(tmp, len(jpegs))
    return out


def _exif_and_inspect(src: Path, files: list[Path], rotated: list[Path]) -> dict:
    from concurrent.futures import ProcessPoolExecutor

    out = {}
    with ProcessPoolExecutor() as pool:
        upright = sum(pool.map(_upright, map(str, rotated), chunksize=8))
    out["exif"] = {"rotated_files": len(rotated), "decoded_upright": upright, "share": round(upright / len(rotated), 4)}

    single = timed(lambda: pillow_full_decode(files))
    ours = timed(lambda: cli("data", "inspect", str(src), "--json", "--no-cache"))
    out["inspect"] = {
        "files": len(files),
        "pillow_full_decode_files_per_s": round(len(files) / single, 1),
        "fitdoctor_inspect_files_per_s": round(len(files) / ours, 1),
        "ratio": round(single / ours, 2),
    }
    return out


def _loaders(split: Path) -> dict:
    peer = loader_run("peer", split, 160, 32)
    mine = loader_run("fitdoctor", split, 160, 32)
    return {
        "image_dataset_from_directory": peer,
        "fitdoctor": mine,
        "first_epoch_ratio": round(mine["first_images_per_s"] / peer["first_images_per_s"], 2),
        "second_epoch_ratio": round(mine["second_images_per_s"] / peer["second_images_per_s"], 2),
    }


def _streaming(tmp: Path, images: int) -> dict:
    """A side whose decoded total (train + val) is at least 10 GB, over the default 4 GiB budget."""
    side = int(np.ceil(np.sqrt(10e9 / (3 * images))))
    os.environ["TMPDIR"] = str(tmp)  # the stream's cache file goes to this disk, and is removed with it
    streamed = loader_run("fitdoctor", tmp / "split", side, 8)
    baseline = loader_run("baseline", tmp / "split", side, 8)
    os.environ.pop("TMPDIR")
    return {
        "image_size": [side, side],
        "decoded_gb": round(images * side * side * 3 / 1e9, 2),
        **streamed,
        "tensorflow_alone_peak_mb": baseline["peak_mb"],
        "streaming_own_mb": streamed["peak_mb"] - baseline["peak_mb"],
    }


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "photos":
        per_class = int(sys.argv[2]) if len(sys.argv) > 2 else 650  # 2,600 files, 2,080 of them JPEG
        out = photos(per_class, sys.argv[3] if len(sys.argv) > 3 else None)
        (RESULTS / "data_photos.json").write_text(json.dumps(out, indent=2) + "\n")
        print(json.dumps(out, indent=2))
        return 0
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    RESULTS.mkdir(exist_ok=True)
    out: dict = {"files": n, "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        os.environ["FITDOCTOR_CACHE_DIR"] = str(tmp / "cache")  # starts empty; never the user's cache
        make_pngs(tmp / "src", n)
        make_pngs(tmp / "src5k", 5000)
        time.sleep(2.5)  # the scan cache does not trust files modified in the last 2 s
        peer = min(timed(lambda i=i: splitfolders_copy(tmp / "src", tmp / f"peer{i}")) for i in range(REPEAT))
        runs = iter(range(100))

        def split(*extra: str) -> float:
            dst = str(tmp / f"split{next(runs)}")
            args = ("data", "split", str(tmp / "src"), dst, "--ratio", "0.8", "0.1", "0.1", "--seed", "1")
            return timed(lambda: cli(*args, *extra))

        # Cold: every file decoded (--no-cache). Warm: after one `data inspect` of SRC, as a user would
        # run it, unchanged files are not decoded again (see fitdoctor.data.scan_cache).
        copy_cold = min(split("--no-cache") for _ in range(REPEAT))
        link_cold = min(split("--mode", "hardlink", "--no-cache") for _ in range(REPEAT))
        single = timed(lambda: pillow_loop(tmp / "src"))
        inspect = timed(lambda: cli("data", "inspect", str(tmp / "src"), "--json", "--no-cache"))
        inspect_warm_fill = timed(lambda: cli("data", "inspect", str(tmp / "src"), "--json"))
        inspect_warm = timed(lambda: cli("data", "inspect", str(tmp / "src"), "--json"))
        copy_warm = min(split() for _ in range(REPEAT))
        link_warm = min(split("--mode", "hardlink") for _ in range(REPEAT))
        out["split"] = {
            "splitfolders_copy_s": round(peer, 2),
            "fitdoctor_copy_s": round(copy_cold, 2),
            "fitdoctor_hardlink_s": round(link_cold, 2),
            "copy_ratio": round(peer / copy_cold, 2),
            "hardlink_ratio": round(peer / link_cold, 2),
            "after_inspect": {
                "fitdoctor_copy_s": round(copy_warm, 2),
                "fitdoctor_hardlink_s": round(link_warm, 2),
                "copy_ratio": round(peer / copy_warm, 2),
                "hardlink_ratio": round(peer / link_warm, 2),
            },
        }
        out["inspect"] = {
            "pillow_loop_s": round(single, 2),
            "fitdoctor_inspect_s": round(inspect, 2),
            "ratio": round(single / inspect, 2),
            "second_inspect_s": round(inspect_warm, 2),
            "first_inspect_with_cache_s": round(inspect_warm_fill, 2),
        }
        out["memory_mb"] = {
            "inspect_5000": peak_mb("data", "inspect", str(tmp / "src5k"), "--json", "--no-cache"),
            f"inspect_{n}": peak_mb("data", "inspect", str(tmp / "src"), "--json", "--no-cache"),
            "split_5000": peak_mb(
                "data", "split", str(tmp / "src5k"), str(tmp / "m5"), "--ratio", "0.8", "0.2", "--no-cache"
            ),
            f"split_{n}": peak_mb(
                "data", "split", str(tmp / "src"), str(tmp / "m20"), "--ratio", "0.8", "0.2", "--no-cache"
            ),
        }
        out["loader"] = feed_rate(tmp / "split0")
        shutil.rmtree(tmp, ignore_errors=True)
    (RESULTS / "data.json").write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
