"""Dataset toolkit against its peers, as ratios measured in one run.

On N small PNGs in 10 classes (made from the bundled digits, each one distinct):
- `fitdoctor data split --mode copy` vs `splitfolders.ratio` (same ratios): ratio >= 1.0 wanted;
- `--mode hardlink` vs `splitfolders.ratio` copying: >= 10x wanted;
  both cold (`--no-cache`: every file decoded) and after one `data inspect` (unchanged files
  are not decoded again);
- `data inspect` (full decode on all cores) vs a single-process Pillow decode loop: >= 1.6x wanted;
- the loader feeding a Keras model vs `keras.utils.image_dataset_from_directory` (images/s, 2nd epoch);
- peak memory of `inspect` and `split` at 5,000 and 20,000 files (< 300 MB, sub-linear).

    pip install -e '.[bench]' && python benchmarks/data_bench.py [N]
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


def main() -> int:
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
