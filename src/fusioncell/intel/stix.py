"""STIX 2.1 for the intelligence track: validation, the markings written into the objects,
the Admiralty grade, the common case built for a person, and sanitisation.

Pure functions over JSON values: nothing here reads or writes the database. Validation is
``stix2-validator`` 3.2.0's (pinned: the 3.3 wheels ship no schemas), run object by object so
that every error names the object it is about, with what the library rebuilds per object
built once (``_Validator``); STIX 2.0 objects are validated as 2.0.
"""

from __future__ import annotations

import copy
import math
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fusioncell.errors import InvalidInput

# -- TLP 2.0 (the STIX 2.1 TLP 2.0 extension's standard marking definitions) -----------------

TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_IDENTITY = "identity--e50ab59c-5c4f-4d40-bf6a-d58418d89bcd"
TLP_IDS: dict[str, str] = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_LEVELS: tuple[str, ...] = tuple(TLP_IDS)
# TLP 1.0's STIX 2.x definitions: replaced by the report's TLP 2.0 marking.
_TLP1_IDS = frozenset(
    {
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
    }
)
_TLP_ALL = frozenset(TLP_IDS.values()) | _TLP1_IDS
_MARKING_CREATED = "2022-10-01T00:00:00.000Z"
_NAMESPACE = uuid.UUID("0a7b4d0e-2f7c-4a43-9c0e-6c1f3d0b5a21")


def tlp_marking(level: str) -> dict[str, Any]:
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_IDS[level],
        "created_by_ref": TLP_IDENTITY,
        "created": _MARKING_CREATED,
        "name": f"TLP:{level.upper()}",
        "extensions": {
            TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level},
        },
    }


def releasability_marking(organisations: Iterable[str]) -> dict[str, Any]:
    """A statement naming the organisations the report is released to: the same set always
    has the same marking definition (its id is derived from the names)."""
    names = sorted(set(organisations))
    marking_id = uuid.uuid5(_NAMESPACE, "releasable-to/" + ",".join(names))
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": f"marking-definition--{marking_id}",
        "created": _MARKING_CREATED,
        "name": "Releasable to " + ", ".join(names),
        "definition_type": "statement",
        "definition": {"statement": "Releasable to: " + ", ".join(names)},
    }


SANITISED_MARKING: dict[str, Any] = {
    "type": "marking-definition",
    "spec_version": "2.1",
    "id": f"marking-definition--{uuid.uuid5(_NAMESPACE, 'sanitised')}",
    "created": _MARKING_CREATED,
    "name": "Sanitised by the supervisor",
    "definition_type": "statement",
    "definition": {
        "statement": "Changed by the supervisor of the cell before release: the marked "
        "properties were redacted, coarsened or replaced."
    },
}


def released_to(objects: Sequence[dict[str, Any]]) -> list[str]:
    """The organisations a bundle's releasability statement names, if it has one."""
    for item in objects:
        statement = item.get("definition", {}) if item.get("type") == "marking-definition" else {}
        text = statement.get("statement", "") if isinstance(statement, dict) else ""
        if isinstance(text, str) and text.startswith("Releasable to: "):
            return [name.strip() for name in text[len("Releasable to: ") :].split(",")]
    return []


# -- the Admiralty grade ------------------------------------------------------------------

RELIABILITY = "ABCDEF"
_CREDIBILITY_LABELS = {
    1: "1 - Confirmed by other sources",
    2: "2 - Probably True",
    3: "3 - Possibly True",
    4: "4 - Doubtful",
    5: "5 - Improbable",
    6: "6 - Truth cannot be judged",
}
_GRADE = re.compile(r"([A-F])([1-6])")


@dataclass(frozen=True)
class Grade:
    """Source reliability (A-F, held on the source) and information credibility (1-6, per
    report), kept apart and shown together, e.g. "B2"."""

    reliability: str
    credibility: int

    def __str__(self) -> str:
        return f"{self.reliability}{self.credibility}"

    @property
    def confidence(self) -> int | None:
        """Credibility on STIX's confidence scale (stix2's Admiralty mapping); 6, "truth
        cannot be judged", has no confidence value."""
        if self.credibility == 6:
            return None
        # stix2 takes a third of a second to import: the first graded report pays it.
        from stix2.confidence.scales import (  # type: ignore[import-untyped]
            admiralty_credibility_to_value,
        )

        value: int = admiralty_credibility_to_value(_CREDIBILITY_LABELS[self.credibility])
        return value


