"""How a call's session descriptions move between its legs.

:class:`Anchored` (the normal case) gives every leg the switch's own SDP and
keeps the media in the switch's workers (:mod:`softswitch.media_bridge`);
mid-call offers are answered locally and hold becomes hold music.
:class:`PassThrough` hands each leg the other's SDP unchanged, the phones
then exchange RTP directly; it serves when media anchoring is switched off.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from softswitch.legs import Leg
from softswitch.transfer import offer_for_target

if TYPE_CHECKING:
    from softswitch.media_bridge import MediaBridge


class SdpPolicy(Protocol):
    """The SDP decisions of one call ("a" is the caller's side, "b" the callee's)."""

    anchored: bool

    def callee_offer(self) -> bytes:
        """The offer every fork of the callee gets."""
        ...

    def early_answer(self, callee_body: bytes) -> bytes | None:
        """Body of a 183 to the caller for a callee's early media (None: none)."""
        ...

    def caller_answer(self, callee_body: bytes) -> bytes:
        """Body of the 200 to the caller when the callee answered with this."""
        ...

    def caller_early(self) -> bytes | None:
        """Body of a 183 that lets the switch itself speak to the caller before
        anyone answers (None: it cannot)."""
        ...

    def local_answer(self) -> bytes | None:
        """Body of a 200 by which the switch itself answers the caller (a
        greeting, a menu, voicemail); None when it cannot speak to the caller."""
        ...

    def callee_answered(self, callee_body: bytes) -> bytes:
        """A callee answered a caller the switch had already answered; returns
        the body the caller got (nothing more is sent to it)."""
        ...

    def play(self, side: str, prompt: str, loop: bool = False) -> None: ...

    def stop_play(self, side: str) -> None: ...

    def caller_acked(self, body: bytes, callee: Leg | None) -> None:
        """The caller's ACK; its body answers an offer our 200 made."""
        ...

    def mid_call(self, side: str, body: bytes) -> bytes | None:
        """Answer to a re-INVITE/UPDATE offer from ``side``; None: forward it."""
        ...

    def transfer_offer(self, side: str, transferee_body: bytes) -> bytes:
        """The offer for a transfer target that takes ``side``'s place."""
        ...

    def transfer_answered(self, side: str, body: bytes) -> bytes | None:
        """The target answered; returns an offer to re-INVITE the transferee
        with, or None when nothing changes for it."""
        ...

    def record(self, path: Path) -> None: ...

    def close(self) -> None: ...


class PassThrough:
    """Each leg gets the other's SDP; the media does not touch the switch."""

    anchored = False

    def __init__(self, caller_body: bytes) -> None:
        self.caller_body = caller_body

    def callee_offer(self) -> bytes:
        return self.caller_body

    def early_answer(self, callee_body: bytes) -> bytes | None:
        return callee_body or None

    def caller_answer(self, callee_body: bytes) -> bytes:
        return callee_body

    def caller_early(self) -> bytes | None:
        return None

    def local_answer(self) -> bytes | None:
        return None

    def callee_answered(self, callee_body: bytes) -> bytes:
        raise RuntimeError("the caller was answered without anchored media")

    def play(self, side: str, prompt: str, loop: bool = False) -> None:
        raise RuntimeError("prompts need anchored media")

    def stop_play(self, side: str) -> None:
        return None

    def caller_acked(self, body: bytes, callee: Leg | None) -> None:
        if body and callee is not None and not callee.is_uas:
            callee.send_ack_answer(body)

    def mid_call(self, side: str, body: bytes) -> bytes | None:
        return None

    def transfer_offer(self, side: str, transferee_body: bytes) -> bytes:
        return offer_for_target(transferee_body)

    def transfer_answered(self, side: str, body: bytes) -> bytes | None:
        return body

    def record(self, path: Path) -> None:
        raise RuntimeError("recording needs anchored media")

    def close(self) -> None:
        return None


class Anchored:
    """The switch's own SDP on every leg; media through the workers."""

    anchored = True

    def __init__(self, bridge: MediaBridge) -> None:
        self.bridge = bridge

    def callee_offer(self) -> bytes:
        return self.bridge.offer_for("b")

    def early_answer(self, callee_body: bytes) -> bytes | None:
        self.bridge.answered("b", callee_body)
        if not self.bridge.caller_has_offer:
            return None  # late offer: early media cannot reach the caller
        return self.bridge.answer_for("a")

    def caller_answer(self, callee_body: bytes) -> bytes:
        self.bridge.answered("b", callee_body)
        if self.bridge.caller_has_offer:
            return self.bridge.answer_for("a")
        return self.bridge.offer_for("a")  # the caller answers in its ACK

    def caller_early(self) -> bytes | None:
        return self.bridge.answer_for("a") if self.bridge.caller_has_offer else None

    def local_answer(self) -> bytes | None:
        if self.bridge.caller_has_offer:
            return self.bridge.answer_for("a")
        return self.bridge.offer_for("a")  # late offer: the caller answers in its ACK

    def callee_answered(self, callee_body: bytes) -> bytes:
        self.bridge.answered("b", callee_body)
        return b""

    def play(self, side: str, prompt: str, loop: bool = False) -> None:
        self.bridge.play(side, prompt, loop)

    def stop_play(self, side: str) -> None:
        self.bridge.stop_play(side)

    def caller_acked(self, body: bytes, callee: Leg | None) -> None:
        if body:
            self.bridge.answered("a", body)

    def mid_call(self, side: str, body: bytes) -> bytes | None:
        return self.bridge.reoffer(side, body)

    def transfer_offer(self, side: str, transferee_body: bytes) -> bytes:
        return self.bridge.offer_for(side)

    def transfer_answered(self, side: str, body: bytes) -> bytes | None:
        self.bridge.answered(side, body)
        self.bridge.replaced(side)
        return None  # the transferee keeps talking to the same port of ours

    def record(self, path: Path) -> None:
        self.bridge.record(path)

    def close(self) -> None:
        self.bridge.close()
