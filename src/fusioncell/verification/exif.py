"""EXIF location and time read from a JPEG's APP1 segment (a small parser: Pillow is not
installed). What a file says of itself is shown next to what its filer claims, never trusted:
any malformed or missing part gives None for that value, never an error.

TIFF layout (CIPA DC-008): a byte-order mark (``II`` or ``MM``), 42, the offset of IFD0;
each IFD is a count and 12-byte entries (tag, type, count, value or offset). IFD0 points to
the Exif IFD (0x8769: DateTimeOriginal 0x9003, OffsetTimeOriginal 0x9011) and the GPS IFD
(0x8825: latitude ref 1 and value 2, longitude ref 3 and value 4, as degrees, minutes and
seconds in RATIONALs).
"""

from __future__ import annotations

import re
import struct
from typing import Any

_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 9: 4, 10: 8}
_MAX_ENTRIES = 512
_TIME = re.compile(r"(\d{4}):(\d{2}):(\d{2}) (\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"[+-]\d{2}:\d{2}")


class _Tiff:
    def __init__(self, data: bytes) -> None:
        self.data = data
        if data[:2] == b"II":
            self.order = "<"
        elif data[:2] == b"MM":
            self.order = ">"
        else:
            raise ValueError("no byte-order mark")
        if self.unpack("H", 2) != 42:
            raise ValueError("not TIFF")

    def unpack(self, fmt: str, offset: int) -> int:
        size = struct.calcsize(fmt)
        if offset < 0 or offset + size > len(self.data):
            raise ValueError("out of bounds")
        value: int = struct.unpack_from(self.order + fmt, self.data, offset)[0]
        return value

    def ifd(self, offset: int) -> dict[int, tuple[int, int, int]]:
        """tag -> (type, count, where the value starts)."""
        count = self.unpack("H", offset)
        if count > _MAX_ENTRIES:
            raise ValueError("too many entries")
        entries = {}
        for i in range(count):
            at = offset + 2 + 12 * i
            tag, kind, n = self.unpack("H", at), self.unpack("H", at + 2), self.unpack("I", at + 4)
            size = _SIZES.get(kind, 0) * n
            where = at + 8 if size <= 4 else self.unpack("I", at + 8)
            if where + size > len(self.data):
                continue
            entries[tag] = (kind, n, where)
        return entries

    def ascii(self, entry: tuple[int, int, int] | None) -> str | None:
        if entry is None or entry[0] != 2:
            return None
        _, n, where = entry
        return self.data[where : where + n].split(b"\0", 1)[0].decode("ascii", "replace")

    def rationals(self, entry: tuple[int, int, int] | None) -> list[float] | None:
        if entry is None or entry[0] != 5:
            return None
        _, n, where = entry
        found = []
        for i in range(min(n, 3)):
            numerator = self.unpack("I", where + 8 * i)
            denominator = self.unpack("I", where + 8 * i + 4)
            if denominator == 0:
                return None
            found.append(numerator / denominator)
        return found


def _app1(data: bytes) -> bytes | None:
    if data[:2] != b"\xff\xd8":
        return None
    at = 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker in (0xD9, 0xDA):  # end of image, start of scan: no metadata after
            return None
        length = struct.unpack_from(">H", data, at + 2)[0]
        segment = data[at + 4 : at + 2 + length]
        if marker == 0xE1 and segment[:6] == b"Exif\0\0":
            return segment[6:]
        at += 2 + length
    return None


def _degrees(values: list[float] | None, ref: str | None, negative: str) -> float | None:
    if values is None or len(values) != 3 or ref not in ("N", "S", "E", "W"):
        return None
    degrees = values[0] + values[1] / 60 + values[2] / 3600
    return round(-degrees if ref == negative else degrees, 7)


def read_exif(data: bytes) -> dict[str, Any] | None:
    """``{"lat", "lon", "taken_at"}`` from a JPEG's EXIF (each None when absent), or None when
    the file carries no readable EXIF at all."""
    segment = _app1(data)
    if segment is None:
        return None
    try:
        tiff = _Tiff(segment)
        ifd0 = tiff.ifd(tiff.unpack("I", 4))
        lat = lon = None
        if (gps := ifd0.get(0x8825)) is not None:
            g = tiff.ifd(tiff.unpack("I", gps[2]))
            lat = _degrees(tiff.rationals(g.get(2)), tiff.ascii(g.get(1)), "S")
            lon = _degrees(tiff.rationals(g.get(4)), tiff.ascii(g.get(3)), "W")
            if lat is not None and not -90 <= lat <= 90:
                lat = None
            if lon is not None and not -180 <= lon <= 180:
                lon = None
        taken = None
        offset = None
        if (exif := ifd0.get(0x8769)) is not None:
            e = tiff.ifd(tiff.unpack("I", exif[2]))
            taken = tiff.ascii(e.get(0x9003))
            offset = tiff.ascii(e.get(0x9011))
        if taken is None:
            taken = tiff.ascii(ifd0.get(0x0132))
    except (ValueError, struct.error):
        return None
    return {"lat": lat, "lon": lon, "taken_at": _time(taken, offset)}


def _time(taken: str | None, offset: str | None) -> str | None:
    """The camera's time as ISO 8601, with its offset if the file gives one (a camera's clock
    is local and unzoned otherwise)."""
    if taken is None or (m := _TIME.fullmatch(taken.strip())) is None:
        return None
    y, mo, d, h, mi, s = m.groups()
    text = f"{y}-{mo}-{d}T{h}:{mi}:{s}"
    if offset is not None and _OFFSET.fullmatch(offset.strip()):
        text += offset.strip()
    return text
