"""Evidence files: contracts, commissioning certificates, metered output.

The verification track's store is not reused: its files are stored by those who file or
investigate complaints, within the disputes' rules, and are released to the audience of the
cases they are attached to; a project's files are stored by whoever runs or decides its
milestones, within the commercial rules, and are released to the audience of the project
whose milestone they are put before. The store works the same way: a file is kept once by
its SHA-256, its entry holds the hash, size and type (never the bytes) and is released to
the storing organisation; storing the same file again is the first result.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, author_of
from fusioncell.commercial.entries import CommercialEntry
from fusioncell.commercial.events import EventKind, emit_commercial
from fusioncell.commercial.models import EvidenceFile, EvidenceHolder
from fusioncell.commercial.policy import may_store_evidence, require
from fusioncell.commercial.queries.evidence import find_file, find_holder
from fusioncell.commercial.queries.projects import rules_in_force
from fusioncell.db.transaction import atomic
from fusioncell.deescalation.queries import directory
from fusioncell.errors import InvalidInput, PayloadTooLarge
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.entries import audience
from fusioncell.ledger.record import record
from fusioncell.text import N_

_NOT_STORER = N_("Evidence is stored by a party's liaison officer, the supervisor or the verifier.")
_TOO_LARGE = N_("An evidence file may be at most %(limit)s bytes.")
_BAD_TYPE = N_("An evidence file is one of %(types)s.")
_NOT_THAT_TYPE = N_("The file's content is not of the type it names.")
_EMPTY = N_("The evidence file is empty.")

_MAGIC = {
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "application/pdf": b"%PDF-",
}


def _check_content(content: bytes, media_type: str) -> None:
    magic = _MAGIC.get(media_type)
    if magic is not None and not content.startswith(magic):
        raise InvalidInput(_NOT_THAT_TYPE, field="type")
    if media_type.startswith("text/"):
        try:
            content.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(_NOT_THAT_TYPE, field="type") from None


def do_store_evidence(
    db: Session, actor: Viewer, content: bytes, *, media_type: str, now: datetime
) -> EvidenceFile:
    require(actor, may_store_evidence(actor), _NOT_STORER)
    rules = rules_in_force(db)
    if len(content) > rules.max_evidence_bytes:
        limit = rules.max_evidence_bytes
        raise PayloadTooLarge(N_(_TOO_LARGE, limit=limit), limit=limit)
    kind = media_type.split(";", 1)[0].strip().lower()
    if kind not in rules.evidence_types:
        types = list(rules.evidence_types)
        raise InvalidInput(N_(_BAD_TYPE, types=", ".join(types)), field="type", types=types)
    if not content:
        raise InvalidInput(_EMPTY, field="file")
    _check_content(content, kind)
    sha256 = hashlib.sha256(content).hexdigest()
    own = directory(db, actor).by_id[actor.organisation_id]
    with atomic(db):
        existing = find_file(db, sha256)
        if existing is not None and find_holder(db, actor, sha256) is not None:
            return existing
        at = log_clock(db, now=now)
        appended = record(
            db,
            author_of(actor),
            CommercialEntry.EVIDENCE_STORED,
            {
                "sha256": sha256,
                "size": len(content),
                "type": existing.media_type if existing is not None else kind,
                "organisation": own.slug,
                "member": str(actor.member_id),
                "released_to": [own.slug],
            },
            audience=audience(organisations=[own.id]),
            now=at,
        )
        if existing is None:
            existing = EvidenceFile(
                sha256=sha256, media_type=kind, size=len(content), content=content
            )
            db.add(existing)
            db.flush()
        db.add(
            EvidenceHolder(
                sha256=sha256,
                organisation_id=own.id,
                member_id=actor.member_id,
                log_index=appended.index,
                stored_at=appended.logged_at,
            )
        )
        emit_commercial(
            db,
            EventKind.EVIDENCE,
            subject=sha256,
            log_index=appended.index,
            payload={"sha256": sha256},
            now=at,
        )
    return existing
