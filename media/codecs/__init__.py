"""Audio codecs the switch speaks: G.711 µ-law (PCMU) and A-law (PCMA), ITU-T G.711.

:mod:`media.codecs.g711` holds the laws and the transcoding tables (HOT: the relay
uses ``payload.translate(ULAW_TO_ALAW)``); :mod:`media.codecs.registry` holds the
codec facts (DESIGN.md rule 12) and the lookups by name and payload type.
"""

from media.codecs.g711 import (
    ALAW_TO_ULAW,
    ULAW_TO_ALAW,
    alaw_decode,
    alaw_encode,
    alaw_to_ulaw,
    ulaw_decode,
    ulaw_encode,
    ulaw_to_alaw,
)
from media.codecs.registry import (
    BY_PAYLOAD_TYPE,
    CODECS,
    PCMA,
    PCMU,
    PTIME_MS,
    TELEPHONE_EVENT,
    Codec,
    EventFormat,
    G711Codec,
    UnknownCodec,
    by_name,
    by_payload_type,
    transcode_table,
)

__all__ = [
    "ALAW_TO_ULAW", "BY_PAYLOAD_TYPE", "CODECS", "PCMA", "PCMU", "PTIME_MS",
    "TELEPHONE_EVENT", "ULAW_TO_ALAW", "Codec", "EventFormat", "G711Codec", "UnknownCodec",
    "alaw_decode", "alaw_encode", "alaw_to_ulaw", "by_name", "by_payload_type",
    "transcode_table", "ulaw_decode", "ulaw_encode", "ulaw_to_alaw",
]
