"""Fixtures for the whole suite: the tests in tests/ and the docstring examples in src/."""

import pytest


@pytest.fixture(autouse=True)
def _english_unless_asked(monkeypatch):
    """Tests and examples pin English wording: English whatever the machine's locale, and no --lang left over."""
    from fitdoctor.i18n import set_lang

    monkeypatch.setenv("FITDOCTOR_LANG", "en")
    yield
    set_lang(None)


def _repository_state(root):
    import shutil
    import subprocess

    if not shutil.which("git") or not (root / ".git").exists():
        return None
    proc = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"], cwd=root, capture_output=True, text=True
    )
    return proc.stdout if proc.returncode == 0 else None


@pytest.fixture(scope="session", autouse=True)
def _the_repository_is_left_as_it_was():
    """No test writes into the repository: `git status` is the same after the suite as before it."""
    from pathlib import Path

    root = Path(__file__).resolve().parent
    before = _repository_state(root)
    yield
    after = _repository_state(root)
    if before is not None and after != before:
        pytest.fail(f"the suite changed the repository:\n{after}")
