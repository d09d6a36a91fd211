"""RandomIds: branches, tags and Call-IDs for real traffic (RFC 3261 §8.1.1.3,
§8.1.1.4, §8.1.1.7, §19.3) drawn from a block of OS random bytes, each byte
used once, a new block fetched when the rest of the old one is too short."""

from __future__ import annotations

import itertools
import re
import string
from types import SimpleNamespace

import pytest

from sipstack.transport.ids import POOL, RandomIds

HEX = re.compile(r"[0-9a-f]+")
# RFC 3261 §25.1 token and word characters: what a branch, tag and Call-ID may hold
TOKEN = set(string.ascii_letters + string.digits + "-.!%*_+`'~")
WORD = TOKEN | set("()<>:\\\"/[]?{}")


def test_shapes_and_alphabet() -> None:
    made = RandomIds("pbx.example.com")
    for _ in range(1000):
        branch, tag, call_id = made.branch(), made.tag(), made.call_id()
        assert branch.startswith("z9hG4bK") and len(branch) == 7 + 16
        assert HEX.fullmatch(branch[7:])
        assert len(tag) == 12 and HEX.fullmatch(tag) and set(tag) <= TOKEN
        local, at, host = call_id.partition("@")
        assert at and host == "pbx.example.com"
        assert len(local) == 20 and HEX.fullmatch(local) and set(call_id) <= WORD | {"@"}


def test_unique_over_many_draws() -> None:
    made = RandomIds()
    drawn = 30000
    branches = {made.branch() for _ in range(drawn)}
    tags = {made.tag() for _ in range(drawn)}
    call_ids = {made.call_id() for _ in range(drawn)}
    assert len(branches) == len(tags) == len(call_ids) == drawn


def test_two_factories_do_not_repeat_each_other() -> None:
    first, second = RandomIds(), RandomIds()
    assert {first.tag() for _ in range(2000)}.isdisjoint({second.tag() for _ in range(2000)})


class Blocks:
    """os.urandom stand-in: numbered blocks, so each id shows where it came from."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def __call__(self, size: int) -> bytes:
        self.sizes.append(size)
        block = len(self.sizes)
        return bytes((block * 16 + i) % 256 for i in range(size))


@pytest.fixture
def blocks(monkeypatch: pytest.MonkeyPatch) -> Blocks:
    source = Blocks()
    # only the ids module's view of os: nothing else draws from the stand-in
    monkeypatch.setattr("sipstack.transport.ids.os", SimpleNamespace(urandom=source))
    return source


def test_one_block_serves_many_ids_each_byte_once(blocks: Blocks) -> None:
    made = RandomIds()
    tags = [made.tag() for _ in range(POOL // 6)]  # 6 bytes a tag: 682 fit in a block
    assert blocks.sizes == [POOL]
    joined = bytes.fromhex("".join(tags))
    expected = bytes((16 + i) % 256 for i in range(POOL))
    assert joined == expected[:len(joined)]  # consecutive, none reused


def test_an_id_that_would_cross_the_block_end_comes_from_a_new_block(blocks: Blocks) -> None:
    made = RandomIds()
    for _ in range(POOL // 10):
        made.call_id()  # 409 Call-IDs take 4090 bytes: 6 are left
    assert blocks.sizes == [POOL]
    tag = made.tag()  # exactly the 6 left
    assert blocks.sizes == [POOL] and tag == bytes((16 + i) % 256 for i in range(4090, 4096)).hex()
    branch = made.branch()  # none left: a new block, read from its start
    assert blocks.sizes == [POOL, POOL]
    assert branch == "z9hG4bK" + bytes((32 + i) % 256 for i in range(8)).hex()


def test_the_last_partial_bytes_are_dropped_not_mixed_into_the_next_id(blocks: Blocks) -> None:
    made = RandomIds()
    for _ in range(POOL // 8 - 1):
        made.branch()  # 4088 bytes used: 8 left, too few for a Call-ID
    call_id = made.call_id()
    assert blocks.sizes == [POOL, POOL]
    assert call_id.split("@")[0] == bytes((32 + i) % 256 for i in range(10)).hex()


def test_mixed_draws_never_repeat_across_many_blocks() -> None:
    made = RandomIds()
    draws = itertools.cycle((made.branch, made.tag, made.call_id))
    seen = [next(draws)() for _ in range(3 * POOL)]  # about 24 blocks
    assert len(set(seen)) == len(seen)
