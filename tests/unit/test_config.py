"""Configuration: the demo, schema errors, cross-key rules, TOML syntax, overrides, numbers.

Feature IDs: F-OPS-1 (demo configuration), F-OPS-2 (validation with clear
errors), F-SIP-5 (registrar limits), F-ROUTE-1 (To-header routing flag),
F-ROUTE-10 (maximum call duration), F-OUT-1 (default outbound line), F-ROUTE-2..9
(routing plans: cross-key rules and the demo's office line).
"""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from softswitch.config import (
    Config,
    ConfigError,
    check_config_main,
    checks,
    load_config,
    load_demo_config,
    parse_config,
)
from softswitch.numbers import InvalidNumberError, digits, same_number

Data = dict[str, Any]


def demo_data() -> Data:
    """The demo configuration as parsed TOML, ready to be broken by a test."""
    text = resources.files("softswitch.config").joinpath("demo.toml").read_text("utf-8")
    return copy.deepcopy(tomllib.loads(text))


def minimal_data() -> Data:
    return {"sip": {"listeners": [{"transport": "udp", "host": "127.0.0.1"}]}}


def errors_of(data: Data) -> list[str]:
    with pytest.raises(ConfigError) as info:
        Config.from_data(data)
    return info.value.errors


def errors_of_text(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="test.toml")
    return info.value.errors


# --- the demo -----------------------------------------------------------------------------


def test_demo_configuration_loads_f_ops_1() -> None:
    config = load_demo_config()
    assert config.demo
    assert [str(listener) for listener in config.sip.listeners] == [
        "udp 127.0.0.1:5060", "tcp 127.0.0.1:5060"]
    assert config.sip.realm == "127.0.0.1"
    assert [e.number for e in config.extensions] == ["101", "102", "103", "104", "105"]
    assert [e.password.get_secret_value() for e in config.extensions] == [
        "demo101", "demo102", "demo103", "demo104", "demo105"]
    assert all(e.display_name and e.enabled for e in config.extensions)


def test_demo_trunk_routes_its_did_and_to_header_f_route_1() -> None:
    config = load_demo_config()
    trunk = config.trunk("demo-operator")
    assert trunk is not None
    assert (trunk.host, trunk.port, trunk.transport) == ("127.0.0.1", 5080, "udp")
    assert trunk.to_header_routing and not trunk.registers and trunk.outbound
    assert trunk.accepts_source("127.0.0.1") and not trunk.accepts_source("10.0.0.1")
    assert [(n.did, n.extension) for n in trunk.numbers] == [("390212345678", "101")]
    assert trunk.caller_id == "390212345678"


def test_demo_default_outbound_line_f_out_1() -> None:
    config = load_demo_config()
    assert config.default_outbound_trunk == "demo-operator"
    extension = config.extension("102")
    assert extension is not None
    assert config.outbound_trunk_for(extension) is config.trunk("demo-operator")


def test_defaults_f_route_10_f_sip_5() -> None:
    config = Config.from_data(minimal_data())
    assert not config.demo
    assert config.calls.ring_timeout == 30
    assert config.calls.max_call_duration == 3600  # F-ROUTE-10: one hour
    assert config.calls.session_expires == 1800
    reg = config.registrar  # F-SIP-5
    assert (reg.min_expires, reg.max_expires, reg.default_expires) == (60, 3600, 3600)
    assert config.database_url == "sqlite:///var/softswitch.db"
    assert config.sip.user_agent == "softswitch"
    assert config.extensions == () and config.trunks == ()


def test_explicit_domain_database_and_data_dir() -> None:
    data = minimal_data()
    data["sip"]["domain"] = "pbx.example.com"
    data["data_dir"] = "/srv/switch"
    assert Config.from_data(data).database_url == "sqlite:////srv/switch/softswitch.db"
    data["database"] = {"url": "postgresql+psycopg://switch@db/switch"}
    config = Config.from_data(data)
    assert config.sip.realm == "pbx.example.com"
    assert config.database_url == "postgresql+psycopg://switch@db/switch"


