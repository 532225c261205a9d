"""Parameters checked once, in the library, declared beside each public function.

In the spirit of scikit-learn's `validate_params`: a public function lists what each
parameter must be, and every caller (the CLI, a notebook, a script) gets the same one-line
error, in the user's language, before any work starts. The CLI only converts text to types.

Example:
    >>> @validate_params({"epochs": Whole(minimum=1)}, where="train")
    ... def train(epochs=10):
    ...     return epochs
    >>> train(epochs=0)
    Traceback (most recent call last):
    ...
    fitdoctor.errors.UserError: The 'epochs' parameter of train must be a whole number >= 1. Got 0 instead.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import re

from fitdoctor.errors import param_error
from fitdoctor.i18n import LANGS, _


class Rule:
    """What one parameter must be: `ok(value)` and the sentence `expected()` (translated when shown).

    Args:
        none_ok: None is accepted too (the parameter is optional).
    """

    def __init__(self, *, none_ok: bool = False):
        self.none_ok = none_ok

    def ok(self, value) -> bool:
        raise NotImplementedError

    def expected(self) -> str:
        raise NotImplementedError

    def accepts(self, value) -> bool:
        return (value is None and self.none_ok) or (value is not None and self.ok(value))


def _is_whole(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return True
    return isinstance(value, numbers.Real) and float(value).is_integer()


class Whole(Rule):
    """A whole number (1 and 1.0, not 1.5 or True), at least `minimum`; None when `none_ok`."""

    def __init__(self, minimum: int | None = None, *, none_ok: bool = False):
        super().__init__(none_ok=none_ok)
        self.minimum = minimum

    def ok(self, value) -> bool:
        return _is_whole(value) and (self.minimum is None or value >= self.minimum)

    def expected(self) -> str:
        if self.minimum is None:
            return _("a whole number")
        return _("a whole number >= {minimum}", minimum=self.minimum)


class Positive(Rule):
    """A finite number above 0."""

    def ok(self, value) -> bool:
        return isinstance(value, numbers.Real) and not isinstance(value, bool) and 0 < value < float("inf")

    def expected(self) -> str:
        return _("a number above 0")


class OneOf(Rule):
    """One of the listed choices; None when `none_ok`."""

    def __init__(self, *choices, none_ok: bool = False):
        super().__init__(none_ok=none_ok)
        self.choices = choices

    def ok(self, value) -> bool:
        return value in self.choices

    def expected(self) -> str:
        return _("one of {choices}", choices=", ".join(map(str, self.choices)))


class Fractions(Rule):
    """2 or 3 numbers in (0, 1) that sum to 1 (a split's ratio); None when `none_ok`."""

    def ok(self, value) -> bool:
        try:
            values = [float(v) for v in value]
        except (TypeError, ValueError):
            return False
        return len(values) in (2, 3) and all(0 < v < 1 for v in values) and abs(sum(values) - 1) <= 1e-6

    def expected(self) -> str:
        return _("2 or 3 numbers in (0, 1) that sum to 1")


class Counts(Rule):
    """2 or 3 whole numbers, each at least 1 (files per class for each split); None when `none_ok`."""

    def ok(self, value) -> bool:
        try:
            values = list(value)
        except TypeError:
            return False
        return len(values) in (2, 3) and all(_is_whole(v) and v >= 1 for v in values)

    def expected(self) -> str:
        return _("2 or 3 whole numbers of files per class, each at least 1")


class Range(Rule):
    """Two numbers (smallest, largest), 0 < smallest <= largest <= `maximum`."""

    def __init__(self, maximum: float, *, none_ok: bool = False):
        super().__init__(none_ok=none_ok)
        self.maximum = maximum

    def ok(self, value) -> bool:
        try:
            low, high = (float(v) for v in value)
        except (TypeError, ValueError):
            return False
        return 0 < low <= high <= self.maximum

    def expected(self) -> str:
        return _("two numbers SMALLEST LARGEST with 0 < SMALLEST <= LARGEST <= {maximum}", maximum=self.maximum)


class Regex(Rule):
    """A regular expression Python can compile; None when `none_ok`."""

    def ok(self, value) -> bool:
        try:
            re.compile(value)
        except (re.error, TypeError):
            return False
        return True

    def expected(self) -> str:
        return _("a valid regular expression")


LANG = OneOf(*LANGS, none_ok=True)
SEED = Whole(none_ok=True)
MODES = ("copy", "move", "hardlink", "symlink")
SPLIT = {
    "ratio": Fractions(none_ok=True),
    "fixed": Counts(none_ok=True),
    "seed": Whole(),
    "min_per_class": Whole(minimum=0),
    "group_by": Regex(none_ok=True),
}
# The parameters of every public function, in one table: each function is decorated with its
# entry, and the CLI checks a command's values against the same entry before it reads a spec.
RULES = {
    "split": {**SPLIT, "mode": OneOf(*MODES)},
    "train": {
        "epochs": Whole(minimum=1, none_ok=True),
        "seed": SEED,
        "distribute": OneOf("none", "mirrored", "multi_worker", none_ok=True),
    },
    "fix": {
        "max_rounds": Whole(minimum=0),
        "budget_epochs": Whole(minimum=1, none_ok=True),
        "seed": SEED,
        "lang": LANG,
    },
    "lr_find": {"start_lr": Positive(), "end_lr": Positive(), "steps": Whole(minimum=20), "seed": SEED, "lang": LANG},
    "diagnose": {"lang": LANG, "num_classes": Whole(minimum=2, none_ok=True)},
    "report": {"lang": LANG},
    "demo_set": {"limit_per_class": Whole(minimum=1, none_ok=True)},
    "photo_set": {
        "per_class": Whole(minimum=1),
        "megapixels": Range(maximum=50),
        "seed": Whole(),
        "workers": Whole(minimum=1, none_ok=True),
    },
}


def check_params(values: dict, rules: dict[str, Rule], where: str) -> None:
    """Raise the one-line error for the first value its rule refuses."""
    for name, rule in rules.items():
        if name in values and not rule.accepts(values[name]):
            value = values[name]
            raise param_error(name, where, rule.expected(), tuple(value) if isinstance(value, list) else value)


def validate_params(rules: dict[str, Rule], *, where: str | None = None):
    """Check a function's parameters against `rules` on every call, before its body runs.

    Args:
        rules: Parameter name -> `Rule`.
        where: The name errors give the function (default: its own name).
    """

    def decorate(func):
        signature = inspect.signature(func)
        unknown = set(rules) - set(signature.parameters)
        if unknown:
            raise TypeError(f"{func.__name__} has no parameter {sorted(unknown)}")

        @functools.wraps(func)
        def checked(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            check_params(bound.arguments, rules, where or func.__name__)
            return func(*args, **kwargs)

        checked.param_rules = rules
        return checked

    return decorate
