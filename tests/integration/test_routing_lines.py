"""Incoming calls on a line with a routing plan, SIPp as the operator and pjsua2 phones
as employees: blacklist, working hours on an injected clock, forwarding with the
caller's number, the backup number (F-ROUTE-5, F-ROUTE-7, F-ROUTE-8, F-ROUTE-9, F-ROUTE-11).

The switch's routing clock is moved with ``SOFTSWITCH_FAKE_NOW`` (a test-only
environment variable read at start).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from peers import Phone, Sipp, SippProcess, free_port
from switch import SwitchProcess, demo_config

pytestmark = pytest.mark.integration

OFFICE_DID = "390212345600"
OPEN = "2026-11-18T10:00:00+01:00"  # a Wednesday morning in Rome
CLOSED = "2026-11-21T10:00:00+01:00"  # a Saturday

ROUTING = """
[routing]
blacklist = ["+39 02 0000 0000"]
blacklist_status = 603

[[routing.lines]]
did = "+39 02 1234 5600"
trunk = "demo-operator"
plan = "office"

[[routing.plans]]
name = "office"
destination = "queue:sales"
out_of_hours = "forward:+39 06 7777 7777"
backup_number = "+39 06 9999 9999"
{plan_extra}

[routing.plans.hours]
timezone = "Europe/Rome"
open = ["09:00-18:00"]
days_off = ["sat", "sun"]

[[routing.queues]]
name = "sales"
members = ["103", "105"]
strategy = "all"
ring_time = 8
{queue_extra}
"""

CALLER = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="operator calls the office line">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Client" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:client@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=client 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  {final}
</scenario>
"""

ANSWERED = """<recv response="200" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "Client" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <pause milliseconds="1000"/>
  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      [routes]
      From: "Client" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>"""

REFUSED = """<recv response="{status}"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Client" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>"""

# The operator taking a forwarded call: the Request-URI must carry the number
# and the From header the caller ID the switch presents, else SIPp fails the call.
OPERATOR = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="operator receives a forwarded call">
  <recv request="INVITE">
    <action>
      <ereg regexp="^INVITE sip:[number]@" search_in="msg" check_it="true"
            assign_to="ruri"/>
      <ereg regexp="sip:[caller_id]@" search_in="hdr" header="From:" check_it="true"
            assign_to="from"/>
    </action>
  </recv>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]U[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:operator@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=operator 1 1 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]>
  </send>
  <recv request="ACK"/>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <timewait milliseconds="500"/>
  <Reference variables="ruri,from"/>
</scenario>
"""


def routed_switch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, now: str, *,
                  operator_port: int | None = None, routing: str = ROUTING,
                  ring_timeout: float = 30, **extra: str) -> SwitchProcess:
    """The demo switch with ``routing`` appended, its routing clock at ``now``."""
    monkeypatch.setenv("SOFTSWITCH_FAKE_NOW", now)
    port = free_port()
    text = demo_config(port, tmp_path / "var", trunk_port=operator_port or free_port(),
                       ring_timeout=ring_timeout)
    text += routing.format(plan_extra=extra.get("plan_extra", ""),
                           queue_extra=extra.get("queue_extra", ""))
    return SwitchProcess(tmp_path, text, port=port)


def client_call(switch: SwitchProcess, caller: str, final: str, service: str = OFFICE_DID,
                calls: int = 1) -> Sipp:
    return Sipp.from_xml(CALLER.replace("{final}", final), target=switch.registrar,
                         service=service, calls=calls, variables={"caller": caller})


def operator(port: int, number: str, caller_id: str) -> SippProcess:
    xml = OPERATOR.replace("[number]", number).replace("[caller_id]", caller_id)
    sipp = Sipp.from_xml(xml, local_port=port, calls=1)
    return sipp.start().wait_ready()


def employee(phones: Callable[..., Phone], switch: SwitchProcess, number: str) -> Phone:
    phone = phones(user=number)
    assert phone.register(registrar=switch.registrar, user=number,
                          password=f"demo{number}") == 200
    return phone


def test_blacklisted_caller_is_refused_with_603(  # F-ROUTE-8
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN) as switch:
        member = employee(phones, switch, "103")
        refused = client_call(switch, "+390200000000", REFUSED.format(status=603)).run(30)
        assert refused.all_successful, refused.summary()
        assert member.incoming_calls() == []
        assert "refused with 603: blacklisted caller" in switch.log()


def test_in_hours_the_queue_rings_its_registered_member(  # F-ROUTE-5
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with routed_switch(tmp_path, monkeypatch, OPEN) as switch:
        member = employee(phones, switch, "105")
        member.set_auto_answer(200, delay=0.3)
        result = client_call(switch, "+390611112222", ANSWERED).run(30)
        assert result.all_successful, result.summary()
        assert len(member.incoming_calls()) == 1
        [record] = switch.wait_calls(1)
    assert (record.direction, record.disposition) == ("inbound", "answered")
    assert record.caller == "+390611112222" and record.trunk == "demo-operator"


def test_out_of_hours_forwards_with_the_callers_number(  # F-ROUTE-7, F-ROUTE-11
        phones: Callable[..., Phone], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    with routed_switch(tmp_path, monkeypatch, CLOSED, operator_port=port) as switch:
        member = employee(phones, switch, "103")
        with operator(port, "390677777777", "390611112222") as far:
            result = client_call(switch, "+390611112222", ANSWERED).run(30)
            forwarded = far.wait(15)
        assert result.all_successful, result.summary()
        assert forwarded.all_successful, forwarded.summary()
        assert member.incoming_calls() == []
        [record] = switch.wait_calls(1)
        legs = switch.legs(record.id)
    assert record.direction == "forwarded" and record.disposition == "answered"
    assert [leg.direction for leg in legs if leg.role == "callee"] == ["forwarded"]


def test_out_of_hours_can_blacklist_the_caller(  # F-ROUTE-7, F-ROUTE-8
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    routing = ROUTING.replace('out_of_hours = "forward:+39 06 7777 7777"',
                              "out_of_hours_blacklist = true")
    with routed_switch(tmp_path, monkeypatch, CLOSED, routing=routing) as switch:
        first = client_call(switch, "+390633334444", REFUSED.format(status=603)).run(30)
        assert first.all_successful, first.summary()
        assert "closed: caller blacklisted" in switch.log()
        again = client_call(switch, "+390633334444", REFUSED.format(status=603)).run(30)
        assert again.all_successful, again.summary()
        assert switch.log().count("refused with 603: blacklisted caller") == 1


def test_backup_number_when_no_member_is_registered(  # F-ROUTE-9, F-ROUTE-11
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    with routed_switch(tmp_path, monkeypatch, OPEN, operator_port=port) as switch:
        with operator(port, "390699999999", "390655556666") as far:
            result = client_call(switch, "+390655556666", ANSWERED).run(30)
            forwarded = far.wait(15)
        assert result.all_successful, result.summary()
        assert forwarded.all_successful, forwarded.summary()
        [record] = switch.wait_calls(1)
    assert record.direction == "forwarded" and record.disposition == "answered"
