"""A remedy's change: English text (the treatment.json contract) that also knows its message key,
so the summary and the report can say it in Portuguese too."""

from __future__ import annotations

from fitdoctor.i18n import t


class Change(str):
    """`str` of the English text; `.message` (its key and values) re-renders it in any language.

    Example:
        >>> c = Change("change.clipnorm")
        >>> str(c), render(c, c.message, "pt_BR")
        ('add clipnorm=1.0 to the optimizer', 'adicionar clipnorm=1.0 ao otimizador')
    """

    key: str
    values: dict

    def __new__(cls, key: str, **values) -> Change:
        obj = super().__new__(cls, t(key, "en", **values))
        obj.key, obj.values = key, values
        return obj

    @property
    def message(self) -> dict:
        """What `treatment.json` stores beside the English text: `{"key", "values"}`."""
        return {"key": self.key, "values": self.values}


def render(text: str, message: dict | None, lang: str) -> str:
    """A stored change (or reason) in `lang`, from its message when it has one."""
    if message and message.get("key"):
        return t(message["key"], lang, **message.get("values", {}))
    return text
