"""The pjsua2 side of a test phone: Endpoint, accounts, calls and media.

Runs inside ``phone_child.py`` on the process's main thread only.  Each
command named in ``Agent.execute`` maps to one method ``cmd_<name>``; each
pjsua2 callback turns into one event dict handed to ``emit``.  Calls are
named by handles (1, 2, ...) that are never reused, unlike pjsua call ids.
Signalling follows RFC 3261 (INVITE, CANCEL, BYE, REGISTER with RFC 2617
digest), RFC 3515 (REFER), RFC 4733 / 2833 (telephone-event DTMF).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pjsua2 as pj  # type: ignore[import-untyped]

from .phone_calls import CallRecord, PhoneCall, guarded, parse_headers

Emit = Callable[[dict[str, Any]], None]
TRANSPORTS = {"udp": pj.PJSIP_TRANSPORT_UDP, "tcp": pj.PJSIP_TRANSPORT_TCP}
DTMF_METHODS = {"rfc2833": pj.PJSUA_DTMF_METHOD_RFC2833, "info": pj.PJSUA_DTMF_METHOD_SIP_INFO}


class CommandError(Exception):
    """A command the phone cannot carry out; the text goes back to the test."""


class PhoneAccount(pj.Account):  # type: ignore[misc]
    """An account whose callbacks report to the agent."""

    def __init__(self, agent: Agent, name: str) -> None:
        super().__init__()
        self.agent = agent
        self.name = name

    @guarded
    def onRegState(self, prm: Any) -> None:
        info = self.getInfo()
        self.agent.emit({"ev": "reg_state", "account": self.name, "code": prm.code,
                         "reason": prm.reason, "expiration": prm.expiration,
                         "active": info.regIsActive})

    @guarded
    def onIncomingCall(self, prm: Any) -> None:
        self.agent.incoming(self, prm)


class Agent:
    """One pjsua2 Endpoint with a local account and at most one registration."""

    def __init__(self, options: dict[str, Any], emit: Emit) -> None:
        self.emit = emit
        self.user: str = options.get("user", "phone")
        self.calls: dict[int, CallRecord] = {}
        self.next_handle = 1
        self.ring_code: int | None = options.get("ring", 180)
        self.auto_answer: tuple[int, float] | None = None
        self.timers: list[tuple[float, Callable[[], None]]] = []
        self.ep = pj.Endpoint()
        self.ep.libCreate()
        self.ep.libInit(self._ep_config(options))
        self.ep.audDevManager().setNullDev()
        self.kind = options.get("transport", "udp")
        tcfg = pj.TransportConfig()
        tcfg.port = int(options.get("port", 0))
        tcfg.boundAddress = "127.0.0.1"
        tcfg.publicAddress = "127.0.0.1"
        self.tid = self.ep.transportCreate(TRANSPORTS[self.kind], tcfg)
        self.ep.libStart()
        self.port = int(self.ep.transportGetInfo(self.tid).localName.rsplit(":", 1)[1])
        self.local = PhoneAccount(self, "local")
        self.local.create(self._account_config(self.contact()))
        self.registered: PhoneAccount | None = None

    @staticmethod
    def _ep_config(options: dict[str, Any]) -> Any:
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.maxCalls = 4
        cfg.uaConfig.userAgent = options.get("user_agent", "softswitch-test-phone")
        cfg.logConfig.level = int(options.get("log_level", 5))
        cfg.logConfig.consoleLevel = int(options.get("log_level", 5))
        cfg.logConfig.msgLogging = True
        cfg.medConfig.noVad = True
        cfg.medConfig.ecTailLen = 0
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.sndClockRate = 8000
        return cfg

    def _account_config(self, id_uri: str) -> Any:
        cfg = pj.AccountConfig()
        cfg.idUri = id_uri
        cfg.sipConfig.transportId = self.tid
        media = cfg.mediaConfig.transportConfig
        media.boundAddress = "127.0.0.1"
        media.publicAddress = "127.0.0.1"
        media.port = 20000
        media.portRange = 20000
        media.randomizePort = True
        return cfg

    def contact(self, user: str | None = None) -> str:
        suffix = ";transport=tcp" if self.kind == "tcp" else ""
        return f"sip:{user or self.user}@127.0.0.1:{self.port}{suffix}"

    def describe(self) -> dict[str, Any]:
        return {"port": self.port, "uri": self.contact(), "transport": self.kind}

    # -- main loop -------------------------------------------------------

    def poll(self, msec: int) -> None:
        self.ep.libHandleEvents(msec)
        now = time.monotonic()
        due = [action for when, action in self.timers if when <= now]
        self.timers = [(when, action) for when, action in self.timers if when > now]
        for action in due:
            action()
        self._reap()

    def _reap(self) -> None:
        """Drop pjsua2 objects of ended calls, outside any callback."""
        for record in self.calls.values():
            if record.ended and record.call is not None:
                record.release()

    def shutdown(self) -> None:
        self.ep.hangupAllCalls()
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline and any(
                not r.ended for r in self.calls.values() if r.call is not None):
            self.ep.libHandleEvents(10)
        self._reap()
        self.ep.libDestroy(pj.PJSUA_DESTROY_NO_NETWORK)

    def execute(self, cmd: str, args: dict[str, Any]) -> Any:
        method = getattr(self, f"cmd_{cmd}", None)
        if method is None:
            raise CommandError(f"unknown command {cmd!r}")
        return method(**args)

    # -- calls -----------------------------------------------------------

    def new_record(self, call: PhoneCall, direction: str) -> CallRecord:
        record = CallRecord(handle=self.next_handle, direction=direction, call=call)
        self.next_handle += 1
        call.record = record
        self.calls[record.handle] = record
        return record

    def record_of(self, handle: int | None) -> CallRecord:
        if handle is None:
            waiting = [r for r in self.calls.values() if r.direction == "in" and not r.answered
                       and not r.ended]
            if not waiting:
                raise CommandError("no unanswered incoming call")
            return waiting[-1]
        record = self.calls.get(handle)
        if record is None:
            raise CommandError(f"no call with handle {handle}")
        if record.ended or record.call is None:
            raise CommandError(f"call {handle} has already ended")
        return record

    def incoming(self, account: PhoneAccount, prm: Any) -> None:
        call = PhoneCall(self, account, prm.callId)
        record = self.new_record(call, "in")
        message = prm.rdata.wholeMsg
        info = call.getInfo()
        self.emit({"ev": "incoming", "call": record.handle, "account": account.name,
                   "from": info.remoteUri, "to": info.localUri,
                   "sip_call_id": info.callIdString, "request_line": message.split("\r\n")[0],
                   "headers": parse_headers(message)})
        if self.ring_code is not None:
            self._respond(record, self.ring_code)
        if self.auto_answer is not None:
            code, delay = self.auto_answer
            self.timers.append((time.monotonic() + delay,
                                lambda: self._auto_answer(record, code)))

    def _auto_answer(self, record: CallRecord, code: int) -> None:
        if not record.ended and record.call is not None:
            self._respond(record, code)

    def _respond(self, record: CallRecord, code: int, reason: str = "") -> None:
        prm = pj.CallOpParam(True)
        prm.statusCode = code
        if reason:
            prm.reason = reason
        assert record.call is not None
        if code >= 300:
            record.call.hangup(prm)
        else:
            record.call.answer(prm)
        if code >= 200:
            record.answered = True

    def account(self) -> PhoneAccount:
        return self.registered if self.registered is not None else self.local

    def cmd_call(self, uri: str, headers: dict[str, str] | None = None) -> int:
        call = PhoneCall(self, self.account())
        record = self.new_record(call, "out")
        prm = pj.CallOpParam(True)
        for name, value in (headers or {}).items():
            header = pj.SipHeader()
            header.hName = name
            header.hValue = value
            prm.txOption.headers.append(header)
        try:
            call.makeCall(uri, prm)
        except Exception:
            record.ended = True
            raise
        return record.handle

    def cmd_answer(self, call: int | None = None, code: int = 200, reason: str = "") -> int:
        record = self.record_of(call)
        self._respond(record, code, reason)
        return record.handle

    def cmd_hangup(self, call: int, code: int = 0) -> None:
        prm = pj.CallOpParam(True)
        if code:
            prm.statusCode = code
        record = self.record_of(call)
        assert record.call is not None
        record.call.hangup(prm)

    def cmd_set_auto_answer(self, code: int | None, delay: float = 0.0,
                            ring: int | None = 180) -> None:
        self.auto_answer = None if code is None else (code, delay)
        self.ring_code = ring

    def cmd_hold(self, call: int) -> None:
        target = self.record_of(call).call
        assert target is not None
        target.setHold(pj.CallOpParam(True))

    def cmd_unhold(self, call: int) -> None:
        target = self.record_of(call).call
        assert target is not None
        prm = pj.CallOpParam(True)
        prm.opt.flag = pj.PJSUA_CALL_UNHOLD
        target.reinvite(prm)

    def cmd_transfer(self, call: int, target: str) -> None:
        current = self.record_of(call).call
        assert current is not None
        current.xfer(target, pj.CallOpParam(True))

    def cmd_dtmf(self, call: int, digits: str, method: str = "rfc2833",
                 duration_ms: int = 160) -> None:
        record = self.record_of(call)
        if method == "inband":
            record.play_tones(digits, duration_ms)
            return
        if method not in DTMF_METHODS:
            raise CommandError(f"unknown DTMF method {method!r}")
        prm = pj.CallSendDtmfParam()
        prm.digits = digits
        prm.method = DTMF_METHODS[method]
        prm.duration = duration_ms
        assert record.call is not None
        record.call.sendDtmf(prm)

    def cmd_play(self, call: int, path: str, loop: bool = False) -> None:
        self.record_of(call).play(path, loop)

    def cmd_stop_play(self, call: int) -> None:
        self.calls[call].stop_play()

    def cmd_record(self, call: int, path: str) -> None:
        self.record_of(call).record(path)

    def cmd_stop_record(self, call: int) -> None:
        self.calls[call].stop_record()

    def cmd_call_info(self, call: int) -> dict[str, Any]:
        return self.record_of(call).info()

    # -- registration and codecs -----------------------------------------

    def cmd_register(self, registrar: str, user: str, password: str, expires: int = 300,
                     realm: str = "*", domain: str | None = None) -> None:
        host = domain or registrar
        cfg = self._account_config(f"sip:{user}@{host}")
        cfg.regConfig.registrarUri = registrar if registrar.startswith("sip") \
            else f"sip:{registrar}"
        cfg.regConfig.timeoutSec = expires
        cfg.regConfig.retryIntervalSec = 0
        cfg.sipConfig.authCreds.append(pj.AuthCredInfo("digest", realm, user, 0, password))
        if self.registered is None:
            self.registered = PhoneAccount(self, "registered")
            self.registered.create(cfg)
        else:
            self.registered.modify(cfg)
            self.registered.setRegistration(True)

    def cmd_unregister(self) -> None:
        if self.registered is None:
            raise CommandError("not registered")
        self.registered.setRegistration(False)

    def cmd_codecs(self, prefer: list[str], only: bool = False) -> list[str]:
        known = {c.codecId: c for c in self.ep.codecEnum2()}
        wanted: list[str] = []
        for name in prefer:
            matches = [cid for cid in known if cid.lower().startswith(name.lower())]
            if not matches:
                raise CommandError(f"codec {name!r} not available; have {sorted(known)}")
            wanted.extend(m for m in matches if m not in wanted)
        for cid in known:
            if cid not in wanted:
                self.ep.codecSetPriority(cid, 0 if only else min(known[cid].priority, 127))
        for rank, cid in enumerate(wanted):
            self.ep.codecSetPriority(cid, 255 - rank)
        ordered = sorted(self.ep.codecEnum2(), key=lambda c: -c.priority)
        return [c.codecId for c in ordered if c.priority > 0]
