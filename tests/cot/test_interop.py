"""A real TAK client (``pytak``) over TLS with the certificate and data package
``fusioncell cot enroll`` writes: its positions become observations, it receives the zones
and the positions with the affiliation its member sees, and a client of the other party
never receives what was not released to it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from configparser import ConfigParser
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.cot.conftest import Received, close, receiving
from tests.cot.samples import geochat
from tests.cot.tak import pytak

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.cot.gateway import CotGateway
from fusioncell.cot.models import CotEvent as CotEventRow
from fusioncell.cot.package import Written
from fusioncell.deescalation.actions.observations import do_record_observations
from fusioncell.deescalation.models import ObservationRow
from fusioncell.hotline.actions.messages import do_send_message
from fusioncell.hotline.models import Channel, Message
from fusioncell.scenario.demo import stable_id

pytestmark = [
    pytest.mark.long,
    # pytak turns TLS 1.0 and 1.1 off with the options Python deprecated for that.
    pytest.mark.filterwarnings("ignore:ssl.OP_NO_SSL:DeprecationWarning"),
]


async def tak_client(files: Written) -> tuple[Received, asyncio.StreamWriter]:
    """Connect as ATAK would after importing the data package: pytak reads the package's
    preferences and PKCS#12 files and opens the TLS stream."""
    prefs = pytak.read_pref_package(str(files.package))
    config = ConfigParser()
    config["tak"] = {key: value for key, value in prefs.items() if value}
    reader, writer = await pytak.protocol_factory(config["tak"])
    return receiving(reader), writer


def report(unit: str, *, party: str, at: str, release_to: list[str] | None = None) -> Any:
    return {
        "type": "FeatureCollection",
        **({"release_to": release_to} if release_to is not None else {}),
        "features": [
            {
                "type": "Feature",
                "id": unit,
                "geometry": {"type": "Point", "coordinates": [35.80, 33.15]},
                "properties": {
                    "unit": unit,
                    "party": party,
                    "category": "tank",
                    "count": 3,
                    "observed_at": at,
                    "source": "report" if release_to is not None else "declaration",
                    **({"grade": "B2"} if release_to is not None else {}),
                },
            }
        ],
    }


def has(uid: str, prefix: str = "") -> Callable[[list[Any]], bool]:
    return lambda events: any(e.uid == uid and e.type.startswith(prefix) for e in events)


def test_a_tak_client_reports_positions_and_each_party_sees_only_its_picture(
    db: Session,
    start_gateway: Callable[..., CotGateway],
    enrol: Callable[..., Written],
    member: Callable[[str], Viewer],
    clock: ManualClock,
) -> None:
    gateway = start_gateway()
    alpha_files = enrol("alpha.liaison", port=gateway.tls_port)
    bravo_files = enrol("bravo.liaison", port=gateway.tls_port)
    at = clock.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    async def story() -> None:
        alpha, alpha_out = await tak_client(alpha_files)
        # The zones in force arrive first, as drawn shapes.
        events = await alpha.until(lambda es: sum(e.type == "u-d-f" for e in es) >= 4)
        zone = next(e for e in events if e.type == "u-d-f")
        assert (
            zone.uid.startswith("fusioncell.zone.") and len(zone.root.findall("detail/link")) >= 4
        )
        assert zone.stale is not None and zone.stale > zone.time

        # The client's own position (pytak's event, as ATAK sends its self-SA).
        alpha_out.write(
            pytak.gen_cot(lat=33.12, lon=35.75, uid="ANDROID-alpha-1", cot_type="a-f-G-U-C-I")
        )
        await alpha_out.drain()
        await alpha.until(has("ANDROID-alpha-1", "a-f-G-U-C-I"))

        bravo, bravo_out = await tak_client(bravo_files)
        # BRAVO sees ALPHA's unit as unknown, never as friendly.
        await bravo.until(has("ANDROID-alpha-1", "a-u-"))

        # ALPHA's report of a BRAVO unit is released to ALPHA and the supervisor only; a
        # declaration after it reaches both parties.
        await asyncio.to_thread(
            do_record_observations,
            db,
            member("alpha.liaison"),
            report("bravo-tanks-seen", party="BRAVO", at=at, release_to=[]),
            now=clock.now(),
        )
        await alpha.until(has("bravo-tanks-seen.report", "a-u-"))
        await asyncio.to_thread(
            do_record_observations,
            db,
            member("alpha.liaison"),
            report("alpha-armour", party="ALPHA", at=at),
            now=clock.now(),
        )
        await bravo.until(has("alpha-armour", "a-u-G-E-V-A-T"))
        await alpha.until(has("alpha-armour", "a-f-G-E-V-A-T"))

        # A FLASH in ALPHA's channel with the supervisor is an alert for ALPHA only.
        channel = db.scalar(
            select(Channel.id).where(Channel.party_id == stable_id("organisation", "ALPHA"))
        )
        assert channel is not None
        await asyncio.to_thread(
            do_send_message,
            db,
            member("supervisor.chair"),
            message_id=uuid.uuid4(),
            channel_id=channel,
            precedence="FLASH",
            text="Hold the convoy",
            now=clock.now(),
        )
        flash = await alpha.until(lambda es: any(e.type == "b-a-o-tbl" for e in es))
        assert any("Hold the convoy" in (e.root.findtext("detail/remarks") or "") for e in flash)

        # GeoChat from BRAVO's client becomes a ROUTINE message on BRAVO's channel.
        bravo_out.write(
            geochat("ANDROID-bravo-1", "m-1", "Link check from the field", now=clock.now())
        )
        bravo_out.write(
            pytak.gen_cot(lat=33.30, lon=35.70, uid="ANDROID-bravo-1", cot_type="a-f-G-U-C-I")
        )
        await bravo_out.drain()
        await bravo.until(has("ANDROID-bravo-1", "a-f-"))
        await alpha.until(has("ANDROID-bravo-1", "a-u-"))

        assert not any(e.uid.startswith("bravo-tanks-seen") for e in bravo.events)
        assert not any(e.type == "b-a-o-tbl" for e in bravo.events)
        await close(alpha_out, bravo_out)

    asyncio.run(story())

    rows = {row.unit: row for row in db.scalars(select(ObservationRow)).all()}
    own = rows["ANDROID-alpha-1"]
    assert (own.party_id, own.category, own.count, own.source) == (
        stable_id("organisation", "ALPHA"),
        "personnel",
        1,
        "declaration",
    )
    assert (own.lon, own.lat) == (35.75, 33.12)
    assert rows["ANDROID-bravo-1"].party_id == stable_id("organisation", "BRAVO")
    chat = db.scalar(select(Message).where(Message.text == "Link check from the field"))
    assert chat is not None and chat.precedence == "ROUTINE"
    assert db.get(Channel, chat.channel_id).party_id == stable_id("organisation", "BRAVO")  # type: ignore[union-attr]
    kinds = sorted(row.kind for row in db.scalars(select(CotEventRow)).all())
    assert kinds == ["chat", "position", "position"]
