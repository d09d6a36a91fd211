"""Calls of a test phone: pjsua2 call callbacks, media players and recorders.

Runs inside the phone child process.  Call states are the invite-session
states of RFC 3261 section 13 as pjsip names them (CALLING, INCOMING, EARLY,
CONNECTING, CONFIRMED, DISCONNECTED).  Received DTMF arrives through
RFC 4733 telephone-events or SIP INFO; sent in-band DTMF is a tone generator
feeding the call's audio.
"""

from __future__ import annotations

import functools
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import pjsua2 as pj  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from .phone_agent import Agent

STATES = {
    pj.PJSIP_INV_STATE_NULL: "NULL",
    pj.PJSIP_INV_STATE_CALLING: "CALLING",
    pj.PJSIP_INV_STATE_INCOMING: "INCOMING",
    pj.PJSIP_INV_STATE_EARLY: "EARLY",
    pj.PJSIP_INV_STATE_CONNECTING: "CONNECTING",
    pj.PJSIP_INV_STATE_CONFIRMED: "CONFIRMED",
    pj.PJSIP_INV_STATE_DISCONNECTED: "DISCONNECTED",
}
MEDIA_STATUS = {
    pj.PJSUA_CALL_MEDIA_NONE: "NONE",
    pj.PJSUA_CALL_MEDIA_ACTIVE: "ACTIVE",
    pj.PJSUA_CALL_MEDIA_LOCAL_HOLD: "LOCAL_HOLD",
    pj.PJSUA_CALL_MEDIA_REMOTE_HOLD: "REMOTE_HOLD",
    pj.PJSUA_CALL_MEDIA_ERROR: "ERROR",
}
DTMF_RECEIVED = {pj.PJSUA_DTMF_METHOD_RFC2833: "rfc2833", pj.PJSUA_DTMF_METHOD_SIP_INFO: "info"}


_S = TypeVar("_S")


def guarded(method: Callable[[_S, Any], None]) -> Callable[[_S, Any], None]:
    """Turn an exception in a pjsua2 callback into a logged event.

    An exception must not travel back into pjsua's C++ caller.
    """
    @functools.wraps(method)
    def wrapper(self: _S, prm: Any) -> None:
        try:
            method(self, prm)
        except Exception:
            traceback.print_exc()
            agent = getattr(self, "agent", None)
            if agent is not None:
                agent.emit({"ev": "callback_error", "call": None, "where": method.__name__,
                            "error": traceback.format_exc(limit=4)})
    return wrapper


def parse_headers(message: str) -> list[list[str]]:
    """Header fields of a raw SIP message as [name, value] pairs, unfolded."""
    head = message.replace("\r\n", "\n").split("\n\n", 1)[0]
    fields: list[list[str]] = []
    for line in head.split("\n")[1:]:
        if line[:1] in (" ", "\t") and fields:
            fields[-1][1] += " " + line.strip()
        elif ":" in line:
            name, value = line.split(":", 1)
            fields.append([name.strip(), value.strip()])
    return fields


