"""Reading CoT from a stream: documents split as TAK clients send them, each parsed with no
DTD or entity, kept byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.cot.samples import BILLION_LAUGHS, EXTERNAL_ENTITY, geochat, position, spot_marker

from fusioncell.cot.parse import CotError, Oversize, StreamSplitter, parse_event
from fusioncell.cot.rules import load_rules

NOW = datetime(2026, 12, 6, 10, 0, 0, 123000, tzinfo=UTC)


def test_several_documents_per_segment_and_one_split_across_segments_come_out_whole() -> None:
    documents = [
        position("ANDROID-1", now=NOW),
        position("ANDROID-2", now=NOW, declaration=False),
        geochat("ANDROID-1", "m1", "hello", now=NOW),
        spot_marker("marker", now=NOW),
    ]
    stream = b"\n".join(documents) + b"\n"
    splitter = StreamSplitter(max_bytes=65536)
    out: list[bytes] = []
    for cut in range(0, len(stream), 97):  # segments that cut through tags and attributes
        out.extend(splitter.feed(stream[cut : cut + 97]))
    assert out == documents
    assert splitter.pending == 0


def test_recorded_samples_parse_without_loss_unknown_detail_included() -> None:
    raw = position("ANDROID-1", now=NOW)
    event = parse_event(raw)
    assert (event.uid, event.type, event.how, event.time) == (
        "ANDROID-1",
        "a-f-G-U-C-I",
        "m-g",
        NOW,
    )
    assert event.point is not None and (event.point.lat, event.point.lon) == (33.12, 35.75)
    assert event.raw == raw
    unknown = event.root.find("detail/x-unknown-vendor/nested")
    assert unknown is not None and unknown.text == "text kept" and unknown.get("a") == "b"
    detail = event.root.find("detail")
    assert detail is not None
    assert [child.tag for child in detail] == [
        "takv",
        "contact",
        "uid",
        "precisionlocation",
        "__group",
        "status",
        "track",
        "x-unknown-vendor",
    ]
    chat = parse_event(geochat("ANDROID-1", "m1", "Convoy at the crossing", now=NOW))
    assert chat.type == "b-t-f" and chat.root.findtext("detail/remarks") == "Convoy at the crossing"
    assert parse_event(spot_marker("m", now=NOW)).affiliation is None


@pytest.mark.parametrize("hostile", [BILLION_LAUGHS, EXTERNAL_ENTITY])
def test_a_dtd_or_entity_is_refused_before_any_expansion(hostile: bytes) -> None:
    [document] = StreamSplitter(max_bytes=65536).feed(hostile)
    with pytest.raises(CotError) as refused:
        parse_event(document)
    assert refused.value.reason == "entities"


@pytest.mark.parametrize(
    "document",
    [
        b"<event uid='a' type='a-f-G' time='yesterday'><point lat='1' lon='1'/></event>",
        b"<event type='a-f-G' time='2026-01-06T08:00:00Z'></event>",
        b"<evil uid='a'/></event>",
        b"<event uid='a' type='a-f-G' time='2026-01-06T08:00:00Z'><point lat='91' lon='1'/></event>",
        b"<event uid='a' type='a-f-G' time='2026-01-06T08:00:00Z'><point lat='x' lon='1'/></event>",
    ],
)
def test_malformed_events_are_refused(document: bytes) -> None:
    with pytest.raises(CotError) as refused:
        parse_event(document)
    assert refused.value.reason == "malformed"


def test_an_event_over_the_limit_is_refused_before_it_ends() -> None:
    splitter = StreamSplitter(max_bytes=1000)
    with pytest.raises(Oversize):
        splitter.feed(b"<event uid='a' type='a-f-G'><detail>" + b"x" * 1200)
    with pytest.raises(Oversize):
        StreamSplitter(max_bytes=100).feed(position("ANDROID-1", now=NOW))


def test_the_category_is_the_longest_matching_prefix_of_the_type() -> None:
    rules = load_rules()
    assert rules.category_of("a-f-G-U-C-I") == "personnel"
    assert rules.category_of("a-f-G-U-C") == "personnel"
    assert rules.category_of("a-f-G-E-V-A-T") == "tank"
    assert rules.category_of("a-f-G-U-C-F-R") == "artillery"
    assert rules.category_of("a-f-A-M-F-Q") == "uav"
    assert rules.category_of("a-f-A-M-F-F") == "aircraft"
    assert rules.category_of("a-f-G-E-W-M-S") == "ssm"
    assert rules.category_of("a-f-S") == "other"
