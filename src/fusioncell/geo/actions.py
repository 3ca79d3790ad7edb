"""Geometry versions: proposed by anyone with the right, in force once each party and the
supervisor have signed its content hash. Each proposal and each signature is an entry of its
own, readable by everyone, so the version in force at any time follows from the log.

A version is never changed: a new geometry is a new version. A retry with the client's id
returns the first result; one organisation signs a version once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.models import OrganisationKind
from fusioncell.cell.policy import Viewer, author_of
from fusioncell.db.transaction import atomic
from fusioncell.errors import (
    Conflict,
    Forbidden,
    IdempotencyConflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
)
from fusioncell.geo import queries
from fusioncell.geo.collection import build_collection, check_source, content_hash
from fusioncell.geo.entries import GeoEntry
from fusioncell.geo.models import GeometrySignature, GeometryVersion
from fusioncell.geo.policy import may_propose, may_sign
from fusioncell.ledger.entries import EVERYONE
from fusioncell.ledger.record import record
from fusioncell.text import N_

_MAY_NOT_PROPOSE = N_(
    "Only a party's liaison officer, the supervisor or the operator proposes a geometry version."
)
_MAY_NOT_SIGN = N_("Only a party's liaison officer or the supervisor signs a geometry version.")
_NOT_SIGNATORY = N_("Your organisation is not a signatory of this geometry version.")
_OTHER_HASH = N_("This version's content hash is not the one you say you sign.")
_SUPERSEDED = N_("A later geometry version is already in force.")
_BAD_FLAG = N_("authoritative is true or false.")


def _require(actor: Viewer | None, allowed: bool, what: str) -> Viewer:
    if actor is None:
        raise NotAuthenticated()
    if not allowed:
        raise Forbidden(what)
    return actor


def do_propose_geometry_version(
    db: Session,
    actor: Viewer,
    *,
    version_id: uuid.UUID,
    collection: Any,
    authoritative: bool,
    source: str,
    now: datetime,
) -> GeometryVersion:
    """Check the geometry, derive its limitation areas and record the proposal: nothing is
    written for a geometry that is not valid RFC 7946 or that the map cannot hold."""
    _require(actor, may_propose(actor), _MAY_NOT_PROPOSE)
    if not isinstance(authoritative, bool):
        raise InvalidInput(_BAD_FLAG, field="authoritative")
    source = check_source(source)
    signatories = queries.signatory_organisations(db, actor)
    parties = [o.slug for o in signatories if o.kind == OrganisationKind.PARTY]
    full = build_collection(collection, parties=parties, authoritative=authoritative)
    digest = content_hash(full, authoritative=authoritative, source=source)
    proposer = None if actor.is_console else actor.member_id
    with atomic(db):
        earlier = queries.find_own_version(db, proposer, version_id)
        if earlier is not None:
            if earlier.content_hash != digest:
                raise IdempotencyConflict(version_id=str(version_id))
            return earlier
        object_id = version_id if not queries.version_id_taken(db, version_id) else uuid.uuid4()
        slugs = [o.slug for o in signatories]
        appended = record(
            db,
            author_of(actor),
            GeoEntry.GEO_VERSION_PROPOSED,
            {
                "version": str(object_id),
                "collection": full,
                "authoritative": authoritative,
                "source": source,
                "content_hash": digest,
                "signatories": slugs,
                "member": None if proposer is None else str(proposer),
            },
            audience=EVERYONE,
            now=now,
        )
        version = GeometryVersion(
            id=object_id,
            client_id=version_id,
            number=queries.next_version_number(db),
            collection=full,
            authoritative=authoritative,
            source=source,
            content_hash=digest,
            signatories=slugs,
            proposed_by=proposer,
            log_index=appended.index,
            proposed_at=appended.logged_at,
        )
        db.add(version)
    return version


def do_sign_geometry_version(
    db: Session,
    actor: Viewer,
    *,
    version_id: uuid.UUID,
    content_hash: str,
    now: datetime,
) -> GeometrySignature:
    """Sign a version's content hash for the actor's organisation. The signature that
    completes the signatories puts the version in force from its log time. Signing again
    returns the organisation's first signature."""
    _require(actor, may_sign(actor), _MAY_NOT_SIGN)
    with atomic(db):
        version = queries.get_version(db, actor, version_id)
        if version is None:
            raise NotFound()
        organisations = queries.signatory_organisations(db, actor)
        own = next((o for o in organisations if o.id == actor.organisation_id), None)
        if own is None or own.slug not in version.signatories:
            raise Forbidden(_NOT_SIGNATORY)
        if content_hash != version.content_hash:
            raise InvalidInput(_OTHER_HASH, field="content_hash", content_hash=version.content_hash)
        signatures = queries.signatures_of(db, actor, [version.id])[version.id]
        for earlier in signatures:
            if earlier.organisation_id == own.id:
                return earlier
        current = queries.version_in_force(db, actor)
        if current is not None and current.number > version.number:
            raise Conflict(_SUPERSEDED, in_force=current.number)
        appended = record(
            db,
            author_of(actor),
            GeoEntry.GEO_VERSION_SIGNED,
            {
                "version": str(version.id),
                "version_index": version.log_index,
                "content_hash": version.content_hash,
                "organisation": own.slug,
                "member": str(actor.member_id),
            },
            audience=EVERYONE,
            now=now,
        )
        signature = GeometrySignature(
            version_id=version.id,
            organisation_id=own.id,
            member_id=actor.member_id,
            content_hash=version.content_hash,
            log_index=appended.index,
            signed_at=appended.logged_at,
        )
        db.add(signature)
        signed = {s.organisation_id for s in signatures} | {own.id}
        slugs = {o.id: o.slug for o in organisations}
        if set(version.signatories) <= {slugs[o] for o in signed if o in slugs}:
            version.in_force_log_index = appended.index
            version.in_force_from = appended.logged_at
    return signature
