"""User-facing errors: one line that names the file or parameter and says what to do.

The CLI turns a `UserError` into that one line on stderr and exit code 2, with no
traceback (unless `--debug`). Anything else is an internal error (exit 1).
"""

from __future__ import annotations

from collections.abc import Iterable


class UserError(Exception):
    """Bad input from the user: a file, a folder, a parameter, a spec field.

    Args:
        message: One sentence that names what is wrong and how to fix it.

    Example:
        >>> raise UserError("Folder 'imgs' does not exist. Pass an existing folder.")
        Traceback (most recent call last):
        ...
        fitdoctor.errors.UserError: Folder 'imgs' does not exist. Pass an existing folder.
    """


def param_error(name: str, where: str, expected: str, got: object) -> UserError:
    """The one template for a bad parameter, in the scikit-learn voice.

    Args:
        name: The parameter's name, e.g. `"ratio"`.
        where: The command or function it belongs to, e.g. `"split"`.
        expected: What it must be, e.g. `"2 or 3 numbers in (0, 1) that sum to 1"`.
        got: The value received.

    Example:
        >>> str(param_error("ratio", "split", "2 or 3 numbers that sum to 1", (0.9, 0.9)))
        "The 'ratio' parameter of split must be 2 or 3 numbers that sum to 1. Got (0.9, 0.9) instead."
    """
    from fitdoctor.i18n import _

    return UserError(
        _(
            "The '{name}' parameter of {where} must be {expected}. Got {got!r} instead.",
            name=name,
            where=where,
            expected=expected,
            got=got,
        )
    )


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice closest to a misspelt name, or None when nothing is close.

    Example:
        >>> closest("Flaten", ["Flatten", "Dense"])
        'Flatten'
    """
    import difflib

    pool = list(choices)
    lowered = {c.lower(): c for c in pool}
    hit = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[hit[0]] if hit else None


def did_you_mean(name: object, choices: Iterable[str], *, show_choices: bool = False) -> str:
    """The end of an "unknown name" error: the closest choice, else (when asked) the list, else nothing.

    The one way fitdoctor says "did you mean": every unknown name (spec section, key, layer,
    argument, activation, callback, quality finding) ends its error with it.

    Args:
        name: The misspelt name.
        choices: The names that exist.
        show_choices: With nothing close, list the choices instead.

    Example:
        >>> did_you_mean("Flaten", ["Flatten", "Dense"])
        " Did you mean 'Flatten'?"
        >>> did_you_mean("zzz", ["dark", "light"], show_choices=True)
        ' Choose from: dark, light.'
    """
    from fitdoctor.i18n import _

    pool = list(choices)
    hint = closest(str(name), pool)
    if hint:
        return _(" Did you mean '{hint}'?", hint=hint)
    return _(" Choose from: {choices}.", choices=", ".join(pool)) if show_choices else ""


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none.

    Example:
        >>> first_line(ValueError("Input size must be at least 32x32")), first_line(KeyError())
        ('Input size must be at least 32x32', 'KeyError')
    """
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
