"""Transaction timer values and the one deadline heap (RFC 3261 §17, Table 4).

:class:`TimerValues` derives the durations of timers A to K from T1, T2 and T4
(§17.1.1.1, §17.1.2.2, §17.2.1, §17.2.2) and L, M from RFC 6026 §8.
:class:`TimerHeap` holds every running timer of a layer in one heap, so the
adapter arms a single loop timer; cancelling only forgets the entry
("lazy cancellation") and stale entries are skipped when they surface.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sipstack.constants import T1, T2, T4

Owner = TypeVar("Owner", bound=Hashable)

# §17.1.1.2: Timer D is "at least 32 seconds" on unreliable transports.
_TIMER_D_MINIMUM = 32.0


@dataclass(frozen=True, slots=True)
class TimerValues:
    """Timer durations in seconds for unreliable transports.

    Reliable transports use no retransmission timers (A, E, G) and zero for
    D, I, J, K (§17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2); the state machines
    apply that rule, these are the unreliable values.
    """

    t1: float = T1
    t2: float = T2
    t4: float = T4

    @property
    def timeout(self) -> float:
        """64*T1: timers B, F, H, J, L and M."""
        return 64 * self.t1

    @property
    def d(self) -> float:
        return max(_TIMER_D_MINIMUM, 64 * self.t1)


class TimerHeap(Generic[Owner]):
    """Deadlines of named timers (``'A'`` … ``'M'``) for many owners.

    Starting a timer that is already running replaces it. Entries are
    ``(deadline, seq, owner, name)``; ``_armed`` maps ``(owner, name)`` to the
    ``seq`` of the live entry, everything else in the heap is stale.
    """

    __slots__ = ("_armed", "_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Owner, str]] = []
        self._armed: dict[tuple[Owner, str], int] = {}
        self._seq = 0

    def __len__(self) -> int:
        """Number of live (not cancelled, not fired) timers."""
        return len(self._armed)

    def start(self, owner: Owner, name: str, deadline: float) -> None:
        seq = self._seq = self._seq + 1
        self._armed[(owner, name)] = seq
        heap = self._heap
        heapq.heappush(heap, (deadline, seq, owner, name))
        if len(heap) >= 1024:
            self._compact()

    def cancel(self, owner: Owner, name: str) -> None:
        self._armed.pop((owner, name), None)

    def cancel_all(self, owner: Owner, names: tuple[str, ...]) -> None:
        armed = self._armed
        for name in names:
            armed.pop((owner, name), None)

    def is_running(self, owner: Owner, name: str) -> bool:
        return (owner, name) in self._armed

    def next_deadline(self) -> float | None:
        """The earliest live deadline, or None when no timer runs."""
        heap = self._heap
        armed = self._armed
        while heap:
            deadline, seq, owner, name = heap[0]
            if armed.get((owner, name)) == seq:
                return deadline
            heapq.heappop(heap)
        return None

    def pop_due(self, now: float) -> tuple[Owner, str, float] | None:
        """Remove and return ``(owner, name, deadline)`` of the earliest live
        timer due at ``now``, if any."""
        heap = self._heap
        armed = self._armed
        while heap and heap[0][0] <= now:
            deadline, seq, owner, name = heapq.heappop(heap)
            if armed.get((owner, name)) == seq:
                del armed[(owner, name)]
                return owner, name, deadline
        return None

    def _compact(self) -> None:
        # Stale entries wait for their deadline; when they dominate the heap
        # (many short transactions, long timers) rebuild it from live ones.
        heap = self._heap
        if len(heap) < 1024 or len(heap) < 4 * len(self._armed):
            return
        armed = self._armed
        self._heap = [e for e in heap if armed.get((e[2], e[3])) == e[1]]
        heapq.heapify(self._heap)
