"""Evidence files: stored by SHA-256 within the rules' size and types, released to the
storing organisation and then to the audience of each case they are attached to; a JPEG's
EXIF location and time are read (never trusted) and shown next to what the filer claims."""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.helpers.problems import assert_problem
from tests.verification.factories import point

from fusioncell.clock import ManualClock
from fusioncell.verification.exif import read_exif

Headers = Callable[[str], dict[str, str]]
URL = "/api/v1/verification"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def _rational(value: float) -> bytes:
    return struct.pack("<II", round(value * 10000), 10000)


def jpeg_with_exif(lat: float, lon: float, taken: str, *, offset: str | None = "+03:00") -> bytes:
    """A minimal JPEG whose APP1 holds IFD0 -> Exif IFD (DateTimeOriginal, OffsetTimeOriginal)
    and GPS IFD (N/E, degrees minutes seconds), little-endian."""

    def dms(value: float) -> bytes:
        degrees = int(value)
        minutes = int((value - degrees) * 60)
        seconds = (value - degrees - minutes / 60) * 3600
        return _rational(degrees) + _rational(minutes) + _rational(seconds)

    def entry(tag: int, kind: int, count: int, value: bytes) -> bytes:
        return struct.pack("<HHI", tag, kind, count) + value.ljust(4, b"\0")

    ifd0_at = 8
    exif_at = ifd0_at + 2 + 2 * 12 + 4
    exif_entries = 2 if offset else 1
    exif_data_at = exif_at + 2 + exif_entries * 12 + 4
    taken_bytes = taken.encode() + b"\0"
    offset_bytes = (offset.encode() + b"\0") if offset else b""
    gps_at = exif_data_at + len(taken_bytes) + len(offset_bytes)
    gps_data_at = gps_at + 2 + 4 * 12 + 4
    ifd0 = (
        struct.pack("<H", 2)
        + entry(0x8769, 4, 1, struct.pack("<I", exif_at))
        + entry(0x8825, 4, 1, struct.pack("<I", gps_at))
        + struct.pack("<I", 0)
    )
    exif = struct.pack("<H", exif_entries) + entry(
        0x9003, 2, len(taken_bytes), struct.pack("<I", exif_data_at)
    )
    if offset:
        exif += entry(
            0x9011, 2, len(offset_bytes), struct.pack("<I", exif_data_at + len(taken_bytes))
        )
    exif += struct.pack("<I", 0) + taken_bytes + offset_bytes
    gps = (
        struct.pack("<H", 4)
        + entry(1, 2, 2, b"N\0")
        + entry(2, 5, 3, struct.pack("<I", gps_data_at))
        + entry(3, 2, 2, b"E\0")
        + entry(4, 5, 3, struct.pack("<I", gps_data_at + 24))
        + struct.pack("<I", 0)
        + dms(lat)
        + dms(lon)
    )
    tiff = b"II*\0" + struct.pack("<I", ifd0_at) + ifd0 + exif + gps
    app1 = b"Exif\0\0" + tiff
    return (
        b"\xff\xd8"
        + b"\xff\xe1"
        + struct.pack(">H", len(app1) + 2)
        + app1
        + b"\xff\xda\0\x02"
        + b"\xff\xd9"
    )


def test_exif_location_and_time_are_read_and_bad_exif_gives_nothing() -> None:
    found = read_exif(jpeg_with_exif(33.15, 35.84, "2026:01:06 07:10:00"))
    assert found is not None
    assert abs(found["lat"] - 33.15) < 1e-4 and abs(found["lon"] - 35.84) < 1e-4
    assert found["taken_at"] == "2026-01-06T07:10:00+03:00"
    unzoned = read_exif(jpeg_with_exif(33.0, 35.5, "2026:01:06 07:10:00", offset=None))
    assert unzoned is not None and unzoned["taken_at"] == "2026-01-06T07:10:00"
    assert read_exif(b"\xff\xd8\xff\xd9") is None
    assert read_exif(PNG) is None
    broken = bytearray(jpeg_with_exif(33.15, 35.84, "2026:01:06 07:10:00"))
    broken[20:24] = b"\xff\xff\xff\x7f"  # IFD0 far beyond the segment
    assert read_exif(bytes(broken)) is None


