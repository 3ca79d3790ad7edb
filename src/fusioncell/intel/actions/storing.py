"""The private step every intelligence action ends with: sign each report's entry and write
its rows. Not an action: it runs inside the caller's transaction.

Reports are written together, one INSERT (executemany) per table for all the reports of the
transaction (a batch of submissions, or the one report of an action), after each report's
signed entry; the event of each follows in log order.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, func, insert, update
from sqlalchemy.orm import Session

from fusioncell.cell.models import Organisation
from fusioncell.cell.policy import Viewer, author_of
from fusioncell.intel import stix
from fusioncell.intel.entries import IntelEntry
from fusioncell.intel.events import emit_report
from fusioncell.intel.models import Release, Report, ReportKind, StixObject
from fusioncell.ledger.entries import audience, canonical
from fusioncell.ledger.record import record

# The tables, for Core INSERTs (executemany) without the ORM's per-row bookkeeping.
_REPORTS: Table = Report.__table__  # type: ignore[assignment]
_RELEASES: Table = Release.__table__  # type: ignore[assignment]
_OBJECTS: Table = StixObject.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class Audience:
    organisations: list[Organisation]

    @property
    def ids(self) -> list[uuid.UUID]:
        return [o.id for o in self.organisations]

    @property
    def slugs(self) -> list[str]:
        return sorted(o.slug for o in self.organisations)


@dataclass(frozen=True)
class ToStore:
    """One report to write: its objects already validated and marked."""

    entry_type: IntelEntry
    kind: ReportKind
    report_id: uuid.UUID
    client_id: uuid.UUID
    objects: list[dict[str, Any]]
    release: Audience
    tlp: str
    grade: stix.Grade | None
    fingerprint: str
    # Each object's content hash as submitted, by "id\nversion".
    hashes: dict[str, str]
    derived_from: Report | None = None
    responds_to: Report | None = None
    extra: dict[str, Any] | None = None


def version_key(item: dict[str, Any]) -> tuple[str, str]:
    return str(item["id"]), str(item.get("modified") or item.get("created") or "")


def source_of(objects: Sequence[dict[str, Any]]) -> str | None:
    """The source: the identity the report's objects are created by (the most cited)."""
    identities = {o["id"] for o in objects if o.get("type") == "identity"}
    cited: dict[str, int] = {}
    for item in objects:
        ref = item.get("created_by_ref")
        if isinstance(ref, str) and ref in identities:
            cited[ref] = cited.get(ref, 0) + 1
    if cited:
        return max(sorted(cited), key=lambda ref: cited[ref])
    return None


