"""The ``[media]`` section: where RTP is anchored and how (F-MEDIA-1..3).

Every call's audio flows through the switch's media workers: one process per
core by default, RTP ports from one range, prompts and recordings under the
data directory unless moved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from softswitch.config.types import Flag, IpAddress, Port, Section

__all__ = ["MediaSettings", "RecordingSettings"]


class MediaSettings(Section):
    """RTP anchoring."""

    anchor: Flag = Field(
        default=True,
        description="Carry every call's RTP through the switch (needed for recording, "
                    "prompts, hold music, DTMF); false lets phones exchange RTP directly.",
    )
    host: IpAddress | None = Field(
        default=None,
        description="Address the RTP sockets bind to and the SDP offers; the first "
                    "SIP listener's host when unset.",
    )
    port_min: Port = Field(default=20000, description="Lowest RTP port (even).")
    port_max: Port = Field(default=40000, description="Highest RTP port.")
    workers: int = Field(default=0, ge=0, le=64, strict=True,
                         description="Media worker processes; 0 = one per CPU core.")
    rtp_timeout: float = Field(
        default=60.0, ge=0,
        description="A call whose media stops this long (not on hold) is ended; 0 = never.",
    )
    inband_dtmf: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="In-band DTMF detection (costly: decodes every packet): 'auto' on "
                    "legs without RFC 4733 telephone-event, 'always', or 'never'.",
    )
    language: str = Field(default="en", min_length=2, max_length=5,
                          description="Language of built-in announcements.")
    prompts_dir: Path | None = Field(
        default=None, description="Prompt store (built-ins and uploads); data_dir/prompts "
                                  "when unset.")

    @model_validator(mode="after")
    def _range(self) -> MediaSettings:
        if self.port_max - self.port_min < 4:
            raise ValueError("port_max must be at least 4 above port_min")
        return self


class RecordingSettings(Section):
    """Recording of calls (F-MEDIA-3)."""

    internal_calls: Flag = Field(default=False,
                                 description="Record calls between extensions too.")
    announcement: Flag = Field(
        default=False,
        description="Play 'this call is recorded' to the caller before connecting.",
    )
    directory: Path | None = Field(
        default=None, description="Where recordings go (a folder per month); "
                                  "data_dir/recordings when unset.")