def test_trunk_call_duration_overrides_global_f_route_10() -> None:
    data = demo_data()
    data["trunks"][0]["max_call_duration"] = 600
    config = Config.from_data(data)
    assert config.max_call_duration_for(config.trunk("demo-operator")) == 600
    assert config.max_call_duration_for(None) == 3600


def test_extension_outbound_trunk_beats_the_default_f_out_1() -> None:
    data = demo_data()
    data["trunks"].append({"name": "second", "host": "sip.example.net"})
    data["extensions"][1]["outbound_trunk"] = "second"
    config = Config.from_data(data)
    assert config.outbound_trunk_for(config.extensions[1]) is config.trunk("second")
    assert config.outbound_trunk_for(config.extensions[0]) is config.trunk("demo-operator")


def test_allowed_sources_accept_networks_and_ipv6() -> None:
    data = demo_data()
    data["trunks"][0]["allowed_sources"] = ["192.0.2.0/24", "2001:db8::1"]
    trunk = Config.from_data(data).trunks[0]
    assert trunk.accepts_source("192.0.2.77") and trunk.accepts_source("2001:db8::1")
    assert not trunk.accepts_source("192.0.3.1") and not trunk.accepts_source("::1")
    assert not trunk.accepts_source("not-an-ip")


def test_numbers_written_as_toml_integers_read_as_digits() -> None:
    config = parse_config(
        '[sip]\nlisteners = [{transport = "udp", host = "127.0.0.1"}]\n'
        '[[extensions]]\nnumber = 101\npassword = "x"\n'
        '[[trunks]]\nname = "t"\nhost = "127.0.0.1"\n'
        '[[trunks.numbers]]\ndid = 390212345678\nextension = 101\n'
    )
    assert config.extensions[0].number == "101"
    assert config.trunks[0].numbers[0].did == "390212345678"


def test_passwords_are_hidden_in_repr() -> None:
    assert "demo101" not in repr(load_demo_config())


# --- schema errors (F-OPS-2) ----------------------------------------------------------------

