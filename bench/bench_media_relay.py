"""RTP relay throughput of one media worker (F-MEDIA-1), no phones.

A :class:`media.transport.engine.MediaEngine` with one worker process anchors
N bridged G.711 calls; a small RTP generator on uvloop in this process plays
both phones of every call (``bench.media_load``; a few UDP sockets stand for all the A phones and
all the B phones) and sends one 20 ms packet per direction per call, paced by
the loop clock. What the worker relays back is counted. Each step reports the
packets relayed per second, the loss (a packet relayed more than 100 ms
after it was sent counts as lost: the worker queues what it cannot keep up
with in its sockets, so overload shows as delay before it shows as drops),
and the CPU the worker and the generator used (from /proc), so a step where
the generator, not the worker, ran out of CPU is visible.

Run: ``python -m bench.bench_media_relay [--steps 200,400,...] [--seconds 5]
[--record DIR] [--out FILE]``. With ``--record`` every call is also recorded
(the worker decodes both sides and writes stereo WAV files on its thread).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from bench.media_load import Generator, new_engine, new_loop, step


async def run(steps: list[int], seconds: float, record: Path | None) -> list[dict[str, Any]]:
    engine = new_engine()
    await engine.start()
    generator = Generator(asyncio.get_running_loop())
    results = []
    try:
        for calls in steps:
            result = await step(engine, generator, calls, seconds, record)
            print(json.dumps(result), flush=True)
            results.append(result)
    finally:
        await engine.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="100,200,400,600,800,1000,1200")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--record", type=Path, help="record every call into this folder")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    steps = [int(s) for s in args.steps.split(",")]
    loop = new_loop()
    try:
        results = loop.run_until_complete(run(steps, args.seconds, args.record))
    finally:
        loop.close()
    if args.out is not None:
        args.out.write_text(json.dumps({"benchmark": "media_relay", "workers": 1,
                                        "steps": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
