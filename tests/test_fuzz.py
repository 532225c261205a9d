"""Fuzzing (Hypothesis) the inputs users hand fitdoctor: histories and specs.

Whatever is generated, the CLI exits 0 or 2 (never 1, the internal error), prints no traceback,
and answers in bounded time; the library raises `UserError` or returns. The suite runs a fixed,
derandomised number of examples per family; the `slow` variants run 2,000 per family for the
benchmarks (`pytest -m slow tests/test_fuzz.py`).
"""

import json
import time

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fitdoctor.cli import main
from fitdoctor.errors import UserError
from fitdoctor.model.spec import load_spec

FAST = settings(max_examples=150, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=2000, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
NAMES = ["loss", "val_loss", "accuracy", "val_accuracy", "acc", "val_acc", "lr", "epoch", "eval_loss", "x"]

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    st.floats(min_value=0, max_value=10),
    st.integers(-5, 5),
    st.none(),
    st.sampled_from(["", "nan", "inf", "1e-3", "abc", " "]),
    st.booleans(),
    st.lists(st.floats(0, 1), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
histories = st.one_of(
    st.dictionaries(st.sampled_from(NAMES), st.lists(values, max_size=40), max_size=6),
    st.dictionaries(
        st.sampled_from(NAMES), st.lists(st.floats(0, 5), min_size=1, max_size=300), min_size=1, max_size=4
    ),
    st.lists(st.integers(), max_size=3),
    st.text(max_size=30),
    st.integers(),
    st.none(),
)


def _run_cli(capsys, args: list[str], seconds: float) -> int:
    """Run the CLI in-process: exit 0 or 2, no traceback, within `seconds`; return the exit code."""
    start = time.perf_counter()
    code = main(args)
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Traceback" not in err and "Internal error" not in err, err
    assert time.perf_counter() - start < seconds
    return code


def _diagnose_cli(tmp_path, capsys, payload: str, name: str) -> None:
    path = tmp_path / name
    path.write_text(payload, encoding="utf-8")
    _run_cli(capsys, ["diagnose", str(path)], 10)


def _history_case(tmp_path_factory, capsys, data) -> None:
    tmp = tmp_path_factory.mktemp("h")
    _diagnose_cli(tmp, capsys, json.dumps(data, allow_nan=True), "history.json")
    if isinstance(data, dict):  # the same as a CSVLogger file, columns of unequal length padded with blanks
        cols = list(data)
        rows = max((len(v) for v in data.values() if isinstance(v, list)), default=0)

        def cell(v, i):
            if not isinstance(v, list) or i >= len(v) or isinstance(v[i], list | dict):
                return ""
            return str(v[i]).replace(",", ";")

        text = ",".join(cols) + "\n" + "\n".join(",".join(cell(data[c], i) for c in cols) for i in range(rows))
        _diagnose_cli(tmp, capsys, text, "history.csv")


@FAST
@given(histories)
def test_generated_histories_never_crash_the_cli(tmp_path_factory, capsys, data):
    _history_case(tmp_path_factory, capsys, data)


@pytest.mark.slow
@SLOW
@given(histories)
def test_generated_histories_slow_profile(tmp_path_factory, capsys, data):
    _history_case(tmp_path_factory, capsys, data)


scalars = st.one_of(st.integers(-10, 10_000), st.floats(allow_nan=True), st.text(max_size=8), st.booleans(), st.none())
layer_names = st.sampled_from(["Dense", "Flatten", "Dropout", "Conv2D", "Dens", "MaxPooling2D", "Nope", ""])
layers = st.one_of(
    layer_names,
    st.dictionaries(
        layer_names,
        st.dictionaries(st.sampled_from(["units", "rate", "activation", "x"]), scalars, max_size=3),
        min_size=1,
        max_size=2,
    ),
    scalars,
)
sections = st.fixed_dictionaries(
    {},
    optional={
        "data": st.dictionaries(
            st.sampled_from(
                ["image_size", "color_mode", "batch_size", "resize", "augmentation", "invariances", "imag_size"]
            ),
            st.one_of(scalars, st.lists(scalars, max_size=3)),
            max_size=4,
        ),
        "model": st.one_of(st.lists(layers, max_size=6), scalars),
        "compile": st.one_of(
            st.dictionaries(st.sampled_from(["optimizer", "loss", "metrics"]), scalars, max_size=3), scalars
        ),
        "fit": st.one_of(st.dictionaries(st.sampled_from(["epochs", "seed"]), scalars, max_size=2), scalars),
        "callbacks": st.one_of(st.lists(layers, max_size=2), scalars),
        "distribute": scalars,
        "extra": scalars,
    },
)


def _spec_case(doc) -> None:
    text = yaml.safe_dump(doc, allow_unicode=True) if not isinstance(doc, str) else doc
    start = time.perf_counter()
    try:
        spec = load_spec(text if "\n" in text else text + "\n")
    except UserError as exc:
        assert "\n" not in str(exc), str(exc)
    else:
        assert spec.raw["fit"]["epochs"] >= 1 and spec.raw["data"]["batch_size"] >= 1
        assert all(isinstance(x, int) and x >= 1 for x in spec.raw["data"]["image_size"])
    assert time.perf_counter() - start < 5


@FAST
@given(st.one_of(sections, st.text(max_size=200)))
def test_generated_specs_are_a_spec_or_one_line(doc):
    _spec_case(doc)


@pytest.mark.slow
@SLOW
@given(st.one_of(sections, st.text(max_size=200)))
def test_generated_specs_slow_profile(doc):
    _spec_case(doc)


def test_the_fuzz_profiles_are_fixed_and_derandomised():
    assert FAST.derandomize and SLOW.derandomize and FAST.max_examples >= 100 and SLOW.max_examples >= 2000


def _png_bytes(seed: int, size: int) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (size, size), np.uint8)).save(buf, "PNG")
    return buf.getvalue()


