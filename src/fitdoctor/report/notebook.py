"""fitdoctor in Jupyter, Colab and Kaggle: one display that updates in place while a model trains.

`LiveDisplay` shows the live card (curves, best epoch, onset, the current finding) through
IPython's display ids, so each epoch replaces the card instead of printing below it. No
widgets are needed, and the card is plain HTML with inline SVG: it also survives in a saved
notebook. Outside a notebook nothing here is used and IPython is never imported.

Example:
    >>> in_notebook()  # a doctest runs in no notebook
    False
"""

from __future__ import annotations

import sys


def in_notebook() -> bool:
    """Whether code runs in a Jupyter kernel (Jupyter, Colab, Kaggle, VS Code), not a terminal."""
    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


class LiveDisplay:
    """One notebook output that the `FitDoctor` callback replaces after each epoch."""

    def __init__(self):
        self.handle = None

    def update(self, card_html: str) -> None:
        """Show `card_html`: the first call creates the output, later calls replace it in place."""
        from IPython.display import HTML, display

        if self.handle is None:
            self.handle = display(HTML(card_html), display_id=True)
        else:
            self.handle.update(HTML(card_html))