def test_a_file_is_released_to_its_storer_then_to_the_audience_of_its_case(
    client: TestClient, token_for: Headers, clock: ManualClock
) -> None:
    alpha, bravo = token_for("alpha.liaison"), token_for("bravo.liaison")
    photo = jpeg_with_exif(33.16, 35.83, "2026:01:06 07:10:00")
    stored = client.post(
        f"{URL}/evidence", content=photo, headers={**alpha, "Content-Type": "image/jpeg"}
    )
    assert stored.status_code == 201, stored.text
    sha256 = stored.json()["sha256"]
    assert sha256 == hashlib.sha256(photo).hexdigest()
    assert stored.json()["exif"]["taken_at"] == "2026-01-06T07:10:00+03:00"
    form = client.post(
        f"{URL}/evidence", files={"file": ("scan.png", PNG, "image/png")}, headers=alpha
    )
    assert form.status_code == 201, form.text
    # Storing the same bytes again is the first result.
    again = client.post(
        f"{URL}/evidence", content=photo, headers={**alpha, "Content-Type": "image/jpeg"}
    )
    assert again.status_code == 201 and again.json() == stored.json()
    got = client.get(f"{URL}/evidence/{sha256}", headers=alpha)
    assert got.status_code == 200 and got.content == photo
    assert got.headers["content-type"] == "image/jpeg"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert_problem(client.get(f"{URL}/evidence/{sha256}", headers=bravo), 404, "not-found")
    # BRAVO cannot attach a file it never stored, as if the file did not exist.
    complaint = {
        "allegation": "Earthworks.",
        "against": "ALPHA",
        "rule": "C1",
        "location": point(),
        "occurred_at": clock.now().isoformat(),
        "evidence": [sha256],
    }
    assert_problem(
        client.post(f"{URL}/complaints", json=complaint, headers=bravo), 422, "invalid-input"
    )
    filed = client.post(f"{URL}/complaints", json={**complaint, "against": "BRAVO"}, headers=alpha)
    assert filed.status_code == 201, filed.text
    [evidence] = filed.json()["evidence"]
    assert evidence["exif"]["lat"] is not None and filed.json()["location"] == point()
    assert client.get(f"{URL}/evidence/{sha256}", headers=bravo).content == photo
    assert_problem(
        client.get(f"{URL}/evidence/{sha256}", headers=token_for("hum1.coordinator")),
        404,
        "not-found",
    )


def test_a_file_too_large_of_a_refused_type_or_not_what_it_says_is_refused(
    client: TestClient, token_for: Headers, table_counts: Callable[[], dict[str, int]]
) -> None:
    alpha = token_for("alpha.liaison")
    token_for("cell.admin")
    before = table_counts()

    def refused(content: bytes, media_type: str, status: int, code: str) -> None:
        response = client.post(
            f"{URL}/evidence", content=content, headers={**alpha, "Content-Type": media_type}
        )
        assert_problem(response, status, code)
        assert table_counts() == before

    refused(b"a" * 1_000_001, "text/plain", 413, "payload-too-large")
    refused(b"GIF89a....", "image/gif", 422, "invalid-input")
    refused(b"not a jpeg", "image/jpeg", 422, "invalid-input")
    refused(b"\xff\xfe\xfa", "text/plain", 422, "invalid-input")
    refused(b"", "text/plain", 422, "invalid-input")
    response = client.post(
        f"{URL}/evidence",
        content=b"notes",
        headers={**token_for("cell.admin"), "Content-Type": "text/plain"},
    )
    assert_problem(response, 403, "forbidden")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400), st.integers(min_value=0, max_value=300), st.binary(max_size=8))
def test_read_exif_never_fails_on_a_damaged_file(noise: bytes, at: int, patch: bytes) -> None:
    """Whatever the bytes, the parser answers (values or None), never raises."""
    good = bytearray(jpeg_with_exif(33.15, 35.84, "2026:01:06 07:10:00"))
    good[at : at + len(patch)] = patch
    for data in (bytes(good), b"\xff\xd8\xff\xe1" + noise, b"\xff\xd8" + noise):
        found = read_exif(data)
        assert found is None or set(found) == {"lat", "lon", "taken_at"}
