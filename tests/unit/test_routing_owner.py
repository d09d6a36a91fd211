"""Known caller → responsible employee (F-ROUTE-4), as pure routing decisions.

The client directory (``[[clients]]`` or a CRM's) names the employee
responsible for a caller; a plan with ``owner_routing`` rings that employee
before its destination, and ``owner_no_answer`` says what follows.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_routing_flow import DID, OPEN, make_config, router, state

from softswitch.config import Config, ConfigError
from softswitch.routing import Greet, Next, Play, RingExtension, RingQueue, inbound_router
from softswitch.routing.clients import StaticClients
from softswitch.routing.destinations import ToMobile, ToQueue, ToVoicemail

CLIENT = "+39 347 555 1234"
STRANGER = "+39 347 555 9999"


def owner_config(plan: dict[str, Any] | None = None, owner: str = "102") -> Config:
    config = make_config({"destination": "queue:sales", "owner_routing": True, **(plan or {})})
    data = config.model_dump(by_alias=True)
    data["clients"] = [{"number": "(+39) 347-555-1234", "owner": owner, "name": "ACME"}]
    return Config.from_data(data)


def test_known_caller_rings_the_responsible_employee_first_f_route_4() -> None:
    step = router(owner_config(), CLIENT).first_step(OPEN, state("102", "103")).step
    assert step == RingExtension("102", no_answer=ToQueue("sales"))


def test_owner_not_answering_continues_with_the_plans_queue_f_route_4() -> None:
    live = state("102", "103", "104")
    line = router(owner_config(), CLIENT)
    first = line.first_step(OPEN, live).step
    following = line.after_no_answer(first, OPEN, live).step
    assert isinstance(following, RingQueue) and following.queue == "sales"


@pytest.mark.parametrize(("choice", "then"), [("mobile", ToMobile("102")),
                                              ("voicemail", ToVoicemail("102"))])
def test_owner_no_answer_mobile_or_voicemail_f_route_4(choice: str, then: object) -> None:
    config = owner_config({"owner_no_answer": choice})
    assert router(config, CLIENT).first_step(OPEN, state("102")).step == RingExtension(
        "102", no_answer=then)  # type: ignore[arg-type]


def test_unknown_caller_goes_straight_to_the_destination_f_route_4() -> None:
    step = router(owner_config(), STRANGER).first_step(OPEN, state("102", "103")).step
    assert isinstance(step, RingQueue)
    anonymous = router(owner_config(), "anonymous").first_step(OPEN, state("102", "103"))
    assert isinstance(anonymous.step, RingQueue)


def test_unregistered_or_disabled_owner_is_skipped_f_route_4() -> None:
    assert isinstance(router(owner_config(), CLIENT).first_step(OPEN, state("103")).step,
                      RingQueue)
    disabled = owner_config(owner="105")
    assert isinstance(router(disabled, CLIENT).first_step(OPEN, state("105", "103")).step,
                      RingQueue)


def test_owner_routing_off_ignores_the_directory_f_route_4() -> None:
    config = owner_config({"owner_routing": False})
    assert isinstance(router(config, CLIENT).first_step(OPEN, state("102", "103")).step,
                      RingQueue)


def test_owner_follows_the_greeting_when_nothing_is_dialled_f_route_4() -> None:
    config = owner_config({"greeting": "welcome", "extension_dialing": True})
    line = router(config, CLIENT)
    assert isinstance(line.first_step(OPEN, state("102")).step, Greet)
    assert line.after_greeting("", OPEN, state("102")).step == RingExtension(
        "102", no_answer=ToQueue("sales"))
    wrong = line.after_greeting("999", OPEN, state("102"))
    assert wrong == Next(Play("invalid_extension", RingExtension("102",
                                                                  no_answer=ToQueue("sales"))))
    assert line.after_greeting("103", OPEN, state("102", "103")).step.__class__ is RingExtension


def test_a_crm_directory_stands_in_for_the_configured_one_f_route_4() -> None:
    config = owner_config()
    trunk = config.trunk("op")
    assert trunk is not None
    crm = StaticClients([(STRANGER, "104")])
    line = inbound_router(config, trunk, DID, DID, STRANGER, clients=crm)
    assert line is not None
    assert line.first_step(OPEN, state("104")).step == RingExtension(
        "104", no_answer=ToQueue("sales"))


def test_directory_compares_digits_only_f_route_4() -> None:
    clients = StaticClients([("+39 (347) 555-1234", "102"), ("393475551234", "103"),
                             ("not a number", "104")])
    assert len(clients) == 1
    assert clients.owner_of("393475551234") == "102"
    assert clients.owner_of("+39 347 555 1234") == "102"
    assert clients.owner_of("anonymous") is None


def test_clients_are_checked_against_extensions_f_route_4() -> None:
    data = make_config({"destination": "queue:sales"}).model_dump(by_alias=True)
    data["clients"] = [{"number": "+39 347 555 1234", "owner": "199"},
                       {"number": "39-347-555-1234", "owner": "102"}]
    with pytest.raises(ConfigError) as caught:
        Config.from_data(data)
    text = str(caught.value)
    assert "clients[0].owner: no extension 199" in text
    assert "clients[1].number: 393475551234 is already listed as clients[0]" in text
