"""The message catalog's tools: list the sentences of src/ and check that pt_BR translates each.

    python scripts/messages.py            # the sentences pt_BR lacks, as .po entries to fill in
    python scripts/messages.py --check    # exit 1 when any is missing (the test suite does the same)

A sentence is the first argument of `_()` or `N_()`: a string literal (its English text is its id);
a sentence with a plural is the two first arguments of `N_plural()` or `ngettext()`.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "fitdoctor"


def sentences() -> dict[str, list[str]]:
    """msgid -> where it is used ("path:line"), for every `_()`/`N_()` call in src/."""
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("_", "N_", "N_plural", "ngettext")
                and node.args
            ):
                # a plural sentence is stored as gettext stores it: singular NUL plural
                forms = node.args[:2] if node.func.id in ("N_plural", "ngettext") else node.args[:1]
                if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in forms):
                    continue
                key = "\0".join(a.value for a in forms)
                found.setdefault(key, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def po_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT / "src"))
    from fitdoctor.i18n import po_path, read_po

    have = read_po(po_path("pt_BR"))
    missing = {k: v for k, v in sentences().items() if k not in have}
    if "--check" in argv:
        for k, where in missing.items():
            print(f"{where[0]}: no pt_BR translation for {k!r}")
        return 1 if missing else 0
    for k, where in missing.items():
        print(f'#: {" ".join(where)}\nmsgid {po_quote(k)}\nmsgstr ""\n')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
