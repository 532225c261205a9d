import io
import os
import stat
import tarfile
import zipfile

import pytest

from fitdoctor.data.archive import pack, unpack
from fitdoctor.errors import UserError
from tests.conftest import make_class_folder, make_png, tree_hashes


def _tar(path, entries):
    """entries: (name, kind, payload) with kind file|dir|symlink|hardlink|chr."""
    with tarfile.open(path, "w:gz") as tf:
        for name, kind, payload in entries:
            ti = tarfile.TarInfo(name)
            if kind == "file":
                data = payload.encode() if isinstance(payload, str) else payload
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
                continue
            ti.type = {
                "dir": tarfile.DIRTYPE,
                "symlink": tarfile.SYMTYPE,
                "hardlink": tarfile.LNKTYPE,
                "chr": tarfile.CHRTYPE,
            }[kind]
            ti.linkname = payload or ""
            tf.addfile(ti)
    return path


@pytest.mark.parametrize("ext", [".zip", ".tar.gz", ".tar.xz"])
def test_pack_unpack_round_trip(tmp_path, ext):
    src = make_class_folder(tmp_path / "src", {"a": 3, "b": 2})
    archive = pack(src, tmp_path / f"data{ext}")
    out = unpack(archive, tmp_path / "out")
    assert tree_hashes(out) == tree_hashes(src)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_pack_never_overwrites(tmp_path):
    src = make_class_folder(tmp_path / "src", {"a": 1})
    (tmp_path / "x.zip").write_text("mine")
    with pytest.raises(UserError, match=r"Archive '.*x\.zip' already exists\. Pass a new name, or --force"):
        pack(src, tmp_path / "x.zip")
    assert (tmp_path / "x.zip").read_text() == "mine"