def parse_grade(text: str) -> Grade:
    found = _GRADE.fullmatch(text.strip().upper()) if isinstance(text, str) else None
    if found is None:
        raise InvalidInput(
            "a grade is a source reliability A-F followed by an information credibility "
            "1-6, e.g. B2",
            errors=[{"field": "grade", "message": f"not a grade: {text!r}"}],
        )
    return Grade(found.group(1), int(found.group(2)))


# -- validation (``stix_validation``, imported on first use) --------------------------------


def validation_errors(item: Any, version: str = "2.1") -> list[str]:
    """stix2-validator 3.2.0's error messages for one object as STIX ``version`` (2.0 or
    2.1)."""
    from fusioncell.intel import stix_validation

    return stix_validation.validation_errors(item, version)


def spec_version_of(item: dict[str, Any]) -> str:
    """The STIX version an object is written in: its ``spec_version``, else 2.0 for an object
    with ``created`` (as stix2-validator reads one without it in a 2.1 bundle), else 2.1 (a
    2.1 cyber-observable may leave it out)."""
    given = item.get("spec_version")
    if isinstance(given, str):
        return given
    return "2.0" if "created" in item else "2.1"


def _problem(index: int, item: Any, rule: str) -> dict[str, Any]:
    object_id = item.get("id") if isinstance(item, dict) else None
    kind = item.get("type") if isinstance(item, dict) else None
    return {
        "object": object_id if isinstance(object_id, str) else f"objects[{index}]",
        "type": kind if isinstance(kind, str) else None,
        "rule": rule,
    }


def objects_of(data: Any) -> list[dict[str, Any]]:
    """The objects of a STIX bundle, or of a TAXII envelope (``{"objects": [...]}``)."""
    if not isinstance(data, dict) or not isinstance(data.get("objects"), list):
        raise InvalidInput(
            'give a STIX 2.1 bundle: an object with type "bundle" and a list of objects',
            errors=[{"object": "bundle", "type": None, "rule": "a bundle has a list 'objects'"}],
        )
    if data.get("type") not in (None, "bundle"):
        raise InvalidInput(
            "give a STIX 2.1 bundle",
            errors=[{"object": "bundle", "type": data.get("type"), "rule": "type is 'bundle'"}],
        )
    objects: list[dict[str, Any]] = data["objects"]
    if not objects:
        raise InvalidInput(
            "the bundle holds no objects",
            errors=[{"object": "bundle", "type": "bundle", "rule": "at least one object"}],
        )
    return objects


def validate(objects: Sequence[Any], *, max_objects: int) -> None:
    """Refuse what stix2-validator 3.2.0 refuses, naming each object and rule; ids must be
    unique per version within a bundle."""
    if len(objects) > max_objects:
        raise InvalidInput(f"a report holds at most {max_objects} objects", limit=max_objects)
    from fusioncell.intel import stix_validation  # seconds to import: on first use

    problems: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for index, item in enumerate(objects):
        if not isinstance(item, dict):
            problems.append(_problem(index, item, "an object is a JSON object"))
            continue
        try:
            version = "2.0" if spec_version_of(item) == "2.0" else "2.1"
            messages = stix_validation.validation_errors(item, version)
        except stix_validation.ValidationError as refusal:
            problems.append(_problem(index, item, str(refusal)))
            continue
        except (TypeError, KeyError, AttributeError, ValueError):  # the validator cannot read it
            problems.append(_problem(index, item, "not a STIX object the validator can read"))
            continue
        for message in messages:
            prefix = f"{item.get('id')}: "
            problems.append(
                _problem(
                    index, item, message[len(prefix) :] if message.startswith(prefix) else message
                )
            )
        key = (str(item.get("id")), str(item.get("modified", item.get("created", ""))))
        if key in seen:
            problems.append(_problem(index, item, "the same object version twice in one bundle"))
        seen.add(key)
    if problems:
        first = problems[0]
        raise InvalidInput(
            f"invalid STIX: {first['object']}: {first['rule']}"[:500], errors=problems[:50]
        )


# -- writing the markings and the grade ----------------------------------------------------

_NO_CONFIDENCE = frozenset({"marking-definition", "language-content", "extension-definition"})
# Cyber-observable objects carry no confidence; every other object may.
SCO_TYPES = frozenset(
    {
        "artifact", "autonomous-system", "directory", "domain-name", "email-addr",
        "email-message", "file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex",
        "network-traffic", "process", "software", "url", "user-account",
        "windows-registry-key", "x509-certificate",
    }
)  # fmt: skip


