"""The kinds of routing decision the call engine knows how to carry out."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RingExtension:
    """Ring every registered phone of an extension."""

    number: str


@dataclass(frozen=True, slots=True)
class DialOut:
    """Call an external number through a trunk."""

    trunk: str
    number: str


@dataclass(frozen=True, slots=True)
class Refuse:
    """Answer the caller with a failure."""

    status: int
    reason: str


Decision = RingExtension | DialOut | Refuse
