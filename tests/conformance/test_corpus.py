"""RFC 4475 and RFC 5118 torture messages through the parser and check_request.

The bytes are read from the shared corpus (never copied into the repository);
the expected outcome of each file is the table in corpus_table.py.
"""

from __future__ import annotations

import pytest
from corpus_table import APP, CORPUS, PARSE, PROFILES, Ok, corpus_names

from sipstack.errors import RemoteProtocolError, SipError
from sipstack.message import Request
from sipstack.parser import parse_message
from sipstack.validate import check_request


def load(name: str) -> bytes:
    return (CORPUS / f"{name}.sip").read_bytes()


def test_every_corpus_file_has_a_row() -> None:
    names = corpus_names()
    assert len(names) == 63
    assert sorted(PARSE) == names
    assert {name for name, _ in APP} <= set(names)


@pytest.mark.parametrize("name", sorted(PARSE))
def test_parse(name: str) -> None:
    expected = PARSE[name]
    data = load(name)
    if isinstance(expected, Ok):
        message = parse_message(data)
        expected.check(message)
        # What we serialise re-parses to the same values.
        again = parse_message(bytes(message))
        assert bytes(again) == bytes(message)
        expected.check(again)
    else:
        with pytest.raises(RemoteProtocolError) as info:
            parse_message(data)
        assert info.value.status_hint == expected, info.value.message


@pytest.mark.parametrize(("name", "profile"), sorted(APP))
def test_check_request(name: str, profile: str) -> None:
    expected = APP[name, profile]
    request = parse_message(load(name))
    assert isinstance(request, Request)
    options = PROFILES[profile]
    if expected is None:
        check_request(request, **options)  # type: ignore[arg-type]
        return
    status, tags = expected if isinstance(expected, tuple) else (expected, ())
    with pytest.raises(SipError) as info:
        check_request(request, **options)  # type: ignore[arg-type]
    assert info.value.status_hint == status, info.value.message
    assert info.value.unsupported == tags


def test_regbadct_contact_view_is_strict() -> None:
    request = parse_message(load("rfc4475/regbadct"))
    with pytest.raises(RemoteProtocolError) as info:
        _ = request.contacts
    assert info.value.status_hint == 400


def test_dblreq_trailing_octets_are_not_part_of_the_message() -> None:
    data = load("rfc4475/dblreq")
    message = parse_message(data)
    assert b"INVITE" not in bytes(message)
