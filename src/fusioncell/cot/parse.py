"""Reading CoT 2.0 from a TCP stream: documents split out of the bytes as TAK clients send
them (several per segment, one split across segments, each with or without an XML
declaration), each parsed with ``defusedxml`` (no DTD, no entity, no external reference).

A document is everything from the end of the previous ``</event>`` to the end of the next:
a DOCTYPE smuggled before an event is part of it, and ``defusedxml`` refuses it. A document
that grows past the size limit before it ends is refused without being parsed.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

_END = re.compile(rb"</event\s*>")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class CotError(Exception):
    """A document the gateway will not read; ``reason`` names why, for the log line."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


class Oversize(CotError):
    def __init__(self, limit: int) -> None:
        super().__init__("oversize", f"an event over {limit} bytes")


class StreamSplitter:
    """Bytes in, complete documents out. ``feed`` raises ``Oversize`` when an unfinished
    document passes the limit: the stream cannot be trusted after that."""

    def __init__(self, *, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._buffer = bytearray()
        self._searched = 0

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer.extend(data)
        documents: list[bytes] = []
        while True:
            found = _END.search(self._buffer, max(0, self._searched - 16))
            if found is None:
                self._searched = len(self._buffer)
                if len(self._buffer.strip()) > self.max_bytes:
                    raise Oversize(self.max_bytes)
                return documents
            end = found.end()
            document = bytes(self._buffer[:end]).strip()
            del self._buffer[:end]
            self._searched = 0
            if len(document) > self.max_bytes:
                raise Oversize(self.max_bytes)
            documents.append(document)

    @property
    def pending(self) -> int:
        return len(self._buffer.strip())


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    hae: float | None
    ce: float | None
    le: float | None


@dataclass(frozen=True)
class CotEvent:
    """An event as received: the attributes the gateway interprets, the parsed tree, and the
    raw document (kept as received, unknown detail elements included)."""

    uid: str
    type: str
    how: str
    time: datetime
    start: datetime | None
    stale: datetime | None
    point: Point | None
    root: ET.Element
    raw: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def affiliation(self) -> str | None:
        """The atom's affiliation letter (``a-f-...`` -> ``f``), None for other types."""
        parts = self.type.split("-")
        return parts[1] if parts[0] == "a" and len(parts) > 1 else None

    def detail(self, tag: str) -> ET.Element | None:
        found = self.root.find(f"detail/{tag}")
        return found


def parse_time(text: str | None) -> datetime | None:
    if text is None:
        return None
    text = text.strip()
    if not _TIME.match(text):
        raise CotError("malformed", f"the time {text[:40]!r} is not an XML Schema dateTime")
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.astimezone(UTC)


def _float(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise CotError("malformed", f"the point's {name} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise CotError("malformed", f"the point's {name} is not a number")
    return number


def _point(root: ET.Element) -> Point | None:
    element = root.find("point")
    if element is None:
        return None
    lat = _float(element.get("lat"), "lat")
    lon = _float(element.get("lon"), "lon")
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise CotError("malformed", "the point has no valid lat and lon")
    return Point(
        lat=lat,
        lon=lon,
        hae=_float(element.get("hae"), "hae"),
        ce=_float(element.get("ce"), "ce"),
        le=_float(element.get("le"), "le"),
    )


def parse_event(document: bytes) -> CotEvent:
    """One document read as a CoT event, or ``CotError``: ``entities`` for a DTD, an entity
    or an external reference, ``malformed`` for anything else that is not an event."""
    try:
        root = fromstring(document, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise CotError("entities", type(exc).__name__) from None
    except ET.ParseError as exc:
        raise CotError("malformed", str(exc)) from None
    if root.tag != "event":
        raise CotError("malformed", f"the root is <{root.tag[:40]}>, not <event>")
    uid = root.get("uid", "").strip()
    cot_type = root.get("type", "").strip()
    if not uid or len(uid) > 200 or not cot_type or len(cot_type) > 100:
        raise CotError("malformed", "an event has a uid and a type")
    time = parse_time(root.get("time"))
    if time is None:
        raise CotError("malformed", "an event has a time")
    return CotEvent(
        uid=uid,
        type=cot_type,
        how=root.get("how", ""),
        time=time,
        start=parse_time(root.get("start")),
        stale=parse_time(root.get("stale")),
        point=_point(root),
        root=root,
        raw=document,
    )