SCHEMA_CASES: list[tuple[str, Callable[[Data], None], str]] = [
    ("unknown key with a close match",
     lambda d: d["calls"].update(ring_timout=5),
     "calls.ring_timout: unknown key; did you mean 'ring_timeout'?"),
    ("unknown key in an array of tables",
     lambda d: d["trunks"][0].update(registr=True),
     "trunks[0].registr: unknown key; did you mean 'register'?"),
    ("unknown top-level key",
     lambda d: d.update(zzz=1),
     "zzz: unknown key; expected one of: demo, data_dir, default_outbound_trunk, sip, "
     "database, calls, registrar, media, recording, extensions, trunks, routing, clients"),
    ("missing required key",
     lambda d: d["extensions"][2].pop("password"),
     "extensions[2].password: required key is missing"),
    ("missing section",
     lambda d: d.pop("sip"),
     "sip: required key is missing"),
    ("no listener",
     lambda d: d["sip"].update(listeners=[]),
     "sip.listeners: expected at least 1 entries, found 0"),
    ("unsupported transport",
     lambda d: d["sip"]["listeners"][0].update(transport="sctp"),
     "sip.listeners[0].transport: Input should be 'udp' or 'tcp' (got 'sctp')"),
    ("listener host is not an address",
     lambda d: d["sip"]["listeners"][1].update(host="localhost"),
     "sip.listeners[1].host: not an IP address: 'localhost'"),
    ("port out of range",
     lambda d: d["sip"]["listeners"][0].update(port=70000),
     "sip.listeners[0].port: Input should be less than or equal to 65535 (got 70000)"),
    ("port as a string",
     lambda d: d["trunks"][0].update(port="5080"),
     "trunks[0].port: expected an integer (got '5080')"),
    ("session interval below RFC 4028 Min-SE",
     lambda d: d["calls"].update(session_expires=89),
     "calls.session_expires: Input should be greater than or equal to 90 (got 89)"),
    ("zero ring timeout",
     lambda d: d["calls"].update(ring_timeout=0),
     "calls.ring_timeout: Input should be greater than 0 (got 0)"),
    ("boolean written as a string",
     lambda d: d["extensions"][0].update(enabled="yes"),
     "extensions[0].enabled: expected true or false (got 'yes')"),
    ("empty password",
     lambda d: d["extensions"][1].update(password=""),
     "extensions[1].password: must not be empty"),
    ("extension number with a letter",
     lambda d: d["extensions"][0].update(number="10a"),
     "extensions[0].number: an extension number is 1 to 15 digits, not '10a'"),
    ("mobile that is not a phone number",
     lambda d: d["extensions"][0].update(mobile="333-CALL-ME"),
     "extensions[0].mobile: not a phone number: '333-CALL-ME' contains 'C' "
     "(only digits, '+', spaces, '(', ')' and '-' are allowed)"),
    ("caller ID without digits",
     lambda d: d["trunks"][0].update(caller_id="+ ()"),
     "trunks[0].caller_id: not a phone number: '+ ()' has no digits"),
    ("trunk name with a space",
     lambda d: d["trunks"][0].update(name="demo operator"),
     "trunks[0].name: a trunk name is 1 to 64 letters, digits, '.', '_' or '-' starting "
     "with a letter or digit, not 'demo operator'"),
    ("trunk host with a space",
     lambda d: d["trunks"][0].update(host="sip example.net"),
     "trunks[0].host: not an IP address or host name: 'sip example.net'"),
    ("allowed source with host bits",
     lambda d: d["trunks"][0].update(allowed_sources=["10.0.0.1/24"]),
     "trunks[0].allowed_sources[0]: not an IP address or CIDR network: "
     "10.0.0.1/24 has host bits set"),
    ("allowed source that is not an address",
     lambda d: d["trunks"][0].update(allowed_sources=["127.0.0.1", "operator"]),
     "trunks[0].allowed_sources[1]: not an IP address or CIDR network: "
     "'operator' does not appear to be an IPv4 or IPv6 network"),
    ("registration lifetime too short",
     lambda d: d["trunks"][0].update(register_expires=30),
     "trunks[0].register_expires: Input should be greater than or equal to 60 (got 30)"),
    ("section that is not a table",
     lambda d: d.update(calls=5),
     "calls: expected a table (got 5)"),
    ("array of tables given as a table",
     lambda d: d.update(extensions={"number": "101"}),
     "extensions: expected an array (got a table)"),
    ("database URL that does not parse",
     lambda d: d.update(database={"url": "nope"}),
     "database.url: not a database URL: 'nope'"),
]


@pytest.mark.parametrize(("mutate", "expected"), [(m, e) for _, m, e in SCHEMA_CASES],
                         ids=[name for name, _, _ in SCHEMA_CASES])
def test_schema_error_names_its_key_f_ops_2(mutate: Callable[[Data], None],
                                            expected: str) -> None:
    data = demo_data()
    mutate(data)
    assert errors_of(data) == [expected]


def test_every_schema_error_is_listed_at_once_f_ops_2() -> None:
    data = demo_data()
    data["calls"]["ring_timout"] = 5
    data["extensions"][0]["password"] = ""
    data["trunks"][0]["transport"] = "tls"
    data["sip"]["listeners"][1]["port"] = 0
    assert errors_of(data) == [
        "sip.listeners[1].port: Input should be greater than or equal to 1 (got 0)",
        "calls.ring_timout: unknown key; did you mean 'ring_timeout'?",
        "extensions[0].password: must not be empty",
        "trunks[0].transport: Input should be 'udp' or 'tcp' (got 'tls')",
    ]


def test_invalid_only_item_is_not_also_called_too_few() -> None:
    data = demo_data()
    data["sip"]["listeners"] = [{"transport": "sctp", "host": "127.0.0.1"}]
    assert errors_of(data) == [
        "sip.listeners[0].transport: Input should be 'udp' or 'tcp' (got 'sctp')"]


