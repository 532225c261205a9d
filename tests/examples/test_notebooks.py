"""The example notebooks run end to end in a real Jupyter kernel and show fitdoctor's cards."""

import importlib.util
import json
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PORTUGUESE = {"quickstart.ipynb": False, "inicio-rapido.ipynb": True}


def _generator():
    spec = importlib.util.spec_from_file_location("make_notebooks", ROOT / "scripts" / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("words", ["en", "pt"])
def test_committed_notebooks_are_what_the_generator_writes(words):
    gen = _generator()
    expected = gen.notebook(gen.WORDS[words])
    assert json.loads((EXAMPLES / gen.WORDS[words]["file"]).read_text(encoding="utf-8")) == expected


def _html_outputs(cell) -> list[str]:
    return [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]


@pytest.mark.parametrize("name", sorted(PORTUGUESE))
def test_notebook_runs_and_shows_the_cards(name, tmp_path):
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    resources = {"metadata": {"path": str(tmp_path)}}  # the kernel's working folder: nothing lands in the repo
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources=resources).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    setup, fit, diagnose, fix, report = code
    # 1. the live display: one output per fit, replaced in place, showing the last epoch
    live = [o for o in fit.outputs if o.output_type == "display_data"]
    assert len(live) == 1, [o.output_type for o in fit.outputs]
    card = live[0]["data"]["text/html"]
    assert 'class="fitdoctor compact"' in card and card.count("<svg") == 2
    assert re.search(r"(EPOCH|epoch|época|ÉPOCA) 25", card)
    # 2. the diagnosis card
    (diagnosis,) = _html_outputs(diagnose)
    assert 'class="fitdoctor compact"' in diagnosis and "<pre>" in diagnosis and "keras" in diagnosis
    # 3. fix: a live card per round, then the treatment's story
    story = [o["data"]["text/html"] for o in fix.outputs if o.output_type == "execute_result"]
    assert len(story) == 1 and "→" in story[0]
    assert len([o for o in fix.outputs if o.output_type == "display_data"]) >= 1
    # 4. the whole report, inline, and saved as a file
    (page,) = [o["data"]["text/html"] for o in report.outputs if o.output_type == "execute_result"]
    assert '<div class="fitdoctor"' in page and "data:image/png;base64," in page
    saved = next(tmp_path.glob("*/fix/report*.html"))
    assert saved.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    if PORTUGUESE[name]:
        for words in ("O que fazer agora", "treino", "validação", "rodada"):
            assert words in diagnosis + page, words
        assert 'lang="pt-BR"' in page
    else:
        assert "What to do next" in diagnosis and 'lang="en"' in page
    errors = [o for c in code for o in c.outputs if o.output_type == "error"]
    assert not errors


@pytest.mark.slow
def test_executed_quickstart_renders_in_chromium(tmp_path):
    import shutil
    import subprocess

    nbconvert = pytest.importorskip("nbconvert")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        pytest.skip("Chromium is not installed (Debian package 'chromium'): nothing to screenshot with.")
    nb = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    body, _ = nbconvert.HTMLExporter().from_notebook_node(nb)
    page = tmp_path / "quickstart.html"
    page.write_text(body, encoding="utf-8")
    shot = tmp_path / "quickstart.png"
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1100,6000",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=180,
    )
    from PIL import Image

    assert Image.open(shot).size == (1100, 6000)
