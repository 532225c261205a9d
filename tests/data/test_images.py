import io
import struct
import zlib

import numpy as np
from PIL import Image

from fitdoctor.data.images import check_file, dhash
from tests.conftest import make_png


def _png_bytes(size=16, seed=0) -> bytes:
    buf = io.BytesIO()
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size, size), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def test_good_png(tmp_path):
    make_png(tmp_path / "a.png", 1)
    rec = check_file(str(tmp_path), "a.png")
    assert rec.problem is None
    assert (rec.width, rec.height, rec.mode, rec.format) == (16, 16, "L", "PNG")
    assert len(rec.sha256) == 64


def test_zero_bytes(tmp_path):
    (tmp_path / "z.png").write_bytes(b"")
    assert check_file(str(tmp_path), "z.png").problem == "zero bytes"


def test_not_an_image(tmp_path):
    (tmp_path / "t.png").write_text("hello, I am text")
    assert check_file(str(tmp_path), "t.png").problem == "not an image"


def test_truncated_png(tmp_path):
    data = _png_bytes(64)
    (tmp_path / "t.png").write_bytes(data[: len(data) // 2])
    assert check_file(str(tmp_path), "t.png").problem == "truncated"


def test_truncated_jpeg(tmp_path):
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, "JPEG")
    (tmp_path / "t.jpg").write_bytes(buf.getvalue()[:-300])
    assert check_file(str(tmp_path), "t.jpg").problem == "truncated"


def test_bad_crc(tmp_path):
    data = bytearray(_png_bytes())
    # IHDR chunk: 8-byte signature, 4 length, 4 type, 13 data, then 4 CRC at offset 29.
    data[29:33] = struct.pack(">I", (zlib.crc32(bytes(data[12:29])) + 1) & 0xFFFFFFFF)
    (tmp_path / "c.png").write_bytes(bytes(data))
    assert check_file(str(tmp_path), "c.png").problem == "bad CRC"


def test_decompression_bomb(tmp_path):
    Image.new("1", (12000, 12000)).save(tmp_path / "bomb.png")  # 144 Mpx > Pillow's limit
    assert check_file(str(tmp_path), "bomb.png").problem == "decompression bomb"


def test_unsupported_format(tmp_path):
    Image.new("L", (8, 8)).save(tmp_path / "a.pcx")
    assert check_file(str(tmp_path), "a.pcx").problem == "unsupported format (PCX)"


def test_dhash_is_stable_under_resize():
    rng = np.random.default_rng(3)
    im = Image.fromarray(rng.integers(0, 255, (64, 64), dtype=np.uint8)).filter(
        __import__("PIL.ImageFilter").ImageFilter.GaussianBlur(4)
    )
    a, b = dhash(im), dhash(im.resize((80, 80)))
    assert (a ^ b).bit_count() <= 3
