"""Folders larger than the memory budget stream from their files, with the same pixels; none is refused."""

import numpy as np

from fitdoctor.data.loader import load_split, parse_bytes
from fitdoctor.training.run import train
from tests.conftest import SMALL_SPEC


def _batches(ds):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds], strict=True)
    return np.concatenate(xs), np.concatenate(ys)


def test_a_folder_over_the_budget_streams_the_same_images(tiny_split):
    memory = load_split(tiny_split)
    streamed = load_split(tiny_split, memory_budget=1000)
    assert not memory.streaming and streamed.streaming and not streamed.arrays
    assert "streaming 120 images from their files" in streamed.how and "in memory" in memory.how
    for split in ("train", "val", "test"):
        x_mem, y_mem = _batches(memory.dataset(split, batch_size=7))
        x_str, y_str = _batches(streamed.dataset(split, batch_size=7))
        assert np.array_equal(y_mem, y_str) and np.allclose(x_mem, x_str)
        assert _batches(streamed.dataset(split, batch_size=7))[0].shape == x_mem.shape  # second pass: the cache
    assert np.array_equal(streamed.images("train", 5), memory.arrays["train"][0][:5])
    assert streamed.class_weights() == memory.class_weights()


def test_each_worker_streams_only_its_shard(tiny_split):
    streamed = load_split(tiny_split, memory_budget=1000)
    _, y0 = _batches(streamed.dataset("train", batch_size=8, shard=(2, 0)))
    _, y1 = _batches(streamed.dataset("train", batch_size=8, shard=(2, 1)))
    assert len(y0) + len(y1) == len(streamed.labels["train"]) and abs(len(y0) - len(y1)) <= 1


def test_training_and_evaluation_stream_when_the_spec_says_so(tiny_split, tmp_path):
    spec = SMALL_SPEC.replace("batch_size: 16}", "batch_size: 16, memory_budget: 1KB}")
    lines = []
    result = train(spec, tiny_split, tmp_path / "run", seed=1, echo=lines.append)
    assert any(line.startswith("Data: streaming 120 images from their files") for line in lines)
    assert result.epochs == 2 and result.metrics["test"]["split"] == "test" and result.metrics["test"]["samples"] == 30
    assert result.metrics["val"]["samples"] == 30


def test_memory_budgets_read_as_sizes():
    assert parse_bytes("1KB") == 1000 and parse_bytes("4GiB") == 4 * 2**30 and parse_bytes(2048) == 2048


def test_the_shuffle_buffer_is_bounded_by_the_memory_budget(tiny_split):
    small = load_split(tiny_split, memory_budget=1000)
    assert small.shuffle_buffer("train") == 16  # never fewer than 16 images
    large = load_split(tiny_split, image_size=(1000, 1000), color_mode="rgb", memory_budget=parse_bytes("300MB"))
    assert large.streaming and large.shuffle_buffer("train") == 16  # 300 MB / 32 = 9 MB: 3 images of 3 MB -> 16
    large.memory_budget = parse_bytes("3GB")
    assert large.shuffle_buffer("train") == 31  # 3 GB / 32 / 3 MB
    roomy = load_split(tiny_split, image_size=(100, 100), color_mode="rgb", memory_budget=parse_bytes("1GB"))
    assert not roomy.streaming
    roomy.streaming = True  # as if it streamed: 1 GB / 32 / 30 kB = 1041 images; no more than there are
    assert roomy.shuffle_buffer("train") == len(roomy.labels["train"])