def report_body(
    *,
    report_id: uuid.UUID,
    kind: ReportKind,
    author_organisation: uuid.UUID,
    released_to: list[str],
    tlp: str,
    grade: stix.Grade | None,
    objects: list[dict[str, Any]],
    fingerprint: str,
    derived_from: uuid.UUID | None = None,
    responds_to: uuid.UUID | None = None,
    extra: dict[str, Any] | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """The body of a report's entry: what its author signs (a client with its own key builds
    the same body, ``submission_body``), holding the bundle as released."""
    return {
        "report": str(report_id),
        "kind": kind.value,
        "author_organisation": str(author_organisation),
        "released_to": released_to,
        "tlp": tlp,
        "grade": str(grade) if grade else None,
        "source": source if source is not None else source_of(objects),
        "derived_from": str(derived_from) if derived_from else None,
        "responds_to": str(responds_to) if responds_to else None,
        "request": fingerprint,
        **(extra or {}),
        "bundle": {"type": "bundle", "id": f"bundle--{report_id}", "objects": objects},
    }


def _row_ids(count: int) -> list[uuid.UUID]:
    """Random (version 4) UUIDs for new rows, from one read of the system's randomness rather
    than one per id."""
    data = os.urandom(16 * count)
    return [uuid.UUID(bytes=data[n : n + 16], version=4) for n in range(0, 16 * count, 16)]


def store_reports(
    db: Session, actor: Viewer, items: Sequence[ToStore], *, now: datetime
) -> list[tuple[uuid.UUID, int]]:
    """Sign and append each report's entry, then write every report, release and object
    version with one INSERT per table, and each report's event. Returns each report's id and
    log index."""
    author = author_of(actor)
    reports: list[dict[str, Any]] = []
    releases: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    stored: list[tuple[uuid.UUID, int]] = []
    events = []
    for item in items:
        objects = item.objects
        summary = stix.summarise(objects)
        source = source_of(objects)
        body = report_body(
            report_id=item.report_id,
            kind=item.kind,
            author_organisation=actor.organisation_id,
            released_to=item.release.slugs,
            tlp=item.tlp,
            grade=item.grade,
            objects=objects,
            fingerprint=item.fingerprint,
            derived_from=item.derived_from.id if item.derived_from else None,
            responds_to=item.responds_to.id if item.responds_to else None,
            extra=item.extra,
            source=source,
        )
        appended = record(
            db,
            author,
            item.entry_type,
            body,
            audience=audience(organisations=item.release.ids),
            now=now,
        )
        bbox = summary.bbox
        reports.append(
            {
                "id": item.report_id,
                "client_id": item.client_id,
                "kind": item.kind.value,
                "author_id": actor.member_id,
                "author_organisation_id": actor.organisation_id,
                "derived_from": item.derived_from.id if item.derived_from else None,
                "responds_to": item.responds_to.id if item.responds_to else None,
                "title": summary.title or item.kind.value,
                "tlp": item.tlp,
                "reliability": item.grade.reliability if item.grade else None,
                "credibility": item.grade.credibility if item.grade else None,
                "source_ref": source,
                "opinion": summary.opinion if item.kind == ReportKind.RESPONSE else None,
                "bundle": body["bundle"],
                "request_hash": item.fingerprint,
                "search_text": summary.text[:100_000],
                "observed_at": summary.observed_at or appended.logged_at,
                "west": bbox[0] if bbox else None,
                "south": bbox[1] if bbox else None,
                "east": bbox[2] if bbox else None,
                "north": bbox[3] if bbox else None,
                "log_index": appended.index,
                "leaf_hash": appended.leaf_hash,
                "submitted_at": appended.logged_at,
            }
        )
        releases.extend(
            {"report_id": item.report_id, "organisation_id": o} for o in item.release.ids
        )
        for obj in objects:
            key = version_key(obj)
            located = obj.get("type") == "location"
            content_hash = item.hashes.get(key[0] + "\n" + key[1])
            if content_hash is None:  # the cell's own markings, and sanitised objects
                content_hash = hashlib.sha256(canonical(obj)).hexdigest()
            versions.append(
                {
                    "report_id": item.report_id,
                    "author_organisation_id": actor.organisation_id,
                    "stix_id": key[0],
                    "stix_type": str(obj["type"]),
                    "spec_version": stix.spec_version_of(obj),
                    "modified": key[1],
                    "content_hash": content_hash,
                    "body": obj,
                    "date_added": appended.logged_at,
                    "latitude": obj.get("latitude") if located else None,
                    "longitude": obj.get("longitude") if located else None,
                }
            )
        stored.append((item.report_id, appended.index))
        events.append((item, appended.index))
    if reports:
        db.execute(insert(_REPORTS), reports)
        if db.get_bind().dialect.name == "postgresql":
            db.execute(
                update(_REPORTS)
                .where(_REPORTS.c.id.in_([row["id"] for row in reports]))
                .values(search_vector=func.to_tsvector("simple", _REPORTS.c.search_text))
            )
        db.execute(insert(_RELEASES), releases)
    if versions:
        for row, row_id in zip(versions, _row_ids(len(versions)), strict=True):
            row["id"] = row_id
        db.execute(insert(_OBJECTS), versions)
    for item, log_index in events:
        emit_report(
            db,
            report_id=item.report_id,
            kind=item.kind,
            responds_to=item.responds_to.id if item.responds_to else None,
            log_index=log_index,
            now=now,
        )
    return stored
