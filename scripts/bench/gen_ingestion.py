#!/usr/bin/env python3
"""Batches of telemetry as the telemetry API writes them to the ingestion topic, for the
memory benchmark of `pipec run` (BENCHMARKS.md, "Memory of `pipec run`").

Writes EVENTS events, BATCH per envelope, as NDJSON to OUT. The events are the valid events
of pipelines/igot/samples/ingestion.ndjson (Sunbird's extractor fixtures), taken in turn,
each with a fresh `mid` and `ets`, and each envelope with a fresh `params.msgid`, so that
no dedup drops them and every one runs the whole chain.

    python3 scripts/bench/gen_ingestion.py OUT [--events 1000000] [--batch 50]

Deterministic. Pure Python (no packages needed).
"""

import argparse
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SAMPLE = os.path.join(HERE, "..", "..", "pipelines", "igot", "samples", "ingestion.ndjson")


def templates():
    out = []
    with open(SAMPLE) as f:
        for line in f:
            try:
                batch = json.loads(line)
            except ValueError:
                continue  # the sample's deliberately broken batch
            events = batch.get("events")
            if isinstance(events, list):
                out.extend(e for e in events if isinstance(e, dict) and "mid" in e)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--batch", type=int, default=50)
    a = ap.parse_args()
    # Each shape written once, with markers where the fresh `mid` and `ets` go.
    shapes = []
    for t in templates():
        t = copy.deepcopy(t)
        t["mid"] = "@MID@"
        t["ets"] = -424242
        shapes.append((t.get("eid", "E"), json.dumps(t, separators=(",", ":"))))
    base_ms = 1_717_200_000_000
    written = 0
    n_batch = 0
    with open(a.out, "w") as f:
        while written < a.events:
            k = min(a.batch, a.events - written)
            events = []
            for j in range(k):
                i = written + j
                eid, text = shapes[i % len(shapes)]
                events.append(
                    text.replace('"@MID@"', f'"{eid}:bench-{i}"', 1).replace("-424242", str(base_ms + i), 1)
                )
            f.write(
                '{"id":"sunbird.telemetry","ver":"3.0","ets":%d,"params":{"msgid":"bench-batch-%d",'
                '"requesterId":"","did":"bench","key":""},"events":[%s]}\n'
                % (base_ms + written, n_batch, ",".join(events))
            )
            written += k
            n_batch += 1
    print(f"{written} events in {n_batch} batches -> {a.out} ({os.path.getsize(a.out) / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
