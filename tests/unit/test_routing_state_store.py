"""Routing state changed at run time survives a restart: member statuses set
from the phones (F-ROUTE-5) and numbers blacklisted by routing (F-ROUTE-8)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from softswitch.routing.decisions import AddToBlacklist
from softswitch.routing.state import Blacklisted, MemberStatus, MemoryRoutingState, StatusChanged
from softswitch.storage import open_storage
from softswitch.storage.routing_sync import RoutingStateStore

AT = datetime(2026, 11, 18, 9, 0, tzinfo=UTC)
EXTENSIONS = {"101", "102", "103"}


def _state(statuses: dict[str, MemberStatus] | None = None) -> MemoryRoutingState:
    """A fresh process's state: the configured statuses and blacklist."""
    return MemoryRoutingState(lambda _: True, statuses, ["+39 02 0000 0000"])


def _run(url: str, state: MemoryRoutingState) -> RoutingStateStore:
    """One run of the switch: restore, then store the state's changes."""
    store = RoutingStateStore(open_storage(url), lambda: AT)
    store.load(state, EXTENSIONS.__contains__)
    state.observe(store.record)
    return store


def test_statuses_and_blacklist_survive_a_restart(tmp_path: Path) -> None:  # F-ROUTE-5, F-ROUTE-8
    url = f"sqlite:///{tmp_path / 'switch.db'}"
    first = _state({"102": MemberStatus.BREAK})
    store = _run(url, first)
    first.set_status("101", MemberStatus.NOT_STARTED, "feature code *73")
    first.set_status("102", MemberStatus.WORKING, "feature code *71")
    first.apply(AddToBlacklist("+39 06 1111 2222"))
    store.close()

    again = _state({"102": MemberStatus.BREAK, "103": MemberStatus.BREAK})
    _run(url, again).close()
    assert again.status("101") is MemberStatus.NOT_STARTED
    assert again.status("102") is MemberStatus.WORKING  # run time wins over the configuration
    assert again.status("103") is MemberStatus.BREAK  # never changed: the configuration
    assert again.blacklist() == {"390200000000", "390611112222"}  # union
    assert again.is_blacklisted("+39 06 1111 2222")


def test_the_latest_status_is_the_one_restored() -> None:  # F-ROUTE-5
    storage = open_storage("sqlite://")
    store = RoutingStateStore(storage, lambda: AT)
    state = _state()
    state.observe(store.record)
    for status in (MemberStatus.BREAK, MemberStatus.WORKING, MemberStatus.BREAK):
        state.set_status("103", status)
    store.close()
    assert storage.member_statuses() == {"103": "break"}


def test_restore_skips_removed_extensions_and_unknown_statuses(
        caplog: pytest.LogCaptureFixture) -> None:  # F-ROUTE-5
    storage = open_storage("sqlite://")
    storage.save_member_status("109", "break", AT)  # no longer configured
    storage.save_member_status("101", "lunch", AT)  # not a status this release knows
    storage.save_member_status("102", "not_started", AT)
    state = _state()
    with caplog.at_level(logging.WARNING, "softswitch.routing"):
        restored = RoutingStateStore(storage, lambda: AT).load(state, EXTENSIONS.__contains__)
    assert restored == (1, 0)
    assert state.status("101") is MemberStatus.WORKING
    assert state.status("102") is MemberStatus.NOT_STARTED
    assert "'lunch'" in caplog.text


def test_only_new_blacklist_numbers_are_reported() -> None:  # F-ROUTE-8
    changes: list[object] = []
    state = _state()
    state.observe(changes.append)
    state.apply(AddToBlacklist("+39 02 0000 0000"))  # configured already
    state.apply(AddToBlacklist("06 5555 1234"))
    state.apply(AddToBlacklist("(06) 5555-1234"))  # the same digits
    assert changes == [Blacklisted("0655551234")]


def test_status_changes_are_logged_and_reported(caplog: pytest.LogCaptureFixture) -> None:
    # F-ROUTE-5
    changes: list[object] = []
    state = _state()
    state.observe(changes.append)
    with caplog.at_level(logging.INFO, "softswitch.routing"):
        state.set_status("103", MemberStatus.BREAK, "feature code *72")
    assert changes == [StatusChanged("103", MemberStatus.BREAK)]
    [record] = [r for r in caplog.records if r.name == "softswitch.routing"]
    assert record.getMessage() == "extension 103 is now break (was working): feature code *72"


def test_stored_blacklist_numbers_are_kept_once() -> None:  # F-ROUTE-8
    storage = open_storage("sqlite://")
    assert storage.add_blacklisted("0655551234", AT)
    assert not storage.add_blacklisted("0655551234", AT)
    assert storage.blacklisted() == ["0655551234"]