def mark(
    objects: Sequence[dict[str, Any]],
    *,
    tlp: str,
    organisations: Iterable[str],
    grade: Grade | None,
) -> list[dict[str, Any]]:
    """The objects with the report's markings written in: the TLP 2.0 definition and the
    releasability statement as definitions in the bundle and in every object's
    ``object_marking_refs`` (replacing any other TLP), and the credibility as ``confidence``
    on every object that may carry one and has none."""
    tlp_def, release_def = tlp_marking(tlp), releasability_marking(organisations)
    replaced = set(_TLP_ALL) | {
        str(item.get("id"))
        for item in objects
        if item.get("type") == "marking-definition" and released_to([item])
    }
    replaced |= {tlp_def["id"], release_def["id"]}
    confidence = grade.confidence if grade is not None else None
    marked: list[dict[str, Any]] = []
    for item in objects:
        if item.get("id") in replaced:
            continue
        if item.get("type") == "marking-definition":
            marked.append(item)
            continue
        copy_ = dict(item)
        refs = [ref for ref in copy_.get("object_marking_refs", []) if ref not in replaced]
        copy_["object_marking_refs"] = [tlp_def["id"], release_def["id"], *refs]
        if (
            confidence is not None
            and "confidence" not in copy_
            and copy_.get("type") not in SCO_TYPES | _NO_CONFIDENCE
            and spec_version_of(copy_) != "2.0"  # STIX 2.0 has no confidence
        ):
            copy_["confidence"] = confidence
        marked.append(copy_)
    return [tlp_def, release_def, *marked]


# -- building the common case -------------------------------------------------------------


def stix_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def organisation_identity(organisation_id: uuid.UUID, name: str) -> dict[str, Any]:
    """An organisation of the cell as a STIX identity: one id per organisation."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": f"identity--{uuid.uuid5(_NAMESPACE, f'organisation/{organisation_id}')}",
        "created": _MARKING_CREATED,
        "modified": _MARKING_CREATED,
        "name": name,
        "identity_class": "organization",
    }


PARTY_OF_THE_CELL: dict[str, Any] = {
    "type": "identity",
    "spec_version": "2.1",
    "id": f"identity--{uuid.uuid5(_NAMESPACE, 'a party of the cell')}",
    "created": _MARKING_CREATED,
    "modified": _MARKING_CREATED,
    "name": "a party of the cell",
    "identity_class": "organization",
}


def observation(
    *,
    source: dict[str, Any],
    title: str,
    description: str,
    latitude: float,
    longitude: float,
    place: str,
    observed_at: datetime,
    now: datetime,
) -> list[dict[str, Any]]:
    """An observation at a place and time with a description, as STIX: the place (location),
    the observation (observed-data of that location) and what was seen (a note about it), all
    created by the source."""
    created = stix_time(now)
    when = stix_time(observed_at)
    location_id = f"location--{uuid.uuid4()}"
    observed_id = f"observed-data--{uuid.uuid4()}"
    location: dict[str, Any] = {
        "type": "location",
        "spec_version": "2.1",
        "id": location_id,
        "created": created,
        "modified": created,
        "created_by_ref": source["id"],
        "latitude": latitude,
        "longitude": longitude,
    }
    if place:
        location["name"] = place
    return [
        source,
        location,
        {
            "type": "observed-data",
            "spec_version": "2.1",
            "id": observed_id,
            "created": created,
            "modified": created,
            "created_by_ref": source["id"],
            "first_observed": when,
            "last_observed": when,
            "number_observed": 1,
            "object_refs": [location_id],
        },
        {
            "type": "note",
            "spec_version": "2.1",
            "id": f"note--{uuid.uuid4()}",
            "created": created,
            "modified": created,
            "created_by_ref": source["id"],
            "abstract": title,
            "content": description,
            "object_refs": [observed_id, location_id],
        },
    ]


OPINIONS = ("strongly-disagree", "disagree", "neutral", "agree", "strongly-agree")


def opinion(
    *, author: dict[str, Any], value: str, explanation: str, about: Sequence[str], now: datetime
) -> list[dict[str, Any]]:
    if value not in OPINIONS:
        raise InvalidInput(
            f"an opinion is one of {', '.join(OPINIONS)}",
            errors=[{"field": "opinion", "message": f"not an opinion: {value!r}"}],
        )
    created = stix_time(now)
    return [
        author,
        {
            "type": "opinion",
            "spec_version": "2.1",
            "id": f"opinion--{uuid.uuid4()}",
            "created": created,
            "modified": created,
            "created_by_ref": author["id"],
            "opinion": value,
            "explanation": explanation,
            "object_refs": list(about),
        },
    ]


def sighting(
    *, author: dict[str, Any], of: str, description: str, seen_at: datetime, now: datetime
) -> list[dict[str, Any]]:
    created = stix_time(now)
    item: dict[str, Any] = {
        "type": "sighting",
        "spec_version": "2.1",
        "id": f"sighting--{uuid.uuid4()}",
        "created": created,
        "modified": created,
        "created_by_ref": author["id"],
        "sighting_of_ref": of,
        "first_seen": stix_time(seen_at),
        "last_seen": stix_time(seen_at),
        "count": 1,
        "where_sighted_refs": [author["id"]],
    }
    if description:
        item["description"] = description
    return [author, item]


# -- what a report is about ---------------------------------------------------------------


@dataclass
class Summary:
    """What the lists, the search and the map read from a report's objects."""

    title: str
    text: str
    observed_at: datetime | None
    points: list[tuple[float, float, str]] = field(default_factory=list)  # lat, lon, object id
    types: list[str] = field(default_factory=list)
    opinion: str | None = None

    @property
    def bbox(self) -> tuple[float, float, float, float] | None:
        """west, south, east, north"""
        if not self.points:
            return None
        lats = [p[0] for p in self.points]
        lons = [p[1] for p in self.points]
        return (min(lons), min(lats), max(lons), max(lats))


