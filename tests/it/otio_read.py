"""Reads an editor export with OpenTimelineIO's own readers and prints what they see, for
tests/it/exports.rs (run with the venv scripts/setup.sh makes).

    python otio_read.py ADAPTER FILE RATE

ADAPTER is an OTIO adapter name (cmx_3600, fcp_xml, otio_json); RATE the frame rate as a
fraction (30000/1001), which only the EDL reader needs. Prints JSON: the timeline's name and
its tracks, each with its kind, name and items: for a clip its name, its source range
(start and duration, in frames at the rate given), its place on the track and its media
reference's URL and available range.
"""

import json
import sys
from fractions import Fraction

import opentimelineio as otio


def frames(t, rate):
    """A RationalTime in frames at `rate` (a float, so the test sees any rounding)."""
    return t.value_rescaled_to(rate)


def main():
    adapter, path, rate_text = sys.argv[1:4]
    rate = float(Fraction(rate_text))
    kwargs = {"rate": rate} if adapter == "cmx_3600" else {}
    tl = otio.adapters.read_from_file(path, adapter_name=adapter, **kwargs)
    tracks = []
    for track in tl.tracks:
        items = []
        for item in track:
            entry = {"schema": item.schema_name()}
            if isinstance(item, otio.schema.Clip):
                sr = item.source_range
                placed = item.range_in_parent()
                entry.update(
                    name=item.name,
                    start=frames(sr.start_time, rate),
                    duration=frames(sr.duration, rate),
                    rate=sr.start_time.rate,
                    position=frames(placed.start_time, rate),
                )
                ref = item.media_reference
                entry["url"] = getattr(ref, "target_url", None)
                if ref.available_range is not None:
                    entry["available"] = [
                        frames(ref.available_range.start_time, rate),
                        frames(ref.available_range.duration, rate),
                    ]
            items.append(entry)
        tracks.append({"kind": str(track.kind), "name": track.name, "items": items})
    json.dump({"name": tl.name, "tracks": tracks}, sys.stdout)


if __name__ == "__main__":
    main()
