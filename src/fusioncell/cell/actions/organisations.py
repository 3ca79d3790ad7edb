"""Organisations: created once, each with a short name, a name, and that name in the other
languages offered (``names``), all in its signed ``cell.organisation.created`` entry. An entry
without ``names`` (every one written before they existed) is an organisation with one name."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncell.cell.entries import CellEntry
from fusioncell.cell.models import Organisation, OrganisationKind
from fusioncell.cell.policy import Permission, Viewer, author_of, require
from fusioncell.db.transaction import atomic
from fusioncell.errors import Conflict, IdempotencyConflict, InvalidInput
from fusioncell.i18n import LANGUAGES
from fusioncell.ledger.entries import EVERYONE
from fusioncell.ledger.record import record
from fusioncell.text import N_

SLUG_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
NAME_CHARS = 200


def do_create_organisation(
    db: Session,
    actor: Viewer,
    *,
    organisation_id: uuid.UUID,
    slug: str,
    name: str,
    kind: OrganisationKind,
    now: datetime,
    names: Mapping[str, str] | None = None,
) -> Organisation:
    """``names``: the name by language code, of the languages offered; an empty one is left
    out, and the organisation's ``name`` stands for every language not given."""
    require(actor, Permission.MEMBER_CREATE)
    slug = slug.strip().upper()
    if not slug or not set(slug) <= SLUG_CHARS or len(slug) > 32:
        raise InvalidInput(N_("an organisation's short name is 1-32 of A-Z, 0-9 and '-'"))
    name = name.strip()
    if not name:
        raise InvalidInput(N_("an organisation needs a name"))
    if len(name) > NAME_CHARS:
        raise InvalidInput(
            N_("an organisation's name is at most %(limit)s characters", limit=NAME_CHARS)
        )
    by_language = _names(names or {})
    with atomic(db):
        if (earlier := db.get(Organisation, organisation_id)) is not None:
            if (earlier.slug, earlier.name, earlier.kind, earlier.names) != (
                slug,
                name,
                kind.value,
                by_language,
            ):
                raise IdempotencyConflict(organisation_id=str(organisation_id))
            return earlier
        if db.scalar(select(Organisation.id).where(Organisation.slug == slug)) is not None:
            raise Conflict(N_("an organisation %(slug)s already exists", slug=slug), slug=slug)
        organisation = Organisation(
            id=organisation_id,
            slug=slug,
            name=name,
            names=by_language,
            kind=kind.value,
            created_at=now,
        )
        db.add(organisation)
        body: dict[str, object] = {
            "organisation": str(organisation_id),
            "slug": slug,
            "name": organisation.name,
            "kind": kind.value,
        }
        if by_language:
            body["names"] = by_language
        record(
            db,
            author_of(actor),
            CellEntry.ORGANISATION_CREATED,
            body,
            audience=EVERYONE,
            now=now,
        )
    return organisation


def _names(names: Mapping[str, str]) -> dict[str, str]:
    """The names by language, trimmed, the empty ones left out, in a stable order."""
    kept: dict[str, str] = {}
    for language in sorted(names):
        if language not in LANGUAGES:
            raise InvalidInput(
                N_(
                    "an organisation's name is given in %(language)s, which is not offered",
                    language=language,
                ),
                offered=list(LANGUAGES),
            )
        value = str(names[language]).strip()
        if len(value) > NAME_CHARS:
            raise InvalidInput(
                N_("an organisation's name is at most %(limit)s characters", limit=NAME_CHARS)
            )
        if value:
            kept[language] = value
    return kept
