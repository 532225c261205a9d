"""fitdoctor installs into an environment that already has Keras and TensorFlow, and keeps them.

Builds the wheel, makes a fresh venv holding the *minimum* supported TensorFlow/Keras/numpy
(not the versions constraints.txt pins), installs the wheel there with plain `pip install`
(no constraints), checks that TensorFlow, Keras and numpy kept their versions, then runs
`examples/quickstart.ipynb` in a Jupyter kernel of that venv and checks its outputs hold
fitdoctor's cards. With Chromium present it renders the executed notebook to HTML (nbconvert)
and screenshots it. Not run by CI: it downloads TensorFlow (~230 MB).

    python benchmarks/install_bench.py            # results in benchmarks/results/install.json
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work" / "install"
RESULTS = HERE / "results"
# The oldest versions fitdoctor supports (pyproject.toml states the same ranges).
MINIMUM = {"tensorflow-cpu": "2.18.1", "keras": "3.5.0", "numpy": "2.0.2"}
NOTEBOOK_TOOLS = ["ipykernel", "nbclient", "nbformat", "nbconvert"]
WATCHED = ("tensorflow-cpu", "keras", "numpy")

RUN_NOTEBOOK = """
import json, sys, time
import nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], as_version=4)
start = time.perf_counter()
NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": sys.argv[2]}}).execute()
seconds = time.perf_counter() - start
nbformat.write(nb, sys.argv[3])
outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
html = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]
print(json.dumps({
    "seconds": round(seconds, 1),
    "errors": [o.get("ename", "") + ": " + o.get("evalue", "") for o in outputs if o.output_type == "error"],
    "html_outputs": len(html),
    "cards": sum('class="fitdoctor' in h for h in html),
}))
"""


def run(*args, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True, **kw)


def versions(python: Path) -> dict[str, str]:
    listed = json.loads(run(python, "-m", "pip", "list", "--format", "json").stdout)
    return {p["name"].lower().replace("_", "-"): p["version"] for p in listed}


def screenshot(executed: Path, venv_bin: Path) -> str | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        return None
    run(venv_bin / "jupyter", "nbconvert", "--to", "html", executed, "--output-dir", WORK)
    page = WORK / (executed.stem + ".html")
    shot = RESULTS / "quickstart-notebook.png"
    run(
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--window-size=1100,6000",
        f"--user-data-dir={WORK / 'chromium'}",
        f"--screenshot={shot}",
        page.as_uri(),
        timeout=180,
    )
    return str(shot.relative_to(ROOT))


def main() -> None:
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    start = time.perf_counter()
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", WORK / "dist", ROOT)
    wheel = next((WORK / "dist").glob("fitdoctor-*.whl"))
    venv = WORK / "venv"
    run(sys.executable, "-m", "venv", venv)
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", *(f"{k}=={v}" for k, v in MINIMUM.items()), *NOTEBOOK_TOOLS)
    before = versions(python)
    run(python, "-m", "pip", "install", "-q", wheel)
    after = versions(python)
    kept = {name: before.get(name) == after.get(name) == MINIMUM[name] for name in WATCHED}
    executed = WORK / "quickstart-executed.ipynb"
    (WORK / "nb").mkdir()
    notebook = json.loads(
        run(python, "-c", RUN_NOTEBOOK, ROOT / "examples" / "quickstart.ipynb", WORK / "nb", executed).stdout
    )
    result = {
        "wheel": wheel.name,
        "environment_before": {name: before.get(name) for name in WATCHED},
        "environment_after": {name: after.get(name) for name in WATCHED},
        "kept_versions": kept,
        "installed_by_fitdoctor": sorted(set(after) - set(before)),
        "notebook": notebook,
        "screenshot": screenshot(executed, venv / "bin"),
        "python": sys.version.split()[0],
        "total_seconds": round(time.perf_counter() - start, 1),
    }
    result["passed"] = all(kept.values()) and not notebook["errors"] and notebook["cards"] >= 4
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "install.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))
    sys.exit(0 if result["passed"] else 1)


if __name__ == "__main__":
    main()
