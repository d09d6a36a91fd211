"""The softswitch configuration a benchmark runs on, and SIPp injection files.

One UDP listener on loopback, ``extensions`` numbered from ``FIRST`` with
password ``"bench" + number``, one trunk trusted from 127.0.0.1 with
To-header routing and a DID to the first extension. Digest offers MD5 only:
SIPp 3.6 answers only the first WWW-Authenticate and only MD5.
"""

from __future__ import annotations

from pathlib import Path

FIRST = 1000
DID = "+390212345678"
TRUNK_PORT = 9  # discard: the bench never calls out through the trunk


def number(index: int) -> str:
    """The extension number of the ``index``-th (0-based) bench extension."""
    return str(FIRST + index)


def password(extension: str) -> str:
    return f"bench{extension}"


def switch_config(port: int, data_dir: Path, extensions: int = 10,
                  max_call_duration: int = 7200, anchor: bool = True, media_workers: int = 0,
                  record: bool = False) -> str:
    """A softswitch TOML configuration with ``extensions`` extensions; with
    ``anchor`` false the switch passes SDP through and never touches RTP.
    ``media_workers`` (0: one per core) sets ``[media] workers``; ``record``
    records every call of the trunk."""
    lines = [f'demo = false\ndata_dir = "{data_dir}"\n',
             '[sip]\nuser_agent = "softswitch-bench"\ndigest_algorithms = ["MD5"]\n',
             f'[[sip.listeners]]\ntransport = "udp"\nhost = "127.0.0.1"\nport = {port}\n',
             f"[calls]\nring_timeout = 30\nmax_call_duration = {max_call_duration}\n"
             "session_expires = 7200\n",
             "[registrar]\nmin_expires = 60\nmax_expires = 7200\ndefault_expires = 3600\n",
             f"[media]\nanchor = {str(anchor).lower()}\nworkers = {media_workers}\n"]
    for i in range(extensions):
        ext = number(i)
        lines.append(f'[[extensions]]\nnumber = "{ext}"\npassword = "{password(ext)}"\n')
    lines.append(f'[[trunks]]\nname = "operator"\nhost = "127.0.0.1"\nport = {TRUNK_PORT}\n'
                 'transport = "udp"\nregister = false\nallowed_sources = ["127.0.0.1"]\n'
                 f'to_header_routing = true\nrecord_calls = {str(record).lower()}\n')
    lines.append(f'[[trunks.numbers]]\ndid = "{DID}"\nextension = "{number(0)}"\n')
    return "\n".join(lines)


def users_csv(path: Path, extensions: int) -> Path:
    """A SIPp injection file of ``user;[authentication …]`` lines, read in
    sequence (SIPp does not expand fields inside its ``[authentication]``
    keyword, so the whole keyword is the second field)."""
    rows = ["SEQUENTIAL"] + [
        f"{number(i)};[authentication username={number(i)} password={password(number(i))}]"
        for i in range(extensions)]
    path.write_text("\n".join(rows) + "\n")
    return path


def targets_csv(path: Path, extensions: int) -> Path:
    """A SIPp injection file of extension numbers to call, read in sequence."""
    rows = ["SEQUENTIAL"] + [number(i) for i in range(extensions)]
    path.write_text("\n".join(rows) + "\n")
    return path
