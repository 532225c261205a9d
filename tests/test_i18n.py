"""One message system: every user-facing string is in the catalog, and both languages say it all."""

from __future__ import annotations

import ast
import gettext
import io
import re
import sys
from pathlib import Path

import pytest

from fitdoctor import i18n
from fitdoctor.cli import main
from fitdoctor.i18n import compile_po, po_path, read_po, resolve_lang, t

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "fitdoctor"
KEY = re.compile(r"^[a-z_0-9]+(\.[a-z_0-9]+)+$")  # keyed messages: what stored records name
sys.path.insert(0, str(ROOT / "scripts"))
import messages  # noqa: E402  (scripts/messages.py: the catalog's tools)


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"(?<!\{)\{(\w+)", text))


def test_every_key_is_in_both_languages():
    en, pt = read_po(po_path("en")), read_po(po_path("pt_BR"))
    keys_pt = {k for k in pt if KEY.match(k)}
    assert set(en) == keys_pt, f"missing in pt: {set(en) - keys_pt}; missing in en: {keys_pt - set(en)}"


def test_every_sentence_of_the_code_is_translated():
    pt = read_po(po_path("pt_BR"))
    missing = {k: where[0] for k, where in messages.sentences().items() if k not in pt}
    assert not missing, missing


def test_translations_keep_every_placeholder():
    en, pt = read_po(po_path("en")), read_po(po_path("pt_BR"))
    for msgid, text in pt.items():
        original = en.get(msgid, msgid)
        assert _placeholders(original) == _placeholders(text), msgid


def test_portuguese_uses_the_notes_words():
    text = " ".join(read_po(po_path("pt_BR")).values())
    for word in ("perda", "acurácia", "treino", "validação", "overfitting", "underfitting", "taxa de aprendizado"):
        assert word in text


def test_compiled_catalog_reads_back_with_gettext():
    messages_pt = read_po(po_path("pt_BR"))
    catalog = gettext.GNUTranslations(io.BytesIO(compile_po(messages_pt, i18n.PLURAL_FORMS["pt_BR"])))
    plain = {k: v for k, v in messages_pt.items() if "\0" not in k}
    assert all(catalog.gettext(k) == v for k, v in plain.items())
    plurals = {tuple(k.split("\0")): v.split("\0") for k, v in messages_pt.items() if "\0" in k}
    assert plurals and all(
        catalog.ngettext(s, p, 1) == forms[0] and catalog.ngettext(s, p, 3) == forms[1]
        for (s, p), forms in plurals.items()
    )


def test_language_choice_order(monkeypatch):
    for var in ("LC_ALL", "LC_MESSAGES", "FITDOCTOR_LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "pt_BR.UTF-8")
    assert resolve_lang() == "pt_BR"  # the locale
    monkeypatch.setenv("FITDOCTOR_LANG", "en")
    assert resolve_lang() == "en"  # FITDOCTOR_LANG before the locale
    i18n.set_lang("pt")
    try:
        assert resolve_lang() == "pt_BR" and resolve_lang("en") == "en"  # --lang, then an explicit argument
    finally:
        i18n.set_lang(None)
    assert t("verdict.still_improving", "pt") == "ainda melhorando"


# Where user-facing text is written: these calls and keywords take `_()`, never a bare literal.
TEXT_CALLS = {"UserError", "log", "say", "echo"}


def _pieces(node):
    if isinstance(node, ast.Constant | ast.JoinedStr):
        yield node
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        yield from _pieces(node.left)
        yield from _pieces(node.right)
    elif isinstance(node, ast.IfExp):
        yield from _pieces(node.body)
        yield from _pieces(node.orelse)


def _text_arguments(tree):
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name == "param_error" and len(node.args) >= 3:
            yield node.args[2]
        elif name in TEXT_CALLS and node.args:
            yield node.args[0]
        elif name == "append" and "warning" in ast.unparse(node.func.value) and node.args:
            yield node.args[0]
        for kw in node.keywords:
            if kw.arg == "help":
                yield kw.value


def test_no_user_facing_string_outside_the_catalog():
    bare = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for arg in _text_arguments(tree):
            for piece in _pieces(arg):
                text = piece.value if isinstance(piece, ast.Constant) else ast.unparse(piece)
                if isinstance(text, str) and re.search(r"[A-Za-z]{3}", re.sub(r"\{[^}]*\}", "", text)):
                    bare.append(f"{path.relative_to(ROOT)}:{piece.lineno}: {text[:70]!r}")
    assert not bare, "\n".join(bare)


def test_every_command_has_translated_help():
    undocumented = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef):
                for dec in node.decorator_list:
                    if (
                        isinstance(dec, ast.Call)
                        and isinstance(dec.func, ast.Attribute)
                        and dec.func.attr in ("command", "group")
                        and not any(kw.arg == "help" for kw in dec.keywords)
                    ):
                        undocumented.append(f"{path.name}: {node.name}")
    assert not undocumented, undocumented


