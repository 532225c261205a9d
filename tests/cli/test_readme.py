"""Every ```bash and ```python example of both READMEs runs, in order, in a fresh folder.

The ```sh blocks are the two set-up commands (`make demo`, `make test`: CI runs the second, and
`tests/cli/test_demo.py` runs the demo) and the multi-machine TF_CONFIG example (run by
`tests/training/test_distribute.py` on two local workers).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def blocks() -> list[tuple[str, str]]:
    seen, out = set(), []
    for name in ("README.md", "README.pt-BR.md"):
        for lang, body in re.findall(r"```(bash|python)\n(.*?)```", (ROOT / name).read_text(encoding="utf-8"), re.S):
            if body not in seen:
                seen.add(body)
                out.append((lang, body))
    return out


def test_readmes_have_examples():
    langs = [lang for lang, _ in blocks()]
    assert langs.count("bash") >= 2 and langs.count("python") >= 1


def test_every_example_runs(tmp_path):
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    for lang, body in blocks():
        if lang == "bash":
            cmd = ["bash", "-euo", "pipefail", "-c", body]
        else:
            cmd = [sys.executable, "-c", body]
        proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400)
        if proc.returncode != 0:
            pytest.fail(f"README example failed ({lang}):\n{body}\n--- stderr ---\n{proc.stderr[-3000:]}")
    assert (tmp_path / "runs" / "first" / "report.html").exists()
    assert (tmp_path / "runs" / "fixed" / "report.pt.html").exists()


def test_the_diagnose_output_shown_in_each_readme_is_what_it_prints(tmp_path):
    """The README once showed numbers the code no longer printed: the text block after a diagnose example is checked."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    checked = 0
    for name in ("README.md", "README.pt-BR.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        for body, shown in re.findall(
            r"```bash\n((?:[^`]*\n)?fitdoctor diagnose [^\n]*\n)```\n\n```text\n(.*?)```", text, re.S
        ):
            proc = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", body], cwd=tmp_path, env=env, capture_output=True, text=True
            )
            assert proc.returncode == 0, proc.stderr[-2000:]
            assert proc.stdout.strip() == shown.strip(), f"{name}: the README shows other output than it prints"
            checked += 1
    assert checked >= 1


def test_every_spec_shown_in_the_readme_reads():
    """The ```yaml blocks are specs: each one reads (its sections, keys and fine_tune checked) without Keras."""
    from fitdoctor.model.spec import load_spec

    specs = re.findall(r"```yaml\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert len(specs) >= 2
    for text in specs:
        assert load_spec(text).raw["model"]
    tuned = [load_spec(text) for text in specs if "fine_tune" in text]
    assert tuned and tuned[0].raw["fit"]["fine_tune"] == {"unfreeze": 20, "epochs": 10, "learning_rate": 1e-5}