file_bodies = st.one_of(
    st.builds(_png_bytes, st.integers(0, 50), st.integers(1, 40)),
    st.builds(lambda b, n: b[:n], st.builds(_png_bytes, st.integers(0, 50), st.integers(8, 40)), st.integers(0, 60)),
    st.binary(max_size=64),
    st.just(b""),
    st.text(max_size=40).map(str.encode),
)
file_names = st.text(alphabet="abcXYZ._- 0123é", min_size=1, max_size=10).filter(lambda n: n not in (".", ".."))
layouts = st.dictionaries(
    st.sampled_from(["cat", "dog", ".hidden", "a b", "train", "val", "x/y"]),
    st.dictionaries(file_names, file_bodies, max_size=4),
    max_size=4,
)


def _folder_case(tmp_path_factory, capsys, layout) -> None:
    import hashlib

    root = tmp_path_factory.mktemp("f") / "data"
    root.mkdir()
    for folder, files in layout.items():
        (root / folder).mkdir(parents=True, exist_ok=True)
        for name, body in files.items():
            (root / folder / name).write_bytes(body)
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}
    _run_cli(capsys, ["data", "inspect", str(root), "--json", "--no-cache"], 20)
    assert {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in before} == before  # read-only


@settings(max_examples=40, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(layouts)
def test_generated_folders_inspect_without_crash_or_change(tmp_path_factory, capsys, layout):
    _folder_case(tmp_path_factory, capsys, layout)


@pytest.mark.slow
@SLOW
@given(layouts)
def test_generated_folders_slow_profile(tmp_path_factory, capsys, layout):
    _folder_case(tmp_path_factory, capsys, layout)


member_names = st.one_of(
    file_names,
    st.sampled_from(
        ["../evil.png", "/abs.png", "a/../../b.png", "a/b/c.png", "a//b.png", "./a.png", "dir/", "x\\\\y.png"]
    ),
)
archives = st.tuples(
    st.sampled_from(["zip", "tar.gz", "tar", "tar.xz"]),
    st.lists(st.tuples(member_names, file_bodies, st.sampled_from(["file", "symlink", "hardlink", "dir"])), max_size=5),
    st.one_of(st.none(), st.integers(0, 400)),  # truncate the archive to this many bytes
)


def _make_archive(path, kind, members, cut) -> None:
    import io
    import tarfile
    import zipfile

    if kind == "zip":
        with zipfile.ZipFile(path, "w") as z:
            for name, body, _ in members:
                z.writestr(name, body)
    else:
        mode = {"tar.gz": "w:gz", "tar": "w", "tar.xz": "w:xz"}[kind]
        with tarfile.open(path, mode) as t:
            for name, body, what in members:
                info = tarfile.TarInfo(name)
                if what == "symlink":
                    info.type, info.linkname = tarfile.SYMTYPE, "../../etc/passwd"
                    t.addfile(info)
                elif what == "hardlink":
                    info.type, info.linkname = tarfile.LNKTYPE, "/etc/passwd"
                    t.addfile(info)
                elif what == "dir":
                    info.type = tarfile.DIRTYPE
                    t.addfile(info)
                else:
                    info.size = len(body)
                    t.addfile(info, io.BytesIO(body))
    if cut is not None:
        data = path.read_bytes()
        path.write_bytes(data[:cut])


def _archive_case(tmp_path_factory, capsys, case) -> None:
    kind, members, cut = case
    work = tmp_path_factory.mktemp("a")
    archive = work / f"in.{kind}"
    _make_archive(archive, kind, members, cut)

    def around() -> set:  # the case's folder, and the folder above it (where '../x' would land)
        return set(work.rglob("*")) | set(work.parent.iterdir())

    outside = around()  # not the whole base folder: it grows with every case (quadratic in the slow profile)
    code = _run_cli(capsys, ["data", "unpack", str(archive), str(work / "dest")], 20)
    created = around() - outside
    assert all(work / "dest" in p.parents or p == work / "dest" for p in created), created  # nothing lands outside DEST
    if code == 2:
        assert not (work / "dest").exists()  # a refused archive leaves DEST untouched


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(archives)
def test_generated_archives_unpack_inside_dest_or_not_at_all(tmp_path_factory, capsys, case):
    _archive_case(tmp_path_factory, capsys, case)


@pytest.mark.slow
@SLOW
@given(archives)
def test_generated_archives_slow_profile(tmp_path_factory, capsys, case):
    _archive_case(tmp_path_factory, capsys, case)
