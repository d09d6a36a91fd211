"""Phone-number normalisation: the one place where the project decides what a number is.

F-CRM-1: only the digits of a phone number count. ``+``, spaces, parentheses and
hyphens are presentation and are dropped; any other character means the text is
not a phone number, and that is reported rather than silently discarded, so
``"+39 02 1234-5678"`` and ``"390212345678"`` compare equal while ``"39O2..."``
(a letter O) is refused. Every comparison of DIDs, caller IDs and CRM phone
fields goes through :func:`digits`.
"""

from __future__ import annotations

__all__ = ["PRESENTATION_CHARACTERS", "InvalidNumberError", "digits", "same_number"]

#: Characters that may appear in a written phone number and carry no meaning.
PRESENTATION_CHARACTERS = frozenset("+ ()-")


class InvalidNumberError(ValueError):
    """The text is not a phone number: a character other than digits and presentation."""


def digits(number: str) -> str:
    """Return only the digits of ``number``.

    ``+``, spaces, ``(``, ``)`` and ``-`` are ignored. Raises
    :class:`InvalidNumberError` naming the first offending character when
    anything else is present, or when no digit is present at all.
    """
    kept: list[str] = []
    for char in number:
        if "0" <= char <= "9":
            kept.append(char)
        elif char not in PRESENTATION_CHARACTERS:
            raise InvalidNumberError(
                f"not a phone number: {number!r} contains {char!r} "
                "(only digits, '+', spaces, '(', ')' and '-' are allowed)"
            )
    if not kept:
        raise InvalidNumberError(f"not a phone number: {number!r} has no digits")
    return "".join(kept)


def same_number(left: str, right: str) -> bool:
    """Whether two written phone numbers have the same digits (both must be valid)."""
    return digits(left) == digits(right)
