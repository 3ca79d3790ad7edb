"""Exports of zones, holdings and candidates (``GET /api/v1/deescalation/export``): GeoJSON
(RFC 7946), KML 2.2 that fastkml parses and the OGC schema validates, CSV with a header row;
each within the viewer's releasability, never more than compliance shows them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import shapely.wkt
from fastapi.testclient import TestClient
from fastkml import containers, features, kml, validator
from shapely.geometry import shape
from tests.deescalation.test_api import URL, compliance
from tests.deescalation.test_map_layer import ALPHA_0_10, collection, point, post, stage
from tests.helpers.problems import assert_problem

from fusioncell.deescalation.exports import CSV_COLUMNS

Headers = Callable[[str], dict[str, str]]
MEDIA = {
    "geojson": "application/geo+json",
    "kml": "application/vnd.google-earth.kml+xml",
    "csv": "text/csv; charset=utf-8",
}


def export(client: TestClient, headers: dict[str, str], format_: str, **params: str) -> str:
    response = client.get(f"{URL}/export", params={"format": format_, **params}, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MEDIA[format_]
    assert response.headers["content-disposition"].startswith('attachment; filename="deescalation-')
    assert response.headers["content-disposition"].endswith(f'.{format_}"')
    return response.text


def geojson(client: TestClient, headers: dict[str, str], **params: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(export(client, headers, "geojson", **params))
    assert body["type"] == "FeatureCollection"
    for feature in body["features"]:
        assert feature["type"] == "Feature"
        if feature["geometry"] is not None:
            assert shape(feature["geometry"]).is_valid
    return body


def layers(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {"zone": [], "holding": [], "candidate": []}
    for feature in body["features"]:
        found[feature["properties"]["layer"]].append(feature)
    return found


def kml_folders(text: str, tmp_path: Path) -> dict[str, list[features.Placemark]]:
    """Parsed by fastkml and validated against the OGC KML 2.2 schema."""
    path = tmp_path / "export.kml"
    path.write_text(text, encoding="utf-8")
    assert validator.validate(file_to_validate=path) is True
    document = kml.KML.parse(path, strict=True, validate=True)
    [root] = document.features
    assert isinstance(root, containers.Document)
    folders: dict[str, list[features.Placemark]] = {}
    for folder in root.features:
        assert isinstance(folder, containers.Folder)
        assert folder.id is not None
        folders[folder.id] = [p for p in folder.features if isinstance(p, features.Placemark)]
    return folders


def csv_rows(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    return list(reader)


def test_the_three_formats_say_the_same(
    client: TestClient, token_for: Headers, tmp_path: Path
) -> None:
    stage(client, token_for)
    headers = token_for("bravo.liaison")
    body = geojson(client, headers)
    found = layers(body)
    zones = client.get("/api/v1/geo/zones", headers=headers).json()["features"]
    assert sorted(f["properties"]["id"] for f in found["zone"]) == sorted(
        f["properties"]["id"] for f in zones
    )
    assert sorted(f["properties"]["unit"] for f in found["holding"]) == ["guns", "men", "t1", "t2"]
    # The candidates are compliance's, source class by source class.
    expected = sorted(
        (c["rule"], c["party"], c["zone"], c["category"], c["measure"])
        for source in ("declaration", "verification", "report")
        for c in compliance(client, headers, source=source)["candidates"]
    )
    assert expected  # R2 (78 tanks) and R3 (25 km artillery)
    assert (
        sorted(
            (p["rule"], p["party"], p["zone"], p["category"], p["measure"])
            for p in (f["properties"] for f in found["candidate"])
        )
        == expected
    )
    tanks = next(f for f in found["candidate"] if f["properties"]["rule"] == "R2")
    assert tanks["geometry"] == {"type": "MultiPoint", "coordinates": [list(ALPHA_0_10)]}
    assert (tanks["properties"]["limit"], tanks["properties"]["value"]) == (75, 78)

    folders = kml_folders(export(client, headers, "kml"), tmp_path)
    assert {name: len(items) for name, items in folders.items()} == {
        name: len(found[layer])
        for name, layer in (("zones", "zone"), ("holdings", "holding"), ("candidates", "candidate"))
    }
    by_name = {p.name: p for p in folders["holdings"]}
    t1 = by_name["ALPHA tank 40 (t1)"]
    assert t1.geometry is not None
    assert (t1.geometry.x, t1.geometry.y) == ALPHA_0_10
    assert t1.extended_data is not None
    data = {d.name: d.value for d in t1.extended_data.elements}
    assert (data["party"], data["category"], data["count"], data["rules"]) == (
        "ALPHA",
        "tank",
        "40",
        "R2",
    )
    for zone in folders["zones"]:
        assert zone.geometry is not None and zone.geometry.geom_type == "Polygon"

    rows = csv_rows(export(client, headers, "csv"))
    assert [r["layer"] for r in rows] == (
        ["zone"] * len(found["zone"])
        + ["holding"] * len(found["holding"])
        + ["candidate"] * len(found["candidate"])
    )
    guns = next(r for r in rows if r["unit"] == "guns")
    assert (guns["party"], guns["source"], guns["range_km"], guns["candidate_rules"]) == (
        "ALPHA",
        "report",
        "25.0",
        "R3",
    )
    for row in rows:
        if row["layer"] == "zone":
            assert shapely.wkt.loads(row["wkt"]).is_valid


@pytest.mark.parametrize("format_", ["geojson", "kml", "csv"])
def test_each_export_is_within_the_viewers_releasability(
    client: TestClient, token_for: Headers, format_: str
) -> None:
    stage(client, token_for)
    # BRAVO's report about ALPHA's artillery is BRAVO's and the supervisor's only.
    for username, reads_report in (
        ("alpha.liaison", False),
        ("bravo.liaison", True),
        ("supervisor.chair", True),
        ("verifier.lead", False),
    ):
        text = export(client, token_for(username), format_)
        assert ("guns" in text) is reads_report, username
        assert ("R3" in text) is reads_report, username
        assert "t1" in text and "men" in text
    # The host's observer reads the track; nothing of it is released to the host: the zones
    # only.
    host = export(client, token_for("host.observer"), format_)
    assert "t1" not in host and "R2" not in host and "limitation-alpha-0-10" in host
    assert_problem(
        client.get(f"{URL}/export", params={"format": format_}, headers=token_for("cell.admin")),
        403,
        "forbidden",
    )


def test_an_export_at_a_past_time_and_for_one_source(
    client: TestClient, token_for: Headers
) -> None:
    stage(client, token_for)
    headers = token_for("bravo.liaison")
    # Before the observations (07:00): the zones alone.
    before = layers(geojson(client, headers, at="2026-01-06T06:00:00Z"))
    assert before["holding"] == [] and before["candidate"] == [] and before["zone"]
    reports = layers(geojson(client, headers, source="report"))
    assert [f["properties"]["unit"] for f in reports["holding"]] == ["guns"]
    assert [f["properties"]["rule"] for f in reports["candidate"]] == ["R3"]
    headers_ = token_for("alpha.liaison")
    for params in ({"format": "pdf"}, {"at": "soon"}, {"source": "rumour"}):
        response = client.get(f"{URL}/export", params=params, headers=headers_)
        assert response.status_code == 422, response.text


def test_a_csv_cell_is_never_a_spreadsheet_formula(client: TestClient, token_for: Headers) -> None:
    post(
        client,
        token_for("verifier.lead"),
        collection(point("=HYPERLINK(1)", ALPHA_0_10, party="ALPHA", category="tank", count=3)),
    )
    rows = csv_rows(export(client, token_for("alpha.liaison"), "csv"))
    [holding] = [r for r in rows if r["layer"] == "holding"]
    assert holding["unit"] == "'=HYPERLINK(1)"
    assert holding["count"] == "3"