@pytest.mark.parametrize(
    "argv, words",
    [
        (["data", "split", "x", "y", "--ratio", "2", "2"], "precisa ser 2 ou 3 números"),
        (["data", "inspect", "{tmp}/none"], "não existe"),
        (["data", "undo", "{tmp}"], "não contém uma divisão do fitdoctor"),
        (["data", "clean", "{tmp}", "--quarantine", "{tmp}/q", "--restore"], "não tem registro de quarentena"),
        (["data", "pack", "{tmp}/none", "{tmp}/a.zip"], "não existe"),
        (["data", "unpack", "{tmp}/none.zip", "{tmp}/out"], "não existe"),
        (["diagnose", "{tmp}/none.json"], "não existe"),
        (["train", "{tmp}/none.yaml", "--data", "{tmp}", "--run", "{tmp}/r"], "não existe"),
        (["fix", "{tmp}/none.yaml", "--data", "{tmp}", "--run", "{tmp}/r"], "não existe"),
        (["lr-find", "{tmp}/none.yaml", "--data", "{tmp}", "--run", "{tmp}/r"], "não existe"),
        (["report", "{tmp}/none"], "não existe"),
    ],
)
def test_every_command_errors_in_portuguese(argv, words, tmp_path, monkeypatch, capsys):
    """`FITDOCTOR_LANG=pt fitdoctor ...`: the one-line error is Portuguese, exit 2."""
    monkeypatch.setenv("FITDOCTOR_LANG", "pt")
    code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("Erro: ") and words in err, err


def test_clicks_own_usage_errors_speak_portuguese_too(monkeypatch, capsys):
    monkeypatch.setenv("FITDOCTOR_LANG", "pt")
    assert main(["spec", "new", "--preset", "nope"]) == 2
    err = capsys.readouterr().err
    assert "Uso: fitdoctor spec new" in err and "Valor inválido para '--preset': 'nope' não é um entre" in err
    assert main(["data", "inspect", "a", "b"]) == 2
    assert "Argumento a mais inesperado (b)" in capsys.readouterr().err


def test_the_cli_lang_option_wins_over_the_environment(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FITDOCTOR_LANG", "en")
    assert main(["--lang", "pt", "diagnose", str(tmp_path / "none.json")]) == 2
    assert "não existe" in capsys.readouterr().err


def test_no_function_hides_the_translation_function():
    """A local `_` (say `user, _, group = ...`) would make `_("...")` in that function fail at run time."""
    hidden = []
    for path in sorted(SRC.rglob("*.py")):
        for fn in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                nodes = list(ast.walk(fn))
                stores = any(isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store) for n in nodes)
                calls = any(isinstance(n, ast.Call) and getattr(n.func, "id", None) == "_" for n in nodes)
                if stores and calls:
                    hidden.append(f"{path.relative_to(ROOT)}:{fn.lineno} {fn.name}")
    assert not hidden, hidden


def test_no_stale_sentence_in_the_catalog():
    used = set(messages.sentences())
    stale = [k for k in read_po(po_path("pt_BR")) if not KEY.match(k) and k not in used]
    assert not stale, stale