HOSTILE = {
    "absolute": [("/tmp/evil.txt", "file", "x")],
    "double slash": [("//etc/evil.txt", "file", "x")],
    "dotdot": [("../evil.txt", "file", "x")],
    "inner dotdot": [("a/../../evil.txt", "file", "x")],
    "symlink then file through it": [("link", "symlink", "/tmp"), ("link/evil.txt", "file", "x")],
    "relative symlink out": [("up", "symlink", "../../outside")],
    "dir symlink then file in it": [("d", "dir", None), ("d/sub", "symlink", ".."), ("d/sub/x", "file", "x")],
    "link chain": [("cur", "symlink", "."), ("par", "symlink", "cur/.."), ("par/evil.txt", "file", "x")],
    "link chain alone": [("cur", "symlink", "."), ("par", "symlink", "cur/..")],
    "hardlink to passwd": [("pw", "hardlink", "/etc/passwd")],
    "hardlink outside": [("pw", "hardlink", "../x")],
    "device": [("dev", "chr", None)],
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_tar_is_refused_and_dest_untouched(tmp_path, case):
    archive = _tar(tmp_path / "evil.tar.gz", HOSTILE[case])
    dest = tmp_path / "dest"
    with pytest.raises(UserError, match=r"Archive member '.*'.*refused"):
        unpack(archive, dest)
    assert not dest.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.tar.gz"]


def test_hostile_zip_member_is_refused(tmp_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ok.txt", "fine")
        zf.writestr("../evil.txt", "x")
    with pytest.raises(UserError, match=r"Archive member '\.\./evil\.txt' has an absolute path or climbs out"):
        unpack(path, tmp_path / "dest")


def test_zip_symlink_out_is_refused(tmp_path):
    path = tmp_path / "evil.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc")
    with pytest.raises(UserError, match=r"Archive member 'link' links to '/etc', outside"):
        unpack(path, tmp_path / "dest")


def test_internal_links_are_allowed(tmp_path):
    archive = _tar(
        tmp_path / "ok.tar.gz",
        [("a", "dir", None), ("a/x.txt", "file", "x"), ("b", "symlink", "a/x.txt"), ("c", "hardlink", "a/x.txt")],
    )
    out = unpack(archive, tmp_path / "out")
    assert (out / "b").read_text() == "x" and (out / "c").read_text() == "x"


def test_zip_bomb_of_one_gib_zeros_is_refused(tmp_path):
    path = tmp_path / "bomb.zip"
    chunk = bytes(1 << 24)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("zeros.bin", "w", force_zip64=True) as f:
            for _ in range(64):
                f.write(chunk)
    assert path.stat().st_size < 10 * 1024**2
    with pytest.raises(UserError, match=r"Archive member 'zeros\.bin' expands \d+x; refused as a zip bomb"):
        unpack(path, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_lying_tar_bomb_is_stopped_while_streaming(tmp_path, monkeypatch):
    import fitdoctor.data.archive as archive_module

    path = tmp_path / "bomb.tar.gz"
    with tarfile.open(path, "w:gz") as tf:
        ti = tarfile.TarInfo("zeros.bin")
        ti.size = 64 * 1024**2
        tf.addfile(ti, io.BytesIO(bytes(ti.size)))
    monkeypatch.setattr(archive_module, "RATIO_FLOOR_BYTES", 1024**2)
    with pytest.raises(UserError, match=r"'zeros\.bin' expands past the safety caps"):
        unpack(path, tmp_path / "dest")
    assert sorted(os.listdir(tmp_path)) == ["bomb.tar.gz"]


def test_existing_dest_is_never_touched(tmp_path):
    src = make_class_folder(tmp_path / "src", {"a": 1})
    archive = pack(src, tmp_path / "a.zip")
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "mine.txt").write_text("keep")
    with pytest.raises(UserError, match=r"Destination '.*dest' exists and is not empty"):
        unpack(archive, dest)
    assert os.listdir(dest) == ["mine.txt"]


def test_damaged_archive(tmp_path):
    src = make_class_folder(tmp_path / "src", {"a": 3})
    archive = pack(src, tmp_path / "a.tar.gz")
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match=r"is (damaged|not a zip or tar archive)"):
        unpack(archive, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_pack_stores_the_image_a_symlink_leads_to_so_unpack_gets_it(tmp_path):
    """A symlink to an image outside the folder used to be stored as a link: no image, and unpack refused it."""
    outside = make_png(tmp_path / "elsewhere" / "photo.png", seed=3)
    root = make_class_folder(tmp_path / "d", {"cat": 2})
    os.symlink(outside, root / "cat" / "linked.png")
    for ext in (".zip", ".tar.gz"):
        archive = pack(root, tmp_path / f"d{ext}")
        out = unpack(archive, tmp_path / f"out{ext}")
        assert (out / "cat" / "linked.png").read_bytes() == outside.read_bytes()
        assert not (out / "cat" / "linked.png").is_symlink()


def test_pack_names_a_link_that_leads_nowhere(tmp_path):
    root = make_class_folder(tmp_path / "d", {"cat": 2})
    os.symlink(tmp_path / "gone.png", root / "cat" / "broken.png")
    with pytest.raises(UserError, match=r"broken.png' is a link that leads nowhere"):
        pack(root, tmp_path / "d.zip")
    assert not (tmp_path / "d.zip").exists()


def test_an_archive_pythons_zipfile_cannot_extract_is_one_line(tmp_path):
    """A deflate64 zip (Windows Explorer writes them for big folders) was "Internal error: NotImplementedError"."""
    import struct

    plain = tmp_path / "a.zip"
    with zipfile.ZipFile(plain, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("cat/1.png", b"x" * 1000)
    data = bytearray(plain.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):  # the method, in both headers
        at = data.find(signature) + offset
        data[at : at + 2] = struct.pack("<H", 9)
    (tmp_path / "deflate64.zip").write_bytes(data)
    with pytest.raises(UserError, match=r"uses a compression Python cannot read .*nothing was written"):
        unpack(tmp_path / "deflate64.zip", tmp_path / "out")
    assert not (tmp_path / "out").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["a.zip", "deflate64.zip"]
