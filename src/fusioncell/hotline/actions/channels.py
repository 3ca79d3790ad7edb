from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from fusioncell.cell.models import Organisation, OrganisationKind
from fusioncell.cell.policy import Permission, Viewer, author_of, require
from fusioncell.db.transaction import atomic
from fusioncell.errors import NotFound
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.hotline.models import Channel, ChannelKind, ChannelMember
from fusioncell.ledger.entries import audience
from fusioncell.ledger.record import record

_NS = uuid.UUID("3d6e2f7a-9a51-4b8e-b0f4-6f3c2a1d7e55")
CELL_CHANNEL_ID = uuid.uuid5(_NS, "cell")


def bilateral_channel_id(party_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(_NS, f"bilateral/{party_id}")


def _open(
    db: Session,
    actor: Viewer,
    *,
    channel_id: uuid.UUID,
    kind: ChannelKind,
    name: str,
    party_id: uuid.UUID | None,
    members: list[tuple[Organisation, bool]],
    now: datetime,
) -> None:
    if db.get(Channel, channel_id) is not None:
        return
    db.add(Channel(id=channel_id, kind=kind.value, name=name, party_id=party_id, created_at=now))
    db.flush()
    for organisation, acknowledges in members:
        db.add(
            ChannelMember(
                channel_id=channel_id, organisation_id=organisation.id, acknowledges=acknowledges
            )
        )
    record(
        db,
        author_of(actor),
        HotlineEntry.CHANNEL_OPENED,
        {
            "channel": str(channel_id),
            "kind": kind.value,
            "name": name,
            "members": sorted(
                [{"organisation": o.slug, "acknowledges": ack} for o, ack in members],
                key=lambda m: str(m["organisation"]),
            ),
        },
        audience=audience(organisations=[o.id for o, _ack in members]),
        now=now,
    )


def do_open_channels(
    db: Session,
    actor: Viewer,
    *,
    observers: Sequence[str] = (),
    now: datetime,
) -> None:
    """Open the cell-wide channel and one bilateral channel per party, each with the supervisor.

    No channel excludes the supervisor. Observers (host, humanitarian organisations) join
    only the channels they are named for; ``observers`` lists those for the cell channel.
    """
    require(actor, Permission.CHANNEL_OPEN)
    with atomic(db):
        organisations = db.scalars(select(Organisation).order_by(Organisation.slug)).all()
        parties = [o for o in organisations if o.kind == OrganisationKind.PARTY]
        supervisors = [o for o in organisations if o.kind == OrganisationKind.SUPERVISOR]
        verifiers = [o for o in organisations if o.kind == OrganisationKind.VERIFIER]
        if not supervisors:
            raise NotFound("the cell has no supervising organisation")
        named = [o for o in organisations if o.slug in {s.upper() for s in observers}]
        cell_members = [
            *((p, True) for p in parties),
            *((s, False) for s in supervisors),
            *((v, False) for v in verifiers),
            *((o, False) for o in named if o not in parties + supervisors + verifiers),
        ]
        _open(
            db,
            actor,
            channel_id=CELL_CHANNEL_ID,
            kind=ChannelKind.CELL,
            name="Cell",
            party_id=None,
            members=cell_members,
            now=now,
        )
        for party in parties:
            _open(
                db,
                actor,
                channel_id=bilateral_channel_id(party.id),
                kind=ChannelKind.BILATERAL,
                name=f"{party.slug} / {supervisors[0].slug}",
                party_id=party.id,
                members=[(party, True), *((s, False) for s in supervisors)],
                now=now,
            )
