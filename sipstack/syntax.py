"""Lexical helpers shared by the header parsers (RFC 3261 §25.1).

``token``, ``quoted-string`` with ``quoted-pair`` escapes, the
``generic-param`` list that follows most header values, and splitting of
comma-separated header lists (§7.3.1) where commas may hide inside quotes or
``<...>``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from sipstack.errors import RemoteProtocolError

T = TypeVar("T")
# Entries per parse memo (see :func:`remember`).
MEMO_LIMIT = 4096

Params = tuple[tuple[str, str | None], ...]

TOKEN_CHARS = r"A-Za-z0-9\-.!%*_+`'~"
_TOKEN_RE = re.compile(rf"[{TOKEN_CHARS}]+\Z")
_DISPLAY_TOKENS_RE = re.compile(rf"[{TOKEN_CHARS}]+(?:[ \t]+[{TOKEN_CHARS}]+)*\Z")
_WS_RE = re.compile(r"\s+")
_QUOTED_PAIR_RE = re.compile(r"\\(.)", re.S)
# The common case of a parameter list: ``;name=value;flag`` with token values
# and no whitespace; anything else takes the general path.
_SIMPLE_PARAM = rf"[{TOKEN_CHARS}]+(?:=[{TOKEN_CHARS}:\[\]]+)?"
_SIMPLE_PARAMS_RE = re.compile(rf"{_SIMPLE_PARAM}(?:;{_SIMPLE_PARAM})*\Z")
# A generic-param value is a token, a host (incl. an IPv6 reference) or a quoted
# string; unquoted values are accepted liberally up to the next separator.
_PARAM_VALUE_RE = re.compile(r'[^\s,"<>;]+\Z')


def is_token(text: str) -> bool:
    """RFC 3261 ``token``."""
    return _TOKEN_RE.match(text) is not None


def scan_quoted(text: str, start: int) -> int:
    """Index just past the quoted string opening at ``text[start]`` (a '"').

    A backslash escapes any one character (``quoted-pair``), including a
    NUL or a '"' (RFC 4475 §3.1.1.1, §3.1.1.2).
    """
    i = start + 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        else:
            i += 1
    raise RemoteProtocolError(f"unterminated quoted string in {text[:80]!r}")


def find_unquoted(text: str, char: str) -> int:
    """Index of the first ``char`` outside quoted strings, or -1."""
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            i = scan_quoted(text, i)
            continue
        if c == char:
            return i
        i += 1
    return -1


def split_outside_quotes(text: str, sep: str) -> list[str]:
    """Split on ``sep`` where it is not inside a quoted string or ``<...>``."""
    if '"' not in text and "<" not in text:
        return text.split(sep)
    parts: list[str] = []
    start = i = 0
    n = len(text)
    angled = False
    while i < n:
        c = text[i]
        if c == '"':
            i = scan_quoted(text, i)
            continue
        if c == "<":
            angled = True
        elif c == ">":
            angled = False
        elif c == sep and not angled:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    parts.append(text[start:])
    return parts


def unquote(text: str) -> str:
    """Body of a quoted string with ``\\x`` escapes resolved."""
    inner = text[1:-1]
    if "\\" not in inner:
        return inner
    return _QUOTED_PAIR_RE.sub(r"\1", inner)


def quote(text: str) -> str:
    """``text`` as a quoted string (backslash and '"' escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_display(text: str) -> str | None:
    """A display name: a quoted string or LWS-separated tokens (§25.1)."""
    if not text:
        return None
    if text[0] == '"':
        if scan_quoted(text, 0) != len(text):
            raise RemoteProtocolError(f"junk after quoted display name {text!r}")
        return unquote(text)
    if _DISPLAY_TOKENS_RE.match(text) is None:
        raise RemoteProtocolError(f"invalid display name {text!r}")
    return _WS_RE.sub(" ", text)


def parse_generic_params(text: str) -> Params:
    """Parse ``name=value`` parameters separated by ``;`` (text starts after
    the first ``;``); LWS around ``;`` and ``=`` is allowed (§7.3.1)."""
    params: list[tuple[str, str | None]] = []
    if _SIMPLE_PARAMS_RE.match(text) is not None:
        for item in text.split(";"):
            name, sep, value = item.partition("=")
            params.append((name, value if sep else None))
        return tuple(params)
    for item in split_outside_quotes(text, ";"):
        name, sep, value = item.partition("=")
        name = name.strip()
        value = value.strip()
        if not is_token(name):
            raise RemoteProtocolError(f"invalid header parameter {item.strip()!r}")
        if sep:
            if value.startswith('"'):
                if scan_quoted(value, 0) != len(value):
                    raise RemoteProtocolError(f"bad quoted parameter {item.strip()!r}")
            elif _PARAM_VALUE_RE.match(value) is None:
                raise RemoteProtocolError(f"invalid parameter value {item.strip()!r}")
        params.append((name, value if sep else None))
    return tuple(params)


def params_text(params: Params) -> str:
    """``;name=value`` text of ``params`` (``;name`` for a flag)."""
    return "".join(f";{n}" if v is None else f";{n}={v}" for n, v in params)


def slot_setters(cls: type, names: str) -> list[Callable[[Any, Any], None]]:
    """The raw slot setters of ``names`` (space-separated) in a slots class.

    Parsers build frozen values through these instead of the generated
    ``__init__``, which pays for ``object.__setattr__`` on every field; on the
    per-message hot path that is a large share of the parse time.
    """
    return [getattr(cls, name).__set__ for name in names.split()]


def remember(memo: dict[str, T], text: str, value: T) -> T:
    """Store ``value`` as the parse of ``text`` in ``memo`` and return it.

    The messages of one transaction repeat the same Via, From, To, Call-ID and
    CSeq text (request, retransmissions, every response), so the frozen
    values parsed from a text are kept and handed out again. Only successful
    parses are stored; a full memo is emptied, which bounds it against
    floods of distinct values.
    """
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[text] = value
    return value
