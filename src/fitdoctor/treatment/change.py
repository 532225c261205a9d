"""What a remedy changed, or why it was chosen: a message key and its values, said in any language.

`treatment.json` stores these as `{"key": ..., "values": {...}}`, keys and numbers only; the
summary, the report and the progress lines render them in the reader's language. A value
may itself be a message (`{"key": "form.high_loss"}`): it is rendered first.
"""

from __future__ import annotations

from fitdoctor.i18n import t


class Change:
    """One message: its catalog key and values; `str()` is the English text.

    Example:
        >>> c = Change("change.clipnorm")
        >>> str(c), render(c.to_dict(), "pt_BR")
        ('add clipnorm=1.0 to the optimizer', 'adicionar clipnorm=1.0 ao otimizador')
    """

    def __init__(self, key: str, **values):
        self.key, self.values = key, values

    def __str__(self) -> str:
        return render(self.to_dict(), "en")

    def __repr__(self) -> str:
        return f"Change({self.key!r}, **{self.values!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Change) and (self.key, self.values) == (other.key, other.values)

    def to_dict(self) -> dict:
        """What `treatment.json` stores: `{"key", "values"}`."""
        return {
            "key": self.key,
            "values": {k: v.to_dict() if isinstance(v, Change) else v for k, v in self.values.items()},
        }


def render(message: dict, lang: str) -> str:
    """A stored message in `lang` (values that are messages themselves rendered first).

    Example:
        >>> render({"key": "because.diverged", "values": {"form": {"key": "form.nan"}, "epoch": 3}}, "en")
        'diverged (the loss became NaN or infinite at epoch 3)'
    """
    values = {
        k: render(v, lang) if isinstance(v, dict) and "key" in v else v
        for k, v in (message.get("values") or {}).items()
    }
    return t(message["key"], lang, **values)