def test_secrets_are_not_echoed_in_errors() -> None:
    data = demo_data()
    data["trunks"][0]["password"] = 12345
    assert errors_of(data) == ["trunks[0].password: expected a string"]


# --- cross-key rules (F-OPS-2) --------------------------------------------------------------


def _add_trunk(data: Data, **fields: Any) -> None:
    data["trunks"].append({"host": "sip.example.net", **fields})


RULE_CASES: list[tuple[checks.Rule, str, Callable[[Data], None], list[str]]] = [
    (checks.unique_listeners, "same socket twice",
     lambda d: d["sip"]["listeners"].append({"transport": "udp", "host": "127.0.0.1"}),
     ["sip.listeners[2]: udp 127.0.0.1:5060 is already listened on by sip.listeners[0]"]),
    (checks.demo_on_loopback, "demo on a public address",
     lambda d: d["sip"]["listeners"][1].update(host="0.0.0.0"),
     ["sip.listeners[1].host: a demo configuration may only listen on loopback "
      "(127.0.0.0/8 or ::1), not 0.0.0.0: its passwords are public; set demo = false and "
      "give every extension a password of its own before listening on a network"]),
    (checks.registrar_order, "min above max",
     lambda d: d["registrar"].update(min_expires=7200),
     ["registrar.min_expires: 7200 is greater than max_expires (3600)"]),
    (checks.registrar_order, "default outside the limits",
     lambda d: d["registrar"].update(default_expires=30),
     ["registrar.default_expires: 30 is outside min_expires..max_expires (60..3600)"]),
    (checks.unique_extensions, "duplicate extension",
     lambda d: d["extensions"][3].update(number="102"),
     ["extensions[3].number: extension 102 is already defined at extensions[1].number"]),
    (checks.unique_trunks, "duplicate trunk name",
     lambda d: _add_trunk(d, name="demo-operator"),
     ["trunks[1].name: trunk 'demo-operator' is already defined at trunks[0].name"]),
    (checks.registering_trunks_have_credentials, "registration without credentials",
     lambda d: _add_trunk(d, name="reg", register=True, username="u"),
     ["trunks[1].password: required when register = true"]),
    (checks.outbound_trunks_exist, "unknown default trunk",
     lambda d: d.update(default_outbound_trunk="nope"),
     ["default_outbound_trunk: no trunk named 'nope' (trunks: 'demo-operator')"]),
    (checks.outbound_trunks_exist, "extension names an unknown trunk",
     lambda d: d["extensions"][4].update(outbound_trunk="gone"),
     ["extensions[4].outbound_trunk: no trunk named 'gone' (trunks: 'demo-operator')"]),
    (checks.outbound_trunks_exist, "inbound-only line as the default",
     lambda d: d["trunks"][0].update(outbound=False),
     ["default_outbound_trunk: trunk 'demo-operator' is inbound-only (outbound = false) "
      "and cannot carry outbound calls"]),
    (checks.unique_dids, "same DID written differently on two trunks",
     lambda d: _add_trunk(d, name="other",
                          numbers=[{"did": "+39 (02) 1234-5678", "extension": "102"}]),
     ["trunks[1].numbers[0].did: DID 390212345678 is already routed at "
      "trunks[0].numbers[0].did"]),
    (checks.dids_reach_enabled_extensions, "DID to a missing extension",
     lambda d: d["trunks"][0]["numbers"][0].update(extension="199"),
     ["trunks[0].numbers[0].extension: DID 390212345678 routes to extension 199, "
      "which is not defined in [[extensions]]"]),
    (checks.dids_reach_enabled_extensions, "DID to a disabled extension",
     lambda d: d["extensions"][0].update(enabled=False),
     ["trunks[0].numbers[0].extension: DID 390212345678 routes to extension 101, "
      "which is disabled"]),
    (checks.extensions_are_not_dids, "extension number equal to a DID",
     lambda d: d["trunks"][0]["numbers"].append({"did": "+103", "extension": "102"}),
     ["extensions[2].number: 103 is also a DID at trunks[0].numbers[1].did"]),
    # routing plans (F-ROUTE-2..9)
    (checks.unique_routing_names, "two queue groups with one name",
     lambda d: d["routing"]["queues"].append({"name": "sales"}),
     ["routing.queues[1].name: 'sales' is already defined at routing.queues[0].name"]),
    (checks.routing_lines_resolve, "line without number or trunk, unknown plan",
     lambda d: d["routing"]["lines"].append({"plan": "night"}),
     ["routing.lines[1]: give the did, the trunk, or both, that this plan serves",
      "routing.lines[1].plan: no plan named 'night' in [[routing.plans]]"]),
    (checks.routing_lines_resolve, "same number twice, unknown trunk",
     lambda d: d["routing"]["lines"].extend([
         {"did": "+39 02 1234-5600", "trunk": "demo-operator", "plan": "office"},
         {"trunk": "gone", "plan": "office"}]),
     ["routing.lines[2].trunk: no trunk named 'gone'",
      "routing.lines[1]: did 390212345600 on trunk demo-operator already has a plan at "
      "routing.lines[0]"]),
    (checks.routing_destinations_exist, "destinations naming what does not exist",
     lambda d: (d["routing"]["menus"][0]["keys"].update({"3": "ivr:nope", "4": "mobile:102",
                                                         "5": "voicemail:nobody"}),
                d["routing"]["queues"][0].update(no_answer="extension:199")),
     ["routing.menus[0].keys.3: ivr:nope: no menu named 'nope'",
      "routing.menus[0].keys.4: mobile:102: extension 102 has no mobile number",
      "routing.menus[0].keys.5: voicemail:nobody: no voicemail box 'nobody' "
      "(an extension or a [[routing.voicemail]] box)",
      "routing.queues[0].no_answer: extension:199: extension 199 is not defined or is "
      "disabled"]),
    (checks.routing_plans_complete, "plan options that need each other",
     lambda d: d["routing"]["plans"].append(
         {"name": "bad", "destination": "continue", "extension_dialing": True,
          "out_of_hours": "hangup", "forward_trunk": "nope"}),
     ["routing.plans[1].destination: 'continue' means this destination; name where "
      "calls go",
      "routing.plans[1].extension_dialing: needs a greeting to dial during",
      "routing.plans[1].hours: required when out_of_hours is set",
      "routing.plans[1].forward_trunk: no trunk named 'nope' (trunks: 'demo-operator')"]),
    (checks.routing_plans_complete, "hours without out-of-hours handling",
     lambda d: d["routing"]["plans"][0].pop("out_of_hours"),
     ["routing.plans[0].out_of_hours: required when hours are set "
      "(or out_of_hours_blacklist = true)"]),
    (checks.routing_members_exist, "unknown members, pickup code equal to an extension",
     lambda d: (d["routing"]["queues"][0].update(members=["103", "199"],
                                                 ring_times={"105": 5}),
                d["routing"].update(member_status={"198": "break"}, pickup_code="101")),
     ["routing.queues[0].members[1]: no extension 199",
      "routing.queues[0].ring_times.105: 105 is not a member of this queue group",
      "routing.member_status.198: no extension 198",
      "routing.pickup_code: 101 is an extension number; choose e.g. '*8'"]),
]


