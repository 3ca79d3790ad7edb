"""What TAXII changes: objects added (as a report, through the intelligence track's own
action), object versions deleted by their author, paging cursors, and collections imported
from medallion.

Adding objects is ``intel.actions.reports.do_submit_reports``' two steps (one report, in
the same transaction as the envelope's status), signed like any submission
(custodially for a Basic or bearer client): the envelope's releasability and TLP markings are
its release, and without them it is released to the party and the supervisor only. The
report's client id is derived from the member, the collection and the envelope, and versions
the party already stored with the same content are not sent again, so a retried envelope
never stores an object version twice.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, author_of
from fusioncell.db.transaction import atomic
from fusioncell.errors import Forbidden, NotFound
from fusioncell.intel import policy, stix
from fusioncell.intel.actions.reports import (
    DEFAULT_TLP,
    Submission,
    prepare_submissions,
    submit_prepared,
)
from fusioncell.intel.taxii import queries
from fusioncell.intel.taxii.entries import TaxiiEntry
from fusioncell.intel.taxii.models import (
    TaxiiCollectionReport,
    TaxiiCursor,
    TaxiiStatus,
    TaxiiWithdrawal,
)
from fusioncell.intel.taxii.queries import Collection, CollectionKind, taxii_time
from fusioncell.ledger.entries import audience, canonical
from fusioncell.ledger.record import record

CURSOR_LIFETIME = timedelta(hours=1)
_NAMESPACE = uuid.UUID("1b0e9c52-7f7e-4c0e-8a43-3d2f6a9d5c11")
# TLP 1.0's STIX definitions, read as their TLP 2.0 levels.
_TLP1 = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "clear",
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}
_TLP_BY_ID = {**{v: k for k, v in stix.TLP_IDS.items()}, **_TLP1}


def _version_of(item: dict[str, Any]) -> str:
    return str(item.get("modified") or item.get("created") or "")


def _content_hash(item: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(item)).hexdigest()


def tlp_of(objects: Sequence[dict[str, Any]]) -> str:
    """The most restrictive TLP the objects are marked with; amber if none."""
    found = [
        _TLP_BY_ID[ref]
        for item in objects
        for ref in item.get("object_marking_refs", []) or []
        if isinstance(ref, str) and ref in _TLP_BY_ID
    ]
    if not found:
        return DEFAULT_TLP
    return max(found, key=stix.TLP_LEVELS.index)


@dataclass(frozen=True)
class Added:
    status: TaxiiStatus
    report_id: uuid.UUID | None


def do_add_objects(
    db: Session, actor: Viewer, *, collection: Collection, envelope: Any, now: datetime
) -> Added:
    if not collection.can_write:
        raise Forbidden("this collection is not writable for you")
    policy.require(actor, policy.may_submit(actor), "only a party's analyst or liaison submits")
    objects = stix.objects_of(envelope)
    typed = [item for item in objects if isinstance(item, dict)]
    keys = [(str(item.get("id")), _version_of(item)) for item in typed]
    present = queries.own_versions(db, actor, keys)
    fresh = [
        item
        for item in objects
        if not isinstance(item, dict)
        or (key := (str(item.get("id")), _version_of(item))) not in present
        or present[key] != _content_hash(item)
    ]
    prepared = None
    if fresh:
        digest = hashlib.sha256(canonical(objects)).hexdigest()
        client_id = uuid.uuid5(_NAMESPACE, f"{actor.member_id}/{collection.key}/{digest}")
        prepared = prepare_submissions(
            actor,
            [
                Submission(
                    report_id=client_id,
                    bundle={"objects": fresh},
                    release_to=stix.released_to(typed),
                    tlp=tlp_of(typed),
                )
            ],
        )
    successes = [
        {
            "id": str(item.get("id")),
            "version": _version_of(item),
            "message": f"added to collection {collection.id}",
        }
        for item in typed
    ]
    with atomic(db):
        # The report (``do_submit_reports``' steps) and the status: one transaction.
        report_id: uuid.UUID | None = None
        if prepared is not None:
            (submitted,) = submit_prepared(db, actor, prepared, now=now)
            report_id = submitted.report_id
        status = TaxiiStatus(
            id=str(uuid.uuid4()),
            api_root=collection.api_root,
            member_id=actor.member_id,
            status="complete",
            request_timestamp=taxii_time(now),
            total_count=len(objects),
            successes=successes,
            failures=[],
            pendings=[],
            report_id=report_id,
            created_at=now,
        )
        db.add(status)
        if (
            collection.kind == CollectionKind.IMPORTED
            and report_id is not None
            and db.get(TaxiiCollectionReport, (collection.id, report_id)) is None
        ):
            db.add(TaxiiCollectionReport(collection_id=collection.id, report_id=report_id))
    return Added(status=status, report_id=report_id)


def do_open_cursor(
    db: Session,
    actor: Viewer,
    *,
    collection: Collection,
    filters: str,
    after: tuple[datetime, uuid.UUID],
    now: datetime,
) -> uuid.UUID:
    """A ``next`` token for the page after ``after``. Tokens never change, so a retried
    request reads the same page; they expire after an hour, and expired ones are dropped."""
    cursor_id = uuid.uuid4()
    with atomic(db):
        db.execute(delete(TaxiiCursor).where(TaxiiCursor.expires_at <= now))
        db.add(
            TaxiiCursor(
                id=cursor_id,
                member_id=actor.member_id,
                collection=collection.key,
                filters=filters,
                after_date_added=after[0],
                after_id=after[1],
                expires_at=now + CURSOR_LIFETIME,
            )
        )
    return cursor_id


def do_delete_object(
    db: Session,
    actor: Viewer,
    *,
    collection: Collection,
    stix_id: str,
    versions: Sequence[str],
    spec_versions: Sequence[str] = (),
    now: datetime,
) -> int:
    """A party deletes versions of its own object from its submission collection: they are
    withdrawn from every collection (the reports that brought them stay in the log), in one
    signed ``intel.taxii.withdrawn`` entry for the organisations they were released to. In an
    imported collection, a writer deletes the imported versions."""
    if not collection.can_write:
        raise Forbidden("this collection is not writable for you")
    with atomic(db):
        if collection.kind == CollectionKind.IMPORTED:
            rows = [
                row
                for row in queries.imported_versions(db, collection, stix_id, versions)
                if not spec_versions or row.spec_version in spec_versions
            ]
            if not rows:
                raise NotFound(f"no object {stix_id}")
            record(
                db,
                author_of(actor),
                TaxiiEntry.WITHDRAWN,
                {
                    "collection": collection.id,
                    "object": stix_id,
                    "versions": sorted(row.version for row in rows),
                },
                audience=audience(organisations=[actor.organisation_id]),
                now=now,
            )
            for row in rows:
                db.delete(row)
            return len(rows)
        found = queries.withdrawable(db, actor, collection, stix_id, versions)
        if not found:
            raise NotFound(f"no object {stix_id}")
        reports = sorted({r for _version, ids in found for r in ids})
        appended = record(
            db,
            author_of(actor),
            TaxiiEntry.WITHDRAWN,
            {
                "organisation": str(actor.organisation_id),
                "object": stix_id,
                "versions": [version for version, _ids in found],
                "reports": [str(r) for r in reports],
            },
            audience=audience(organisations=queries.release_audience(db, reports)),
            now=now,
        )
        for version, _ids in found:
            db.add(
                TaxiiWithdrawal(
                    organisation_id=actor.organisation_id,
                    stix_id=stix_id,
                    version=version,
                    member_id=actor.member_id,
                    withdrawn_at=now,
                    log_index=appended.index,
                )
            )
    return len(found)
