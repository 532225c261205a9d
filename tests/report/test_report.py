"""The HTML report: self-contained, every image loads in a real browser, nothing fetched."""

import base64
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from fitdoctor.report.html import build_report
from fitdoctor.training.run import train
from tests.conftest import SMALL_SPEC

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_split):
    run = tmp_path_factory.mktemp("report") / "run"
    train(SMALL_SPEC.replace("fit: {epochs: 2}", "fit: {epochs: 4}"), tiny_split, run, seed=2, echo=None)
    return run


def _chromium() -> str:
    """The Chromium on this machine; the test that needs it says it skipped when there is none (no test installs it)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("Chromium is not installed (Debian package 'chromium'): the page is not rendered.")
    return path


def test_report_is_self_contained(run_dir):
    out = build_report(run_dir)
    page = out.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page), "the report fetches from the network"
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) >= 3
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).verify()
    for name in ("loss", "accuracy", "confusion", "counts"):
        assert (run_dir / f"report-{name}.png").exists(), name
    verdict = json.loads((run_dir / "diagnosis.json").read_text())["verdict"]
    assert f"{verdict.replace('_', ' ')}".split()[0] in page.lower()


def test_report_in_portuguese(run_dir):
    page = build_report(run_dir, lang="pt").read_text(encoding="utf-8")
    for words in ("Curvas de treinamento", "Matriz de confusão", "O que fazer agora", "Evidências", 'lang="pt-BR"'):
        assert words in page


def test_report_in_headless_chromium(run_dir, tmp_path):
    chromium = _chromium()
    out = build_report(run_dir)
    probe = tmp_path / "probe.html"
    script = (
        "<script>window.addEventListener('load',()=>{const imgs=[...document.images];"
        "const fetched=performance.getEntriesByType('resource').map(e=>e.name).filter(n=>!n.startsWith('data:'));"
        "document.title='images:'+imgs.length+':loaded:'+imgs.filter(i=>i.complete&&i.naturalWidth>0).length"
        "+':fetched:'+fetched.length;});"
        "</script></body>"
    )
    probe.write_text(out.read_text(encoding="utf-8").replace("</body>", script), encoding="utf-8")
    dom = subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=5000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    title = re.search(r"<title>images:(\d+):loaded:(\d+):fetched:(\d+)</title>", dom.stdout)
    assert title, dom.stderr[-2000:]
    assert int(title.group(1)) >= 3 and title.group(1) == title.group(2), "an image did not load"
    assert title.group(3) == "0", "the page fetched resources from outside itself"
    shot = tmp_path / "report.png"  # never written into the repository
    subprocess.run(
        [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile2'}",
            "--window-size=1000,2400",
            f"--screenshot={shot}",
            out.as_uri(),
        ],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and Image.open(shot).size == (1000, 2400)


def test_the_report_reads_the_saved_inspection_instead_of_decoding_the_data(run_dir, tmp_path, monkeypatch):
    from fitdoctor.data import scan as scan_module

    def no_decoding(*args, **kwargs):
        raise AssertionError("the report decoded the data set again")

    monkeypatch.setattr(scan_module, "scan", no_decoding)
    page = build_report(run_dir, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Near-duplicate groups" in page and "Duplicate groups" in page
