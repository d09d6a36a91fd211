"""Header fields: the ordered multi-map of a message's headers.

RFC 3261 §7.3 (header syntax, lists, folding), §7.3.1 (a list header may
span several field lines, and several field lines combine into one list),
§7.3.3 (compact forms). Values are stored as text; the typed views
(:class:`Via`, :class:`NameAddr`, :class:`CSeq`) live in
:mod:`sipstack.header_values` and the lexical helpers (token,
quoted-string, generic-param) in :mod:`sipstack.syntax`; both are re-exported
here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from sipstack.constants import CANONICAL_NAME, LIST_HEADERS
from sipstack.errors import LocalProtocolError, RemoteProtocolError
from sipstack.header_values import CSEQ_MEMO as CSEQ_MEMO
from sipstack.header_values import NAME_ADDR_MEMO as NAME_ADDR_MEMO
from sipstack.header_values import VIA_MEMO as VIA_MEMO
from sipstack.header_values import CSeq, NameAddr, Via, make_via
from sipstack.syntax import (
    is_token,
    params_text,
    parse_generic_params,
    quote,
    split_outside_quotes,
    unquote,
)

__all__ = [
    "CSeq", "Headers", "Index", "NameAddr", "Via", "canonical_name", "header_key", "is_token",
    "make_via",
    "params_text", "parse_generic_params", "quote", "split_outside_quotes", "unquote",
]

# Any spelling of a header name -> the lower-cased canonical name used as the
# index key.  Bounded: names come from a small vocabulary.
_KEYS: dict[str, str] = {}
# Any spelling of a header name -> its canonical spelling; bounded likewise.
_CANONICAL: dict[str, str] = {}


def header_key(name: str) -> str:
    """Index key of a header name: lower-cased long form (compact expanded)."""
    key = _KEYS.get(name)
    if key is None:
        key = CANONICAL_NAME.get(name.lower(), name).lower()
        if len(_KEYS) < 4096:
            _KEYS[name] = key
    return key


def canonical_name(name: str) -> str:
    """Long, canonical spelling of a header name (compact forms expanded)."""
    canonical = _CANONICAL.get(name)
    if canonical is None:
        canonical = CANONICAL_NAME.get(name.lower(), name)
        if len(_CANONICAL) < 4096:
            _CANONICAL[name] = canonical
    return canonical


def _position(fields: tuple[tuple[str, str], ...], name: str, key: str) -> int:
    """Where the first field called ``name`` (index key ``key``) is."""
    for i, (n, _) in enumerate(fields):
        if n == name or header_key(n) == key:
            return i
    raise LocalProtocolError(f"no {name} header to replace")


# Index key -> the field lines of that header, in order. Tuples rather than
# lists: they hold only strings, so the collector stops tracking them.
Index = dict[str, tuple[str, ...]]


class Headers:
    """Ordered header fields; lookup by any spelling (long, compact, any case).

    Treated as immutable once a message holds it: the ``with_*`` methods return
    new objects. Each stored field is one header line (a list header may hold
    several comma-separated values).
    """

    __slots__ = ("_fields", "_index")

    def __init__(self, fields: Iterable[tuple[str, str]] = ()) -> None:
        # Names are made canonical and the lookup index built in one pass:
        # a message that is built is about to be looked into.
        canonical = _CANONICAL.get
        items: list[tuple[str, str]] = []
        index: Index = {}
        for n, v in fields:
            name = canonical(n) or canonical_name(n)
            items.append((name, v))
            key = name.lower()
            values = index.get(key)
            index[key] = (v,) if values is None else (*values, v)
        self._fields: tuple[tuple[str, str], ...] = tuple(items)
        self._index: Index | None = index

    @classmethod
    def _trusted(
        cls,
        fields: tuple[tuple[str, str], ...],
        index: Index | None = None,
    ) -> Headers:
        """Build from fields whose names are already canonical (parser path);
        ``index`` (index key -> values in order) may be handed over ready."""
        obj = cls.__new__(cls)
        obj._fields = fields
        obj._index = index
        return obj

    def _lookup(self) -> Index:
        index = self._index
        if index is None:
            index = {}
            for name, value in self._fields:
                # Stored names are canonical: the key is the lower-cased name.
                key = name.lower()
                values = index.get(key)
                index[key] = (value,) if values is None else (*values, value)
            self._index = index
        return index

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first field value of ``name`` (whole line, not list-split)."""
        index = self._index
        if index is None:
            index = self._lookup()
        values = index.get(_KEYS.get(name) or header_key(name))
        return values[0] if values else default

    def get_lines(self, name: str) -> list[str]:
        """Every field line of ``name``, in order."""
        return list(self._lookup().get(header_key(name), ()))

    def get_all(self, name: str) -> list[str]:
        """Every value of ``name``; list headers are split on their commas."""
        key = header_key(name)
        lines = self._lookup().get(key, ())
        if key not in LIST_HEADERS:
            return list(lines)
        values: list[str] = []
        for line in lines:
            for part in split_outside_quotes(line, ","):
                part = part.strip()
                if not part:
                    raise RemoteProtocolError(f"empty element in {name} list")
                values.append(part)
        return values

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        index = self._index
        if index is None:
            index = self._lookup()
        return (_KEYS.get(name) or header_key(name)) in index

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Headers) and self._fields == other._fields

    def __hash__(self) -> int:
        return hash(self._fields)

    def __repr__(self) -> str:
        return f"Headers({list(self._fields)!r})"

    def with_added(self, name: str, value: str, *, first: bool = False) -> Headers:
        """A copy with one more field (at the top of its kind if ``first``)."""
        item = (canonical_name(name), str(value))
        if not first:
            return Headers._trusted((*self._fields, item))
        key = item[0].lower()
        for i, (n, _) in enumerate(self._fields):
            if n.lower() == key:
                return Headers._trusted((*self._fields[:i], item, *self._fields[i:]))
        return Headers._trusted((*self._fields, item))

    def with_replaced(self, name: str, *values: str) -> Headers:
        """A copy where every ``name`` field is replaced by ``values`` (in place
        of the first one, or appended)."""
        cname = canonical_name(name)
        key = cname.lower()
        out: list[tuple[str, str]] = []
        placed = False
        for n, v in self._fields:
            if n.lower() == key:
                if not placed:
                    out.extend((cname, str(x)) for x in values)
                    placed = True
            else:
                out.append((n, v))
        if not placed:
            out.extend((cname, str(x)) for x in values)
        return Headers._trusted(tuple(out))

    def with_first_line(self, name: str, line: str) -> Headers:
        """A copy where the first field line of ``name`` is ``line`` (the
        others kept); the lookup index is carried over, not rebuilt."""
        key = header_key(name)
        fields = self._fields
        at = 0 if fields and fields[0][0] == name else _position(fields, name, key)
        index = self._lookup().copy()
        lines = index[key]
        index[key] = (line, *lines[1:])
        item = (fields[at][0], line)
        return Headers._trusted((*fields[:at], item, *fields[at + 1:]), index)

    def without(self, *names: str) -> Headers:
        keys = {canonical_name(n).lower() for n in names}
        return Headers._trusted(tuple(f for f in self._fields if f[0].lower() not in keys))