@pytest.mark.parametrize(("mutate", "expected"), [(m, e) for _, _, m, e in RULE_CASES],
                         ids=[name for _, name, _, _ in RULE_CASES])
def test_cross_key_rule_names_its_key_f_ops_2(mutate: Callable[[Data], None],
                                              expected: list[str]) -> None:
    data = demo_data()
    mutate(data)
    assert errors_of(data) == expected


def test_every_rule_has_a_failing_example() -> None:
    assert {case[0] for case in RULE_CASES} == set(checks.RULES)


def test_registering_trunk_without_any_credentials_reports_both() -> None:
    data = demo_data()
    data["trunks"][0]["register"] = True
    assert errors_of(data) == ["trunks[0].username: required when register = true",
                               "trunks[0].password: required when register = true"]


def test_registering_trunk_with_credentials_is_valid() -> None:
    data = demo_data()
    data["trunks"][0].update(register=True, username="acct", password="s3cret")
    trunk = Config.from_data(data).trunks[0]
    assert trunk.registers and trunk.password is not None
    assert trunk.password.get_secret_value() == "s3cret"


def test_non_demo_configuration_may_listen_anywhere() -> None:
    data = demo_data()
    data["demo"] = False
    data["sip"]["listeners"][0]["host"] = "0.0.0.0"
    data["sip"]["listeners"][1]["host"] = "::"
    assert Config.from_data(data).sip.listeners[1].host == "::"