@dataclass(slots=True)
class CallRecord:
    """What the phone keeps about one call, for its whole life."""

    handle: int
    direction: str
    call: PhoneCall | None
    answered: bool = False
    ended: bool = False
    player: Any = None
    recorder: Any = None
    tones: Any = None
    media_active: bool = False

    def audio(self) -> Any:
        if self.call is None or not self.media_active:
            raise RuntimeError(f"call {self.handle} has no active audio")
        return self.call.getAudioMedia(-1)

    def connect_media(self) -> None:
        """(Re)attach microphone, speaker, player, tones and recorder.

        Like a desk phone, the call always hears the (null, silent) capture
        device: with no source connected to the call, pjsua 2.15 sent only
        the first five of a string of queued RFC 4733 digits.
        pjsua may rebuild the stream on re-INVITE, so this runs on every
        media state change.
        """
        audio = self.audio()
        devices = pj.Endpoint.instance().audDevManager()
        devices.getCaptureDevMedia().startTransmit(audio)
        audio.startTransmit(devices.getPlaybackDevMedia())
        for source in (self.player, self.tones):
            if source is not None:
                source.startTransmit(audio)
        if self.recorder is not None:
            audio.startTransmit(self.recorder)

    def play(self, path: str, loop: bool) -> None:
        self.stop_play()
        player = pj.AudioMediaPlayer()
        player.createPlayer(path, 0 if loop else pj.PJMEDIA_FILE_NO_LOOP)
        self.player = player
        self.connect_media()

    def stop_play(self) -> None:
        if self.player is not None and self.media_active and self.call is not None:
            self.player.stopTransmit(self.call.getAudioMedia(-1))
        self.player = None

    def record(self, path: str) -> None:
        self.stop_record()
        recorder = pj.AudioMediaRecorder()
        recorder.createRecorder(path)
        self.recorder = recorder
        self.connect_media()

    def stop_record(self) -> None:
        """Destroying the recorder writes the final WAV header."""
        self.recorder = None

    def play_tones(self, digits: str, duration_ms: int) -> None:
        if self.tones is None:
            self.tones = pj.ToneGenerator()
            self.tones.createToneGenerator(8000, 1)
            self.connect_media()
        vector = pj.ToneDigitVector()
        for digit in digits:
            tone = pj.ToneDigit()
            tone.digit = digit
            tone.on_msec = duration_ms
            tone.off_msec = 80
            tone.volume = 0
            vector.append(tone)
        self.tones.playDigits(vector, False)

    def info(self) -> dict[str, Any]:
        assert self.call is not None
        info = self.call.getInfo()
        return {"state": STATES.get(info.state, str(info.state)), "code": info.lastStatusCode,
                "reason": info.lastReason, "sip_call_id": info.callIdString,
                "local_uri": info.localUri, "remote_uri": info.remoteUri,
                "remote_contact": info.remoteContact, "media_active": self.media_active}

    def release(self) -> None:
        self.player = self.recorder = self.tones = None
        self.call = None


class PhoneCall(pj.Call):  # type: ignore[misc]
    """A pjsua2 call whose callbacks become events of its agent."""

    def __init__(self, agent: Agent, account: Any, call_id: int = pj.PJSUA_INVALID_ID) -> None:
        super().__init__(account, call_id)
        self.agent = agent
        self.record: CallRecord | None = None

    def _emit(self, kind: str, **fields: Any) -> None:
        handle = self.record.handle if self.record is not None else None
        self.agent.emit({"ev": kind, "call": handle, **fields})

    @guarded
    def onCallState(self, prm: Any) -> None:
        info = self.getInfo()
        state = STATES.get(info.state, str(info.state))
        self._emit("call_state", state=state, code=info.lastStatusCode, reason=info.lastReason,
                   sip_call_id=info.callIdString, remote_uri=info.remoteUri)
        if state == "DISCONNECTED" and self.record is not None:
            self.record.ended = True
            self.record.media_active = False

    @guarded
    def onCallMediaState(self, prm: Any) -> None:
        info = self.getInfo()
        statuses = [MEDIA_STATUS.get(m.status, str(m.status)) for m in info.media
                    if m.type == pj.PJMEDIA_TYPE_AUDIO]
        status = statuses[0] if statuses else "NONE"
        if self.record is not None:
            self.record.media_active = status in ("ACTIVE", "REMOTE_HOLD")
            if self.record.media_active:
                self.record.connect_media()
        self._emit("media_state", status=status)

    @guarded
    def onDtmfDigit(self, prm: Any) -> None:
        self._emit("dtmf", digit=prm.digit, method=DTMF_RECEIVED.get(prm.method, "other"))

    @guarded
    def onCallTransferRequest(self, prm: Any) -> None:
        new_call = PhoneCall(self.agent, self.agent.account())
        record = self.agent.new_record(new_call, "out")
        prm.newCall = new_call
        self._emit("transfer_request", target=prm.dstUri, new_call=record.handle)

    @guarded
    def onCallTransferStatus(self, prm: Any) -> None:
        self._emit("transfer_status", code=prm.statusCode, reason=prm.reason,
                   final=prm.finalNotify)
