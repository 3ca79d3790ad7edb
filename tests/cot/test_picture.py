"""The picture each member's client is sent, read through the tracks' queries with the
member's viewer: shapes for everyone, holdings with the affiliation computed per viewer,
candidates and FLASH messages as alerts, and nothing the viewer may not read."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from shapely.geometry import shape
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.clock import ManualClock
from fusioncell.cot.gateway import PlainBindRefused, check_plain_host
from fusioncell.cot.picture import picture
from fusioncell.cot.rules import load_rules
from fusioncell.deescalation.actions.observations import do_record_observations
from fusioncell.geo.queries import list_zones


def test_holdings_carry_each_viewers_affiliation_and_a_candidate_is_an_alert(
    db: Session, member: Callable[[str], Viewer], clock: ManualClock
) -> None:
    verifier = member("verifier.lead")
    zones = list_zones(db, verifier)["features"]
    separation = next(z for z in zones if z["properties"]["kind"] == "separation")
    inside = shape(separation["geometry"]).representative_point()
    at = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    do_record_observations(
        db,
        verifier,
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "id": "in-separation",
                    "geometry": {"type": "Point", "coordinates": [inside.x, inside.y]},
                    "properties": {
                        "unit": "alpha-armour",
                        "party": "ALPHA",
                        "category": "tank",
                        "count": 4,
                        "observed_at": at,
                        "source": "inspection",
                    },
                }
            ],
        },
        now=clock.now(),
    )
    rules = load_rules()
    seen = {
        name: picture(db, member(name), rules=rules, now=clock.now())
        for name in ("alpha.liaison", "bravo.liaison", "supervisor.chair", "cell.admin")
    }
    holding = "alpha-armour.verification"
    assert seen["alpha.liaison"][holding].type == "a-f-G-E-V-A-T"
    assert seen["bravo.liaison"][holding].type == "a-u-G-E-V-A-T"
    assert seen["supervisor.chair"][holding].type == "a-n-G-E-V-A-T"
    for name in ("alpha.liaison", "bravo.liaison", "supervisor.chair"):
        alerts = [item for item in seen[name].values() if item.type == "b-a-g"]
        assert any((a.detail[0].get("callsign") or "").startswith("R1 ALPHA") for a in alerts)
        shapes = [item for item in seen[name].values() if item.type == "u-d-f"]
        assert len(shapes) >= len(zones)
        document = seen[name][holding].document(clock.now())
        assert b'stale="' in document and b"<point " in document
    # The operator reads no content: the shared geometry only.
    assert holding not in seen["cell.admin"]
    assert {item.type for item in seen["cell.admin"].values()} <= {"u-d-f", "b-m-p-s-m"}


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1", "example.org"])
def test_plain_tcp_refuses_any_address_but_loopback(host: str) -> None:
    with pytest.raises(PlainBindRefused):
        check_plain_host(host)
    check_plain_host("127.0.0.1")
    check_plain_host("::1")
    check_plain_host("localhost")
