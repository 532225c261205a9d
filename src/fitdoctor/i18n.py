"""One message system for every user-facing string, on the standard library's `gettext`.

Two kinds of message live in one catalog per language (`locale/<lang>/LC_MESSAGES/fitdoctor.po`):

- **Sentences** (errors, CLI help, progress lines) use their English text as the message id,
  as click does: `_("Folder '{path}' does not exist.", path=p)`. English needs no entry;
  `pt_BR` translates each one.
- **Keyed messages** (`t("verdict.overfitting")`) are what stored records name: a diagnosis or
  a treatment keeps keys and numbers, and any record is rendered in either language later.
  Both catalogs hold every key.

Placeholders are `{name}` fields filled with `str.format` after translation. The language
comes from, in order: `set_lang` (the CLI's `--lang`), `FITDOCTOR_LANG`, then the locale
(`LC_ALL`, `LC_MESSAGES`, `LANG`). `.mo` files are compiled from the `.po` files when the
package is installed (`make`, the wheel build) and by the test suite; a catalog whose `.mo` is
missing or older than its `.po` is compiled in memory, so a change to a `.po` file always shows.

Example:
    >>> t("verdict.good_fit", "pt")
    'bom ajuste'
    >>> _("Report: {path}", path="runs/a/report.html"), _("Report: {path}", "pt", path="runs/a/report.html")
    ('Report: runs/a/report.html', 'Relatório: runs/a/report.html')
"""

from __future__ import annotations

import ast
import functools
import gettext
import io
import os
import struct
from pathlib import Path

DOMAIN = "fitdoctor"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGS = {"en": "en", "pt": "pt_BR", "pt_BR": "pt_BR", "pt-BR": "pt_BR", "pt_br": "pt_BR", "pt-br": "pt_BR"}
CHOICES = ("en", "pt")
_chosen: str | None = None  # set by `set_lang` (the CLI's --lang)


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_po(path: str | os.PathLike) -> dict[str, str]:
    """The messages of a `.po` file: msgid -> msgstr (the header entry left out).

    Handles what the catalogs use: `#` comments, `msgid`/`msgstr` with continuation lines,
    plural entries (`msgid_plural`, `msgstr[N]`: kept as gettext stores them, the forms joined
    by NUL) and the escapes of C strings (read with `ast.literal_eval`).
    """
    messages: dict[str, str] = {}
    ids: list[list[str]] = []  # msgid, then msgid_plural
    strs: list[list[str]] = []  # msgstr, or msgstr[0], msgstr[1], ...
    current: list[str] | None = None

    def close():
        if ids and strs:
            messages["\0".join("".join(p) for p in ids)] = "\0".join("".join(p) for p in strs)

    for number, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            head, _sep, rest = line.partition(" ")
            if head == "msgid":
                close()
                ids, strs = [[ast.literal_eval(rest)]], []
                current = ids[-1]
            elif head == "msgid_plural":
                ids.append([ast.literal_eval(rest)])
                current = ids[-1]
            elif head == "msgstr" or head.startswith("msgstr["):
                strs.append([ast.literal_eval(rest)])
                current = strs[-1]
            elif line.startswith('"') and current is not None:
                current.append(ast.literal_eval(line))
            else:
                raise ValueError(line)
        except (ValueError, SyntaxError) as exc:
            raise ValueError(f"{path} line {number}: not a .po line: {raw!r}") from exc
    close()
    messages.pop("", None)
    return messages


PLURAL_FORMS = {"en": "nplurals=2; plural=(n != 1);", "pt_BR": "nplurals=2; plural=(n > 1);"}