_TEXT_PROPERTIES = (
    "name", "description", "abstract", "content", "explanation", "opinion", "pattern",
    "value", "aliases", "labels", "indicator_types", "report_types", "threat_actor_types",
    "malware_types", "tool_types", "region", "country", "city", "street_address",
)  # fmt: skip
_TIME_PROPERTIES = ("first_observed", "first_seen", "valid_from", "published")


def parse_stix_time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def summarise(objects: Sequence[dict[str, Any]]) -> Summary:
    title = ""
    words: list[str] = []
    times: list[datetime] = []
    points: list[tuple[float, float, str]] = []
    opinion_: str | None = None
    for item in objects:
        kind = item.get("type", "")
        if kind == "marking-definition":
            continue
        for name in _TEXT_PROPERTIES:
            value = item.get(name)
            if isinstance(value, str):
                words.append(value)
            elif isinstance(value, list):
                words.extend(v for v in value if isinstance(v, str))
        if not title:
            for name in (
                ("name", "abstract")
                if kind
                in (
                    "report",
                    "note",
                    "indicator",
                    "threat-actor",
                    "campaign",
                    "malware",
                    "tool",
                    "intrusion-set",
                    "attack-pattern",
                    "infrastructure",
                )
                else ()
            ):
                if isinstance(item.get(name), str) and item[name].strip():
                    title = item[name].strip()
                    break
        for name in _TIME_PROPERTIES:
            if (moment := parse_stix_time(item.get(name))) is not None:
                times.append(moment)
        if kind == "location":
            lat, lon = item.get("latitude"), item.get("longitude")
            if isinstance(lat, int | float) and isinstance(lon, int | float):
                points.append((float(lat), float(lon), str(item.get("id"))))
        if kind == "opinion" and opinion_ is None and isinstance(item.get("opinion"), str):
            opinion_ = item["opinion"]
    if not title:
        kinds = sorted(
            {str(o.get("type")) for o in objects if o.get("type") != "marking-definition"}
        )
        title = ", ".join(kinds)
    return Summary(
        title=title[:300],
        text="\n".join(words),
        observed_at=min(times) if times else None,
        points=points,
        types=sorted({str(o.get("type")) for o in objects}),
        opinion=opinion_,
    )


# -- sanitisation -------------------------------------------------------------------------

_KM_PER_DEGREE = 111.32
_REF = re.compile(r"^[a-z0-9-]+--[0-9a-f-]{36}$")
# Properties a sanitisation never redacts: without them an object is no longer STIX.
PROTECTED_PROPERTIES = frozenset(
    {"type", "spec_version", "id", "created", "modified", "object_marking_refs",
     "granular_markings", "created_by_ref"}
)  # fmt: skip


REDACTED = "[redacted]"


@dataclass(frozen=True)
class Sanitisation:
    """What the supervisor changes before release."""

    redact: frozenset[str] = frozenset()  # property names, in every object
    grid_km: float | None = None  # coarsen every coordinate to a grid of this many km
    anonymise_source: bool = False  # the source becomes "a party of the cell"
    drop: frozenset[str] = frozenset()  # object ids left out