def test_demo_may_listen_on_any_loopback_address() -> None:
    data = demo_data()
    data["sip"]["listeners"][0]["host"] = "127.0.0.2"
    data["sip"]["listeners"][1]["host"] = "::1"
    assert Config.from_data(data).demo


def test_every_rule_error_is_listed_at_once_f_ops_2() -> None:
    data = demo_data()
    data["default_outbound_trunk"] = "nope"
    data["extensions"][1]["number"] = "101"
    data["trunks"][0]["numbers"][0]["extension"] = "199"
    assert errors_of(data) == [
        "extensions[1].number: extension 101 is already defined at extensions[0].number",
        "default_outbound_trunk: no trunk named 'nope' (trunks: 'demo-operator')",
        "trunks[0].numbers[0].extension: DID 390212345678 routes to extension 199, "
        "which is not defined in [[extensions]]",
        "clients[0].owner: no extension 102",
    ]


def test_outbound_trunk_without_any_trunk_lists_none() -> None:
    data = minimal_data()
    data["default_outbound_trunk"] = "main"
    assert errors_of(data) == ["default_outbound_trunk: no trunk named 'main' "
                               "(trunks: none defined)"]


# --- files and TOML ---------------------------------------------------------------------------


def test_toml_syntax_error_has_line_and_column() -> None:
    text = 'demo = true\n[sip]\nuser_agent = "x\n'
    assert errors_of_text(text) == [
        "test.toml: TOML syntax error at line 3, column 16: Illegal character '\\n'"]


def test_duplicate_toml_key_is_a_syntax_error() -> None:
    errors = errors_of_text("demo = true\ndemo = false\n")
    assert errors == ["test.toml: TOML syntax error at line 2, column 13: Cannot overwrite a value"]


