"""The endpoint's bookkeeping: which transaction or session a message belongs to,
and when each INVITE session next needs the clock.

RFC 3261 §17.1.3 and §17.2.3 match responses and requests to transactions
(the transaction layer does that); above it, the endpoint must remember which
*session* a client transaction was started for, which server transaction a
session's response answers (a request is identified by its Call-ID, top Via
branch and CSeq method, §17.2.3), and which INVITE server transaction a
CANCEL names (§9.2). :class:`TransactionIndex` holds those maps and forgets
an entry when its transaction terminates. :class:`SessionTimers` is the heap
of sessions' deadlines (RFC 4028 refreshes, 2xx retransmission, §13.3.1.4),
tolerant of stale entries: a session that moved its deadline is re-queued
when its old entry surfaces.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from dataclasses import dataclass

from sipstack.dialog import InviteSession
from sipstack.message import Request, Response

ServerId = tuple[str, str, str]  # Call-ID, top Via branch, CSeq method


def server_id(message: Request | Response) -> ServerId:
    """The identity of the request ``message`` is (or answers), per §17.2.3."""
    return (message.call_id, message.via.branch or "", message.cseq.method)


@dataclass(slots=True)
class ClientRequest:
    """A request we sent, and the session it was sent for (None: none)."""

    request: Request
    session: InviteSession | None


class TransactionIndex:
    """Transactions by key, as the endpoint needs them above the transaction layer."""

    def __init__(self) -> None:
        self.clients: dict[str, ClientRequest] = {}
        self.invites: dict[str, InviteSession] = {}  # INVITE server tx key -> session
        self._servers: dict[ServerId, str] = {}  # request a session must answer -> tx key
        self._server_ids: dict[str, ServerId] = {}  # tx key -> its request's identity

    def track(self, key: str, request: Request) -> None:
        """A session will answer ``request``, received on server transaction ``key``."""
        identity = server_id(request)
        self._servers[identity] = key
        self._server_ids[key] = identity

    def server_key(self, response: Response) -> str | None:
        """The server transaction ``response`` answers, if still tracked."""
        return self._servers.get(server_id(response))

    def forget_session(self, session: InviteSession) -> None:
        for key in [k for k, s in self.invites.items() if s is session]:
            del self.invites[key]

    def terminated(self, key: str) -> None:
        """Transaction ``key`` is over: nothing will be sent or matched on it."""
        self.clients.pop(key, None)
        self.invites.pop(key, None)
        identity = self._server_ids.pop(key, None)
        if identity is not None and self._servers.get(identity) == key:
            del self._servers[identity]


class SessionTimers:
    """INVITE sessions by deadline; stale entries are skipped or re-queued."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, InviteSession]] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def schedule(self, session: InviteSession) -> None:
        """Queue ``session`` at its current deadline, if it has one."""
        deadline = session.get_timer()
        if deadline is not None:
            heapq.heappush(self._heap, (deadline, next(self._seq), session))

    def next_deadline(self) -> float | None:
        """The earliest deadline still current."""
        heap = self._heap
        while heap:
            deadline, _, session = heap[0]
            current = session.get_timer()
            if current is not None and current <= deadline:
                return deadline
            heapq.heappop(heap)  # stale entry: the session moved on
            if current is not None:
                heapq.heappush(heap, (current, next(self._seq), session))
        return None

    def due(self, now: float) -> Iterator[InviteSession]:
        """Sessions whose deadline has come, each popped as it is yielded."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, _, session = heapq.heappop(heap)
            due = session.get_timer()
            if due is not None and due <= now:
                yield session
