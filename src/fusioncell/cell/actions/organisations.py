from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncell.cell.entries import CellEntry
from fusioncell.cell.models import Organisation, OrganisationKind
from fusioncell.cell.policy import Permission, Viewer, author_of, require
from fusioncell.db.transaction import atomic
from fusioncell.errors import Conflict, IdempotencyConflict, InvalidInput
from fusioncell.ledger.entries import EVERYONE
from fusioncell.ledger.record import record

SLUG_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")


def do_create_organisation(
    db: Session,
    actor: Viewer,
    *,
    organisation_id: uuid.UUID,
    slug: str,
    name: str,
    kind: OrganisationKind,
    now: datetime,
) -> Organisation:
    require(actor, Permission.MEMBER_CREATE)
    slug = slug.strip().upper()
    if not slug or not set(slug) <= SLUG_CHARS or len(slug) > 32:
        raise InvalidInput("an organisation's short name is 1-32 of A-Z, 0-9 and '-'")
    name = name.strip()
    if not name:
        raise InvalidInput("an organisation needs a name")
    with atomic(db):
        if (earlier := db.get(Organisation, organisation_id)) is not None:
            if (earlier.slug, earlier.name, earlier.kind) != (slug, name, kind.value):
                raise IdempotencyConflict(organisation_id=str(organisation_id))
            return earlier
        if db.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
            raise Conflict(f"an organisation {slug} already exists", slug=slug)
        organisation = Organisation(
            id=organisation_id, slug=slug, name=name, kind=kind.value, created_at=now
        )
        db.add(organisation)
        record(
            db,
            author_of(actor),
            CellEntry.ORGANISATION_CREATED,
            {
                "organisation": str(organisation_id),
                "slug": slug,
                "name": organisation.name,
                "kind": kind.value,
            },
            audience=EVERYONE,
            now=now,
        )
    return organisation