def test_load_config_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "switch.toml"
    text = resources.files("softswitch.config").joinpath("demo.toml").read_text("utf-8")
    path.write_text(text.replace("port = 5080", "port = 5090"), encoding="utf-8")
    assert load_config(path).trunks[0].port == 5090
    assert load_config(str(path)) == load_config(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.errors == [f"{path}: cannot read the file: No such file or directory"]


def test_binary_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "switch.toml"
    path.write_bytes(b"demo = true\n\xff\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.errors == [f"{path}: not UTF-8 text (byte 12)"]


def test_config_error_message_joins_every_line() -> None:
    error = ConfigError(["a.b: one", "c: two"])
    assert str(error) == "a.b: one\nc: two"


# --- --sip-port -----------------------------------------------------------------------------------


def test_sip_port_override_changes_every_listener() -> None:
    config = load_demo_config().with_sip_port(5070)
    assert [listener.port for listener in config.sip.listeners] == [5070, 5070]
    assert config.trunks == load_demo_config().trunks
    assert config.extensions[0].password.get_secret_value() == "demo101"


def test_sip_port_override_is_validated() -> None:
    with pytest.raises(ConfigError) as info:
        load_demo_config().with_sip_port(70000)
    assert info.value.errors == ["--sip-port: Input should be less than or equal to 65535"]


def test_sip_port_override_that_merges_listeners_is_refused() -> None:
    data = demo_data()
    data["sip"]["listeners"][1].update(transport="udp", port=5062)
    with pytest.raises(ConfigError) as info:
        Config.from_data(data).with_sip_port(5060)
    assert info.value.errors == [
        "sip.listeners[1]: udp 127.0.0.1:5060 is already listened on by sip.listeners[0]"]


# --- check-config ---------------------------------------------------------------------------------


def test_check_config_main_on_a_valid_file(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ok.toml"
    path.write_text(resources.files("softswitch.config").joinpath("demo.toml")
                    .read_text("utf-8"), encoding="utf-8")
    assert check_config_main(str(path)) == 0
    out, err = capsys.readouterr()
    assert out == (f"{path}: valid demo configuration: listening on udp 127.0.0.1:5060, "
                   "tcp 127.0.0.1:5060; domain 127.0.0.1; 5 extensions; 1 trunk; 1 DID; "
                   "database sqlite:///var/softswitch.db\n")
    assert err == ""


def test_check_config_main_lists_every_error(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('bogus = 1\n[sip]\nlisteners = [{transport = "tls", host = "127.0.0.1"}]\n',
                    encoding="utf-8")
    assert check_config_main(str(path)) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        "sip.listeners[0].transport: Input should be 'udp' or 'tcp' (got 'tls')",
        "bogus: unknown key; expected one of: demo, data_dir, default_outbound_trunk, sip, "
        "database, calls, registrar, media, recording, extensions, trunks, routing, clients",
        f"{path}: 2 errors",
    ]


# --- phone numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(("written", "expected"), [
    ("390212345678", "390212345678"),
    ("+39 02 1234 5678", "390212345678"),
    ("+39 (02) 1234-5678", "390212345678"),
    ("(555) 010-0199", "5550100199"),
    ("0", "0"),
])
def test_digits_ignores_presentation(written: str, expected: str) -> None:
    assert digits(written) == expected


@pytest.mark.parametrize(("written", "message"), [
    ("", "not a phone number: '' has no digits"),
    ("+ - ()", "not a phone number: '+ - ()' has no digits"),
    ("39O2", "not a phone number: '39O2' contains 'O' "
             "(only digits, '+', spaces, '(', ')' and '-' are allowed)"),
    ("+39.02", "not a phone number: '+39.02' contains '.' "
               "(only digits, '+', spaces, '(', ')' and '-' are allowed)"),
    ("12\u0663", "not a phone number: '12\u0663' contains '\u0663' "
                 "(only digits, '+', spaces, '(', ')' and '-' are allowed)"),
    ("sip:101@pbx", "not a phone number: 'sip:101@pbx' contains 's' "
                    "(only digits, '+', spaces, '(', ')' and '-' are allowed)"),
])
def test_digits_refuses_anything_else(written: str, message: str) -> None:
    with pytest.raises(InvalidNumberError) as info:
        digits(written)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)


def test_same_number_compares_digits_only() -> None:
    assert same_number("+39 02 1234 5678", "390212345678")
    assert not same_number("+39 02 1234 5678", "0212345678")


def test_media_and_recording_sections_have_defaults_and_limits() -> None:  # F-MEDIA-1, F-MEDIA-3
    config = load_demo_config()
    assert config.media.rtp_timeout == 60.0 and config.media_host == "127.0.0.1"
    assert config.prompts_dir == config.data_dir / "prompts"
    assert config.recordings_dir == config.data_dir / "recordings"
    assert not config.trunks[0].record_calls
    data = {"sip": {"listeners": [{"transport": "udp", "host": "127.0.0.1"}]},
            "media": {"port_min": 30000, "port_max": 30002}}
    with pytest.raises(ConfigError) as err:
        Config.from_data(data)
    assert any(line.startswith("media") and "port_max" in line for line in err.value.errors)
