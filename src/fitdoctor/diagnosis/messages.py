"""Message catalogs (gettext `.po` files) for English and Brazilian Portuguese.

Every user-facing sentence of the diagnosis has a key; `locale/en.po` and
`locale/pt_BR.po` hold the same keys (a test checks). Texts use `{name}` placeholders
filled with `str.format`.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

LOCALE_DIR = Path(__file__).with_name("locale")
LANGS = {"en": "en", "pt": "pt_BR", "pt_BR": "pt_BR", "pt-BR": "pt_BR"}


_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(text: str) -> str:
    """The value of one quoted .po string (escapes: \\n \\t \\" \\\\)."""
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        raise ValueError(f"bad .po string: {text!r}")
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text[1:-1])


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """The messages of one language, parsed from its `.po` file.

    Example:
        >>> catalog("pt_BR")["verdict.overfitting"]
        'overfitting'
    """
    path = LOCALE_DIR / f"{lang}.po"
    messages: dict[str, str] = {}
    key = None
    current: list[str] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("msgid "):
            key, current = None, [_unquote(line[6:])]
        elif line.startswith("msgstr "):
            key = "".join(current or [])
            current = [_unquote(line[7:])]
            messages[key] = ""
        elif line.startswith('"') and current is not None:
            current.append(_unquote(line))
        if key is not None and current is not None:
            messages[key] = "".join(current)
    messages.pop("", None)
    return messages


def resolve_lang(lang: str | None = None) -> str:
    """`en` or `pt_BR`, from an explicit choice or the locale (LC_ALL, LC_MESSAGES, LANG)."""
    if lang:
        if lang not in LANGS:
            from fitdoctor.errors import param_error

            raise param_error("lang", "diagnose", "one of en, pt", lang)
        return LANGS[lang]
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "pt_BR" if value.lower().startswith("pt") else "en"
    return "en"


def t(key: str, lang: str = "en", **values) -> str:
    """The message `key` in `lang`, with its placeholders filled.

    Example:
        >>> t("verdict.good_fit", "pt_BR")
        'bom ajuste'
    """
    text = catalog(resolve_lang(lang) if lang not in ("en", "pt_BR") else lang).get(key)
    if text is None:
        text = catalog("en").get(key, key)
    return text.format(**values) if values else text