def compile_po(messages: dict[str, str], plural_forms: str = PLURAL_FORMS["en"]) -> bytes:
    """The GNU `.mo` bytes of a catalog (what `msgfmt` writes; `gettext.GNUTranslations` reads it)."""
    header = f"Content-Type: text/plain; charset=UTF-8\nPlural-Forms: {plural_forms}\n"
    entries = sorted({"": header, **messages}.items())
    ids = [k.encode("utf-8") for k, _ in entries]
    strs = [v.encode("utf-8") for _, v in entries]
    n = len(entries)
    start = 7 * 4 + 16 * n
    offsets, data = [], b""
    for blob in ids:
        offsets.append((len(blob), start + len(data)))
        data += blob + b"\0"
    str_offsets = []
    for blob in strs:
        str_offsets.append((len(blob), start + len(data)))
        data += blob + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, n, 7 * 4, 7 * 4 + 8 * n, 0, 0)
    table = b"".join(struct.pack("<2I", *o) for o in offsets) + b"".join(struct.pack("<2I", *o) for o in str_offsets)
    return header + table + data


def compile_catalogs() -> list[Path]:
    """Write each language's `.mo` beside its `.po` (run at install and test time); return the paths."""
    from fitdoctor.fsio import atomic_open

    written = []
    for lang in sorted(set(LANGS.values())):
        po = po_path(lang)
        mo = po.with_suffix(".mo")
        with atomic_open(mo, "wb") as f:
            f.write(compile_po(read_po(po), PLURAL_FORMS[lang]))
        written.append(mo)
    return written


@functools.cache
def translations(lang: str) -> gettext.GNUTranslations:
    """The compiled catalog of `en` or `pt_BR` (from its `.mo`, or compiled in memory when that is stale)."""
    po = po_path(lang)
    mo = po.with_suffix(".mo")
    if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
        with open(mo, "rb") as f:
            return gettext.GNUTranslations(f)
    return gettext.GNUTranslations(io.BytesIO(compile_po(read_po(po), PLURAL_FORMS[lang])))


def set_lang(lang: str | None) -> None:
    """Choose the language of every message from now on (None: back to the environment)."""
    global _chosen
    _chosen = resolve_lang(lang) if lang else None


def resolve_lang(lang: str | None = None) -> str:
    """`en` or `pt_BR`: an explicit choice, else `set_lang`'s, else FITDOCTOR_LANG, else the locale.

    Example:
        >>> resolve_lang("pt"), resolve_lang("en")
        ('pt_BR', 'en')
    """
    if lang:
        if lang not in LANGS:
            from fitdoctor.errors import param_error

            raise param_error("lang", "fitdoctor", _("one of en, pt"), lang)
        return LANGS[lang]
    if _chosen:
        return _chosen
    wanted = os.environ.get("FITDOCTOR_LANG", "")
    if wanted:
        return LANGS.get(wanted, LANGS.get(wanted.split(".")[0], "pt_BR" if wanted.lower().startswith("pt") else "en"))
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "pt_BR" if value.lower().startswith("pt") else "en"
    return "en"


def _fill(text: str, values: dict) -> str:
    return text.format(**values) if values else text


def _(message: str, lang: str | None = None, **values) -> str:
    """A sentence (its English text is its id) in the current language, placeholders filled."""
    return _fill(translations(resolve_lang(lang)).gettext(message), values)


def N_(message: str) -> str:
    """Mark a sentence for the catalog without translating it yet (translated where it is shown)."""
    return message


def ngettext(singular: str, plural: str, n: int, lang: str | None = None) -> str:
    """The form of a sentence for a count `n` (English ids, as `gettext.ngettext`), in the current language."""
    return translations(resolve_lang(lang)).ngettext(singular, plural, n)


def N_plural(singular: str, plural: str) -> tuple[str, str]:
    """Mark a sentence with a plural form for the catalog (`ngettext` translates it where it is shown)."""
    return singular, plural


def t(key: str, lang: str | None = None, **values) -> str:
    """A keyed message (what stored records name) in `lang`, placeholders filled."""
    language = resolve_lang(lang)
    text = translations(language).gettext(key)
    if text == key and language != "en":
        text = translations("en").gettext(key)
    return _fill(text, values)


if __name__ == "__main__":  # python -m fitdoctor.i18n: compile the catalogs
    for path in compile_catalogs():
        print(path)
