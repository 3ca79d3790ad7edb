"""CoT documents as TAK clients send them, written from the CoT 2.0 schema (MITRE's
"Cursor-on-Target Message Router User's Guide", the event/point/detail base schema) and
the detail elements ATAK is documented to send (``takv``, ``contact``, ``__group``,
``status``, ``track``, ``precisionlocation``, ``__chat``, ``remarks``). Written for these
tests; no third-party sample is copied."""

from __future__ import annotations

from datetime import datetime, timedelta


def t(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def position(
    uid: str,
    *,
    now: datetime,
    lat: float = 33.12,
    lon: float = 35.75,
    cot_type: str = "a-f-G-U-C-I",
    declaration: bool = True,
) -> bytes:
    head = "<?xml version='1.0' encoding='UTF-8' standalone='yes'?>" if declaration else ""
    return (
        f'{head}<event version="2.0" uid="{uid}" type="{cot_type}" how="m-g" '
        f'time="{t(now)}" start="{t(now)}" stale="{t(now + timedelta(minutes=5))}">'
        f'<point lat="{lat}" lon="{lon}" hae="212.3" ce="9.9" le="9999999.0"/>'
        "<detail>"
        '<takv os="34" version="4.10.0.1 (3a3c0f6a).1689944316-CIV" device="SAMSUNG SM-G781U" '
        'platform="ATAK-CIV"/>'
        f'<contact endpoint="*:-1:stcp" callsign="{uid}-callsign"/>'
        '<uid Droid="ALPHA-1"/>'
        '<precisionlocation altsrc="GPS" geopointsrc="GPS"/>'
        '<__group role="Team Member" name="Cyan"/>'
        '<status battery="88"/>'
        '<track course="182.7" speed="0.0"/>'
        '<x-unknown-vendor level="3"><nested a="b">text kept</nested></x-unknown-vendor>'
        "</detail></event>"
    ).encode()


def geochat(sender: str, message_id: str, text: str, *, now: datetime) -> bytes:
    uid = f"GeoChat.{sender}.All Chat Rooms.{message_id}"
    return (
        f'<event version="2.0" uid="{uid}" type="b-t-f" how="h-g-i-g-o" '
        f'time="{t(now)}" start="{t(now)}" stale="{t(now + timedelta(days=1))}">'
        '<point lat="33.12" lon="35.75" hae="9999999.0" ce="9999999.0" le="9999999.0"/>'
        "<detail>"
        '<__chat parent="RootContactGroup" groupOwner="false" messageId="'
        f'{message_id}" chatroom="All Chat Rooms" id="All Chat Rooms" '
        f'senderCallsign="{sender}"><chatgrp uid0="{sender}" uid1="All Chat Rooms" '
        'id="All Chat Rooms"/></__chat>'
        f'<link uid="{sender}" type="a-f-G-U-C" relation="p-p"/>'
        f'<remarks source="BAO.F.ATAK.{sender}" to="All Chat Rooms" time="{t(now)}">'
        f"{text}</remarks>"
        '<__serverdestination destinations="0.0.0.0:4242:tcp:ANDROID-1"/>'
        "</detail></event>"
    ).encode()


def spot_marker(uid: str, *, now: datetime) -> bytes:
    """A type the gateway does not interpret: a spot map marker."""
    return (
        f'<event version="2.0" uid="{uid}" type="b-m-p-s-m" how="h-g-i-g-o" '
        f'time="{t(now)}" start="{t(now)}" stale="{t(now + timedelta(days=365))}">'
        '<point lat="33.2" lon="35.7" hae="9999999.0" ce="9999999.0" le="9999999.0"/>'
        '<detail><status readiness="true"/><archive/>'
        '<contact callsign="R 1"/><color argb="-65536"/>'
        '<usericon iconsetpath="COT_MAPPING_SPOTMAP/b-m-p-s-m/-65536"/>'
        '<link uid="ANDROID-1" production_time="2026-12-06T10:00:00.000Z" '
        'type="a-f-G-U-C" parent_callsign="ALPHA-1" relation="p-p"/>'
        "</detail></event>"
    ).encode()


def ping(*, now: datetime) -> bytes:
    return (
        f'<event version="2.0" uid="ANDROID-1-ping" type="t-x-c-t" how="m-g" '
        f'time="{t(now)}" start="{t(now)}" stale="{t(now + timedelta(seconds=20))}">'
        '<point lat="0.0" lon="0.0" hae="0.0" ce="9999999.0" le="9999999.0"/><detail/></event>'
    ).encode()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    b'<event version="2.0" uid="x" type="a-f-G" time="2026-01-06T08:00:00Z">'
    b'<point lat="1" lon="1"/><detail><remarks>&lol3;</remarks></detail></event>'
)
EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    b'<event version="2.0" uid="x" type="a-f-G" time="2026-01-06T08:00:00Z">'
    b'<point lat="1" lon="1"/><detail><remarks>&x;</remarks></detail></event>'
)
