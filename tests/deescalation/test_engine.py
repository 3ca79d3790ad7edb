"""The compliance engine against the rules as the issue states them, and symmetry (R13).

``reference`` below is a second, deliberately naive implementation written from the rules'
wording (one shapely ``intersects`` per holding and zone, dictionaries, no numpy), with the
limits written in as numbers rather than read from the rules file: the engine must agree
with it on random scenarios, and mirroring a scenario (swapping the parties and reflecting
the geometry across the area of separation) must mirror the engine's candidates.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import LineString, Point

from fusioncell.deescalation.engine import (
    AgreedException,
    Baseline,
    Candidate,
    Geometry,
    Observation,
    Observations,
    Zone,
    compliance,
)
from fusioncell.deescalation.rules import load_rules, parse_rules
from fusioncell.geo.derive import demo_zone_features, feature_collection

RULES = load_rules()
GEOMETRY = Geometry.from_features(feature_collection(demo_zone_features()))
T0 = datetime(2026, 1, 6, tzinfo=UTC)
AT = T0 + timedelta(days=10)
OTHER = {"ALPHA": "BRAVO", "BRAVO": "ALPHA", "VERIFIER": "VERIFIER"}


def _swap_zone(zone_id: str) -> str:
    if "-alpha-" in zone_id:
        return zone_id.replace("-alpha-", "-bravo-")
    if "-bravo-" in zone_id:
        return zone_id.replace("-bravo-", "-alpha-")
    return zone_id


def _reflect(geometry: Any) -> Any:
    # Negating longitudes is exact in floating point: the reflection moves no point across
    # a boundary. (Reflecting about the area's own meridian differs by a translation.)
    return shapely.transform(geometry, lambda xy: xy * [-1.0, 1.0])


def mirror_geometry(geometry: Geometry) -> Geometry:
    return Geometry.of(
        Zone(
            id=_swap_zone(z.id),
            kind=z.kind,
            side=OTHER[z.side] if z.side else None,
            band=z.band,
            geometry=_reflect(z.geometry),
        )
        for z in geometry.zones
    )


def mirror_rules_document(document: dict[str, Any]) -> dict[str, Any]:
    limits = []
    for limit in document["limits"]:
        limit = dict(limit)
        if "party" in limit:
            limit["party"] = OTHER[limit["party"]]
            limit["zone"] = _swap_zone(limit["zone"])
        limits.append(limit)
    return {**document, "limits": limits}


def mirror_observation(o: Observation) -> Observation:
    return replace(o, party=OTHER[o.party], reporter=OTHER[o.reporter], lon=-o.lon)


def mirror_baseline(b: Baseline) -> Baseline:
    counts = {(_swap_zone(z), c): n for (z, c), n in b.counts.items()}
    return replace(b, party=OTHER[b.party], counts=counts)


def mirror_exception(e: AgreedException) -> AgreedException:
    return replace(e, party=OTHER[e.party], zone=_swap_zone(e.zone))


def mirror_candidate(c: Candidate) -> Candidate:
    return replace(c, party=OTHER[c.party], zone=_swap_zone(c.zone))


# -- the reference: the rules as stated, one holding and one zone at a time ---------------

CLASSES = {
    "declaration": {"declaration"},
    "verification": {"inspection", "sensor"},
    "report": {"report"},
}


def reference(
    geometry: Geometry,
    observations: list[Observation],
    baselines: list[Baseline],
    exceptions: list[AgreedException],
    *,
    at: datetime,
    source: str,
    c3_party: str,
) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    ordered = sorted(enumerate(observations), key=lambda item: (item[1].observed_at, item[0]))
    mine = [o for _, o in ordered if o.source in CLASSES[source] and o.observed_at <= at]
    latest: dict[tuple[str, str, str], Observation] = {}
    for o in mine:
        latest[(o.reporter, o.party, o.unit)] = o
    held = [o for o in latest.values() if o.count > 0 and o.category in RULES.categories]
    totals: dict[tuple[str, str, str], int] = defaultdict(int)
    members: dict[tuple[str, str, str], list[Observation]] = defaultdict(list)
    zones = {z.id: z for z in geometry.zones}
    for o in held:
        for zone in geometry.zones:
            if zone.geometry.intersects(Point(o.lon, o.lat)):
                totals[(o.party, zone.id, o.category)] += o.count
                members[(o.party, zone.id, o.category)].append(o)
    found: list[tuple[Any, ...]] = []

    def add(
        rule: str,
        key: tuple[str, str, str],
        measure: str,
        limit: float,
        value: float,
        evidence: list[Observation],
    ) -> None:
        found.append((rule, *key, measure, limit, value, tuple(sorted(o.id for o in evidence))))

    count_limits = {"personnel": 6000, "tank": 75, "artillery": 36}
    for key, total in totals.items():
        party, zone_id, category = key
        zone = zones[zone_id]
        own = zone.kind == "limitation" and zone.side == party
        group = members[key]
        if zone.kind == "separation":
            add("R1", key, "count", 0, total, group)
        if own and zone.band == "0-10" and total > count_limits.get(category, total):
            add("R2", key, "count", count_limits[category], total, group)
        if own and zone.band == "0-10" and category == "artillery":
            big = [o for o in group if o.calibre_mm is not None and o.calibre_mm > 122]
            if big:
                add("R2", key, "calibre_mm", 122, max(o.calibre_mm or 0 for o in big), big)
        if own and zone.band in ("0-10", "10-20") and category == "artillery":
            far = [o for o in group if o.range_km is not None and o.range_km > 20]
            if far:
                add("R3", key, "range_km", 20, max(o.range_km or 0 for o in far), far)
        if own and zone.band == "10-20" and category == "artillery" and total > 162:
            add("R3", key, "count", 162, total, group)
        if own and category in ("sam", "ssm"):
            add("R4", key, "count", 0, total, group)
        if zone.kind == "limitation" and zone.side != party:
            add("R5", key, "count", 0, total, group)
        heavy = ("tank", "artillery", "sam", "ssm")
        if zone_id == "sector-s" and party == c3_party and category in heavy:
            add("C3", key, "count", 0, total, group)
        frozen = [b for b in baselines if b.party == party and b.at <= at]
        if frozen:
            baseline = max(frozen, key=lambda b: (b.at, b.id))
            allowed = baseline.counts.get((zone_id, category), 0)
            if total > allowed:
                add("R6", key, "count", allowed, total, group)
    # R5: a unit's track crossing the other side's line.
    tracks: dict[tuple[str, str, str], list[Observation]] = defaultdict(list)
    for o in mine:
        if o.count > 0 and o.category in RULES.categories:
            tracks[(o.reporter, o.party, o.unit)].append(o)
    crossings: dict[tuple[str, str, str], tuple[int, set[str]]] = {}
    for track in tracks.values():
        for a, b in itertools.pairwise(track):
            step = LineString([(a.lon, a.lat), (b.lon, b.lat)])
            for side, line in geometry.lines.items():
                if side != a.party and line.intersects(step):
                    inner = geometry.innermost_band(side)
                    assert inner is not None
                    key = (a.party, inner.id, a.category)
                    n, ids = crossings.get(key, (0, set()))
                    crossings[key] = (n + 1, ids | {a.id, b.id})
    for key, (n, ids) in crossings.items():
        found.append(("R5", *key, "crossings", 0, n, tuple(sorted(ids))))
    with_exceptions = set()
    for rule, party, zone_id, category, measure, limit, value, ids in found:
        cover = None
        if measure == "count":
            for e in sorted(exceptions, key=lambda e: e.id):
                if (e.party, e.zone, e.category) == (party, zone_id, category) and (
                    e.valid_from <= at < e.valid_until and value <= e.max_count
                ):
                    cover = e.id
                    break
        with_exceptions.add((rule, party, zone_id, category, measure, limit, value, ids, cover))
    holdings = {(*key, total) for key, total in totals.items() if total > 0}
    return with_exceptions, holdings


def as_tuples(candidates: tuple[Candidate, ...]) -> set[tuple[Any, ...]]:
    return {
        (
            c.rule,
            c.party,
            c.zone,
            c.category,
            c.measure,
            c.limit,
            c.value,
            tuple(sorted(c.observations)),
            c.exception,
        )
        for c in candidates
    }


# -- random scenarios ---------------------------------------------------------------------

PARTIES = ("ALPHA", "BRAVO")
COUNTS = {
    # Each limit, and one more: a limit moved by one changes some scenario's candidates.
    "personnel": (1, 500, 3000, 6000, 6001),
    "tank": (0, 1, 38, 75, 76),
    "artillery": (0, 1, 18, 36, 37, 81, 162, 163),
    "sam": (0, 1, 3),
    "ssm": (0, 2),
    "aircraft": (0, 4),
    "uav": (0, 6),
    "other": (0, 1),
}


@st.composite
def observation(draw: st.DrawFn, n: int) -> Observation:
    party = draw(st.sampled_from(PARTIES))
    source = draw(st.sampled_from(("declaration", "inspection", "sensor", "report")))
    reporter = {"declaration": party, "report": OTHER[party]}.get(source, "VERIFIER")
    category = draw(st.sampled_from(RULES.categories))
    # Whole thousandths of a degree over the bands' extent: the zones' edges are rounded to
    # millionths, so holdings land inside, outside and (rarely) on them.
    lon = draw(st.integers(35400, 36330)) / 1000
    lat = draw(st.integers(32560, 33480)) / 1000
    return Observation(
        id=f"o{n}",
        unit=draw(st.sampled_from(("u1", "u2", "u3"))),
        party=party,
        category=category,
        count=draw(st.sampled_from(COUNTS[category])),
        lon=lon,
        lat=lat,
        observed_at=T0 + timedelta(days=draw(st.integers(0, 12))),
        source=source,
        reporter=reporter,
        calibre_mm=draw(st.sampled_from((None, 105.0, 122.0, 123.0, 152.0))),
        range_km=draw(st.sampled_from((None, 15.0, 20.0, 20.5, 25.0))),
    )


@st.composite
def scenario(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(0, 30))
    observations = [draw(observation(i)) for i in range(n)]
    zone_ids = [z.id for z in GEOMETRY.zones]
    baselines = [
        Baseline(
            id=f"b-{party}",
            party=party,
            at=T0,
            counts={
                (draw(st.sampled_from(zone_ids)), draw(st.sampled_from(RULES.categories))): draw(
                    st.sampled_from((0, 10, 100))
                )
                for _ in range(draw(st.integers(0, 4)))
            },
        )
        for party in PARTIES
        if draw(st.booleans())
    ]
    exceptions = [
        AgreedException(
            id=f"e{i}",
            party=draw(st.sampled_from(PARTIES)),
            zone=draw(st.sampled_from(zone_ids)),
            category=draw(st.sampled_from(RULES.categories)),
            max_count=draw(st.sampled_from((5, 90, 7000))),
            valid_from=T0,
            valid_until=T0 + timedelta(days=draw(st.integers(1, 20))),
        )
        for i in range(draw(st.integers(0, 3)))
    ]
    return {
        "observations": observations,
        "baselines": baselines,
        "exceptions": exceptions,
        "at": T0 + timedelta(days=draw(st.integers(0, 12)), hours=12),
        "source": draw(st.sampled_from(("declaration", "verification", "report"))),
    }


def run(geometry: Geometry, rules: Any, s: dict[str, Any]) -> Any:
    return compliance(
        geometry,
        Observations.from_rows(s["observations"], rules.categories),
        s["baselines"],
        s["exceptions"],
        rules,
        at=s["at"],
        source=s["source"],
    )


MIRRORED_GEOMETRY = mirror_geometry(GEOMETRY)
MIRRORED_RULES = parse_rules(mirror_rules_document(RULES.document))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_the_engine_computes_what_the_rules_as_stated_say(s: dict[str, Any]) -> None:
    result = run(GEOMETRY, RULES, s)
    expected, holdings = reference(
        GEOMETRY,
        s["observations"],
        s["baselines"],
        s["exceptions"],
        at=s["at"],
        source=s["source"],
        c3_party="BRAVO",
    )
    assert as_tuples(result.candidates) == expected
    assert {(h.party, h.zone, h.category, h.count) for h in result.holdings} == holdings


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario())
def test_mirroring_a_scenario_mirrors_its_candidates(s: dict[str, Any]) -> None:
    mirrored = {
        **s,
        "observations": [mirror_observation(o) for o in s["observations"]],
        "baselines": [mirror_baseline(b) for b in s["baselines"]],
        "exceptions": [mirror_exception(e) for e in s["exceptions"]],
    }
    original = run(GEOMETRY, RULES, s)
    reflected = run(MIRRORED_GEOMETRY, MIRRORED_RULES, mirrored)
    assert as_tuples(reflected.candidates) == as_tuples(
        tuple(mirror_candidate(c) for c in original.candidates)
    )
    # And the reference agrees on the mirrored side too (C3 now binds ALPHA).
    expected, _ = reference(
        MIRRORED_GEOMETRY,
        mirrored["observations"],
        mirrored["baselines"],
        mirrored["exceptions"],
        at=s["at"],
        source=s["source"],
        c3_party="ALPHA",
    )
    assert as_tuples(reflected.candidates) == expected


# -- the demo's cases, by hand ------------------------------------------------------------


def _obs(
    id: str, party: str, category: str, count: int, lon: float, lat: float, **more: Any
) -> Observation:
    fields: dict[str, Any] = {
        "unit": id,
        "observed_at": T0 + timedelta(days=1),
        "source": "inspection",
        "reporter": "VERIFIER",
        **more,
    }
    return Observation(
        id=id, party=party, category=category, count=count, lon=lon, lat=lat, **fields
    )


def _candidates(observations: list[Observation], **kwargs: Any) -> list[dict[str, Any]]:
    s = {
        "observations": observations,
        "baselines": [],
        "exceptions": [],
        "at": AT,
        "source": "verification",
        **kwargs,
    }
    return [c.as_dict() for c in run(GEOMETRY, RULES, s).candidates]


def test_78_tanks_in_alphas_first_band_are_an_r2_candidate_and_75_are_not() -> None:
    # ALPHA's 0-10 band, west of line A near Quneitra.
    over = _candidates(
        [_obs("a", "ALPHA", "tank", 40, 35.75, 33.12), _obs("b", "ALPHA", "tank", 38, 35.76, 33.13)]
    )
    assert over == [
        {
            "rule": "R2",
            "party": "ALPHA",
            "zone": "limitation-alpha-0-10",
            "category": "tank",
            "measure": "count",
            "limit": 75,
            "value": 78,
            "observations": ["a", "b"],
            "exception": None,
        }
    ]
    assert _candidates([_obs("a", "ALPHA", "tank", 75, 35.75, 33.12)]) == []


def test_an_exception_in_force_covers_the_candidate_and_expires() -> None:
    tanks = [_obs("a", "ALPHA", "tank", 78, 35.75, 33.12)]
    exception = AgreedException(
        "x", "ALPHA", "limitation-alpha-0-10", "tank", 80, T0, AT + timedelta(days=1)
    )
    [covered] = _candidates(tanks, exceptions=[exception])
    assert covered["exception"] == "x"
    [after] = _candidates(tanks, exceptions=[exception], at=AT + timedelta(days=2))
    assert after["exception"] is None
    smaller = replace(exception, max_count=77)
    [uncovered] = _candidates(tanks, exceptions=[smaller])
    assert uncovered["exception"] is None


def test_a_unit_reported_with_count_0_has_left() -> None:
    here = _obs("a", "ALPHA", "sam", 2, 35.75, 33.12, unit="u")
    gone = _obs("b", "ALPHA", "sam", 0, 35.75, 33.12, unit="u", observed_at=T0 + timedelta(days=2))
    assert [c["rule"] for c in _candidates([here])] == ["R4"]
    assert _candidates([here, gone]) == []
    assert [c["rule"] for c in _candidates([here, gone], at=T0 + timedelta(days=1, hours=1))] == [
        "R4"
    ]


def test_each_party_is_measured_only_in_its_own_bands() -> None:
    # BRAVO artillery of 25 km range in ALPHA's 10-20 band: R5 (across the line), not R3.
    across = _candidates([_obs("r", "BRAVO", "artillery", 4, 35.68, 33.05, range_km=25.0)])
    assert [(c["rule"], c["zone"]) for c in across] == [("R5", "limitation-alpha-10-20")]
    own = _candidates([_obs("r", "ALPHA", "artillery", 4, 35.68, 33.05, range_km=25.0)])
    assert [(c["rule"], c["measure"], c["value"]) for c in own] == [("R3", "range_km", 25)]


def test_the_freeze_counts_above_the_baseline() -> None:
    baseline = Baseline("b", "BRAVO", T0, {("limitation-bravo-0-10", "personnel"): 5000})
    men = [_obs("p", "BRAVO", "personnel", 5200, 35.95, 33.10)]
    found = _candidates(men, baselines=[baseline])
    assert [(c["rule"], c["limit"], c["value"]) for c in found] == [
        ("R6", 5000, 5200),
        ("R6", 0, 5200),  # sector S: no baseline there
    ]
    assert found[1]["zone"] == "sector-s"


def test_c3_binds_bravo_in_sector_s() -> None:
    found = _candidates([_obs("t", "BRAVO", "tank", 1, 36.2, 32.7)])
    assert [(c["rule"], c["zone"]) for c in found] == [("C3", "sector-s")]


def _inside(zone_id: str) -> tuple[float, float]:
    zone = next(z for z in GEOMETRY.zones if z.id == zone_id)
    # Somewhere in the zone and in no other zone but sector S where bands overlap it.
    point = zone.geometry.difference(
        shapely.union_all([z.geometry for z in GEOMETRY.zones if z.id not in (zone_id, "sector-s")])
    ).difference(next(z for z in GEOMETRY.zones if z.id == "sector-s").geometry)
    p = point.point_on_surface() if not point.is_empty else zone.geometry.point_on_surface()
    return p.x, p.y


LIMITS = [
    ("R2", "0-10", "personnel", 6000),
    ("R2", "0-10", "tank", 75),
    ("R2", "0-10", "artillery", 36),
    ("R3", "10-20", "artillery", 162),
    ("R4", "0-10", "sam", 0),
    ("R4", "20-25", "ssm", 0),
]


@pytest.mark.parametrize("party", PARTIES)
@pytest.mark.parametrize(("rule", "band", "category", "limit"), LIMITS)
def test_each_count_limit_holds_at_the_limit_and_is_exceeded_one_above(
    party: str, rule: str, band: str, category: str, limit: int
) -> None:
    zone = f"limitation-{party.lower()}-{band}"
    lon, lat = _inside(zone)
    at_limit = _candidates([_obs("h", party, category, limit, lon, lat)]) if limit else []
    assert at_limit == []
    [over] = _candidates([_obs("h", party, category, limit + 1, lon, lat)])
    assert (over["rule"], over["zone"], over["limit"], over["value"]) == (
        rule,
        zone,
        limit,
        limit + 1,
    )


@pytest.mark.parametrize("party", PARTIES)
def test_calibre_and_range_limits_hold_at_the_limit(party: str) -> None:
    lon, lat = _inside(f"limitation-{party.lower()}-0-10")
    assert (
        _candidates([_obs("h", party, "artillery", 1, lon, lat, calibre_mm=122.0, range_km=20.0)])
        == []
    )
    found = _candidates(
        [_obs("h", party, "artillery", 1, lon, lat, calibre_mm=122.5, range_km=20.5)]
    )
    assert [(c["rule"], c["measure"], c["limit"]) for c in found] == [
        ("R2", "calibre_mm", 122),
        ("R3", "range_km", 20),
    ]