def coarsen(latitude: float, longitude: float, grid_km: float) -> tuple[float, float]:
    """The centre of the grid cell (``grid_km`` on a side) the point falls in."""
    lat_step = grid_km / _KM_PER_DEGREE
    lat = (math.floor(latitude / lat_step) + 0.5) * lat_step
    lon_step = grid_km / (_KM_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
    lon = (math.floor(longitude / lon_step) + 0.5) * lon_step
    return round(max(-90.0, min(90.0, lat)), 5), round(max(-180.0, min(180.0, lon)), 5)


def _remap(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, list):
        return [_remap(item, ids) for item in value]
    if isinstance(value, dict):
        return {key: _remap(item, ids) for key, item in value.items()}
    return value


def _refers_to(value: Any, ids: set[str]) -> bool:
    if isinstance(value, str):
        return value in ids
    if isinstance(value, list):
        return any(isinstance(item, str) and item in ids for item in value)
    return False


@dataclass
class Sanitised:
    objects: list[dict[str, Any]]
    # What changed, per new object id: the properties (``"id"`` for a new id alone).
    changes: dict[str, list[str]]
    dropped: list[str]


def sanitise(
    objects: Sequence[dict[str, Any]],
    sanitisation: Sanitisation,
    *,
    source_ids: Iterable[str],
    now: datetime,
) -> Sanitised:
    """A new, derived set of objects: new ids (references follow), the chosen properties
    redacted, coordinates coarsened, the source replaced and the chosen objects dropped, with
    a granular marking on every property that changed. Markings are left out: the release
    writes its own."""
    redact = set(sanitisation.redact) - PROTECTED_PROPERTIES
    sources = set(source_ids) if sanitisation.anonymise_source else set()
    keep = [
        item
        for item in objects
        if item.get("type") != "marking-definition"
        and item.get("id") not in sanitisation.drop
        and item.get("id") not in sources
    ]
    ids: dict[str, str] = {}
    for item in keep:
        kind = str(item["type"])
        ids[str(item["id"])] = f"{kind}--{uuid.uuid4()}"
    for source in sources:
        ids[source] = PARTY_OF_THE_CELL["id"]
    dropped_ids = {
        str(item.get("id"))
        for item in objects
        if item.get("type") != "marking-definition" and item.get("id") in sanitisation.drop
    }
    created = stix_time(now)
    result: list[dict[str, Any]] = [copy.deepcopy(PARTY_OF_THE_CELL)] if sources else []
    changes: dict[str, list[str]] = {}
    for item in keep:
        new = {
            key: value
            for key, value in item.items()
            if key not in ("object_marking_refs", "granular_markings")
        }
        changed = sorted(redact & new.keys())
        for name in changed:
            # A text keeps its place, so the granular marking can point at it.
            if isinstance(new[name], str):
                new[name] = REDACTED
            else:
                del new[name]
        for name, value in list(new.items()):
            if name == "id":
                continue
            if _refers_to(value, dropped_ids):
                kept = [v for v in value if v not in dropped_ids] if isinstance(value, list) else []
                if kept:
                    new[name] = kept
                else:
                    del new[name]
                changed.append(name)
            elif _refers_to(value, sources):
                changed.append(name)
        new = _remap(new, ids)
        latitude, longitude = new.get("latitude"), new.get("longitude")
        if (
            sanitisation.grid_km
            and isinstance(latitude, int | float)
            and isinstance(longitude, int | float)
        ):
            new["latitude"], new["longitude"] = coarsen(
                float(latitude), float(longitude), sanitisation.grid_km
            )
            changed += ["latitude", "longitude"]
            for name in ("precision", "street_address", "postal_code"):
                if name in new:
                    del new[name]
                    changed.append(name)
        new["created"] = new["modified"] = created
        # A selector may name only a property the object still has.
        changed = sorted(set(changed))
        selectors = [name for name in changed if name in new]
        if selectors:
            new["granular_markings"] = [
                {"marking_ref": SANITISED_MARKING["id"], "selectors": selectors}
            ]
        changes[str(new["id"])] = changed
        result.append(new)
    if any("granular_markings" in item for item in result):
        result.insert(0, copy.deepcopy(SANITISED_MARKING))
    return Sanitised(objects=result, changes=changes, dropped=sorted(dropped_ids))
