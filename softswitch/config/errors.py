"""Configuration errors as ``path.to.key: message`` lines.

Every problem found in a configuration file becomes one line that names the
key it concerns (``trunks[0].numbers[1].extension: ...``; list positions count
from 0 in file order), so an administrator can fix them all in one pass.
Pydantic's schema errors are translated here; unknown keys get a hint with the
closest known key.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

__all__ = ["ConfigError", "Issue", "format_path", "issues_from_validation"]

Loc = tuple[int | str, ...]


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a configuration: where it is and what is wrong."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ConfigError(Exception):
    """The configuration cannot be used; ``errors`` lists every problem as ``path: message``."""

    def __init__(self, errors: Iterable[Issue | str]) -> None:
        self.errors: list[str] = [str(error) for error in errors]
        super().__init__("\n".join(self.errors))


def format_path(loc: Loc) -> str:
    """Render a location as ``section.key[index].key``; the empty location is ``<top level>``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "<top level>"


def issues_from_validation(exc: ValidationError, root: type[BaseModel]) -> list[Issue]:
    """Translate every error of ``exc`` (raised validating ``root``) to an :class:`Issue`."""
    errors = exc.errors()
    return [Issue(format_path(tuple(e["loc"])), _message(e, root))
            for e in errors if not _echo_of_item_error(e, errors)]


def _echo_of_item_error(error: ErrorDetails, errors: Sequence[ErrorDetails]) -> bool:
    """A length error that only counts items already reported as invalid.

    Pydantic checks an array's minimum length on its valid items, so an array
    whose only item is wrong would also be called too short.
    """
    if error["type"] != "too_short":
        return False
    loc = tuple(error["loc"])
    return any(tuple(other["loc"])[: len(loc)] == loc and other is not error for other in errors)


#: Wording in TOML terms for pydantic error types whose own message speaks Python.
_MESSAGES = {
    "bool_type": "expected true or false",
    "dict_type": "expected a table",
    "float_type": "expected a number",
    "int_type": "expected an integer",
    "list_type": "expected an array",
    "model_attributes_type": "expected a table",
    "model_type": "expected a table",
    "path_type": "expected a path (a string)",
    "string_type": "expected a string",
    "too_short": "expected at least {min_length} entries, found {actual_length}",
    "tuple_type": "expected an array",
}


def _message(error: ErrorDetails, root: type[BaseModel]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    ctx = error.get("ctx", {})
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return _unknown_key(loc, root)
    if kind == "value_error":
        return str(ctx.get("error", error["msg"]))
    if kind in _MESSAGES:
        text = _MESSAGES[kind].format(**ctx)
        return text if kind == "too_short" else f"{text}{_got(error['input'], loc)}"
    return f"{error['msg']}{_got(error['input'], loc)}"


def _got(value: Any, loc: Loc) -> str:
    """Echo a scalar input back, except secrets."""
    if loc and "password" in str(loc[-1]):
        return ""
    if isinstance(value, str | int | float | bool):
        return f" (got {value!r})"
    return f" (got {_toml_kind(value)})"


def _toml_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def _unknown_key(loc: Loc, root: type[BaseModel]) -> str:
    known = _keys_at(root, loc[:-1])
    if known is None:
        return "unknown key"
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    if close:
        return f"unknown key; did you mean '{close[0]}'?"
    return "unknown key; expected one of: " + ", ".join(known)


def _keys_at(root: type[BaseModel], loc: Sequence[int | str]) -> list[str] | None:
    """The keys allowed in the table at ``loc``, following the model's field types."""
    model: type[BaseModel] | None = root
    for part in loc:
        if isinstance(part, int):
            continue
        fields = _fields_by_key(model) if model is not None else {}
        if part not in fields:
            return None
        model = _model_in(fields[part].annotation)
    return list(_fields_by_key(model)) if model is not None else None


def _fields_by_key(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """A model's fields under the key they take in the file (the alias when there is one)."""
    return {info.alias or name: info for name, info in model.model_fields.items()}


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside ``annotation``, looking through Optional, tuples and lists."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is None and not isinstance(annotation, types.UnionType):
        return None
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None
