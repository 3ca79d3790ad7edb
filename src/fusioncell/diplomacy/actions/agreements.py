"""Agreements, amendments and signatures (issue 14, item 1).

- A party's liaison officer or the supervisor proposes an agreement (its first version) or
  an amendment (a later version: a new text, new or changed commitments, a milestone
  waived). Each version's content, commitments included, is hashed (``content``).
- Each party's liaison officer and the supervisor sign the version's content hash; a hash
  that is not the version's is refused, and signing again returns the first signature.
- The signature that completes the signatories puts the version in force from its log
  time: its commitments and milestones become the agreement's (a milestone left out is
  withdrawn, one marked waived is waived; an assessed milestone keeps its assessment).
  A version older than the one in force can no longer be signed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer, author_of
from fusioncell.db.transaction import atomic
from fusioncell.deescalation.queries import Directory, directory
from fusioncell.diplomacy import content as c
from fusioncell.diplomacy.actions.common import released_to
from fusioncell.diplomacy.entries import DiplomacyEntry as E
from fusioncell.diplomacy.events import EventKind, emit_diplomacy
from fusioncell.diplomacy.models import (
    Agreement,
    AgreementParty,
    AgreementVersion,
    Commitment,
    Milestone,
    MilestoneState,
    Signature,
)
from fusioncell.diplomacy.policy import may_propose, may_sign, require
from fusioncell.diplomacy.queries import agreements as q
from fusioncell.errors import Conflict, Forbidden, IdempotencyConflict, InvalidInput
from fusioncell.ledger.append import log_clock
from fusioncell.ledger.entries import audience, parse_log_time
from fusioncell.ledger.record import record
from fusioncell.text import N_

_NOT_PROPOSER = N_("A party's liaison officer or the supervisor proposes agreements.")
_NOT_SIGNER = N_("A party's liaison officer or the supervisor signs agreements.")
_NOT_SIGNATORY = N_("Your organisation is not a signatory of this agreement.")
_NOT_PARTY = N_("A party proposes only agreements it is a party to.")
_OTHER_HASH = N_("This is not the content hash of this version: nothing was signed.")
_SUPERSEDED = N_("A later version of this agreement is in force: this one can no longer be signed.")
_SAME_PARTIES = N_("An amendment keeps the agreement's parties.")
_NO_SUPERVISOR = N_("The cell has no supervisor to sign agreements.")


def signatories(dir_: Directory, parties: list[str]) -> list[str]:
    return sorted(set(parties) | {o.slug for o in dir_.supervisors()})


def _check_proposer(actor: Viewer, dir_: Directory, parties: list[str]) -> None:
    own = dir_.by_id[actor.organisation_id].slug
    if own in dir_.parties() and own not in parties:
        raise Forbidden(_NOT_PARTY)
    if not dir_.supervisors():
        raise Conflict(_NO_SUPERVISOR)


def _audience(dir_: Directory, readers: list[str]) -> dict[str, Any]:
    return audience(organisations=[dir_.by_slug[s].id for s in readers])


def _insert_version(
    db: Session,
    actor: Viewer,
    dir_: Directory,
    agreement: Agreement,
    *,
    version_id: uuid.UUID,
    client_id: uuid.UUID,
    content: dict[str, Any],
    kind: E,
    at: datetime,
) -> AgreementVersion:
    digest = c.content_hash(content)
    readers = released_to(dir_, content["parties"])
    appended = record(
        db,
        author_of(actor),
        kind,
        {
            "agreement": str(agreement.id),
            "number": agreement.number,
            "version": str(version_id),
            "content": content,
            "content_hash": digest,
            "signatories": signatories(dir_, content["parties"]),
            "organisation": dir_.by_id[actor.organisation_id].slug,
            "member": str(actor.member_id),
            "released_to": readers,
        },
        audience=_audience(dir_, readers),
        now=at,
    )
    if kind == E.AGREEMENT_PROPOSED:
        agreement.log_index, agreement.proposed_at = appended.index, appended.logged_at
        db.add(agreement)
        db.flush()
        for slug in content["parties"]:
            db.add(AgreementParty(agreement_id=agreement.id, organisation_id=dir_.by_slug[slug].id))
    version = AgreementVersion(
        id=version_id,
        agreement_id=agreement.id,
        number=content["version"],
        proposed_by=actor.member_id,
        client_id=client_id,
        content=content,
        content_hash=digest,
        signatories=signatories(dir_, content["parties"]),
        log_index=appended.index,
        proposed_at=appended.logged_at,
    )
    db.add(version)
    emit_diplomacy(
        db,
        EventKind.AGREEMENT,
        subject=str(agreement.id),
        log_index=appended.index,
        payload={"agreement": str(agreement.id), "version": content["version"], "step": kind.value},
        now=at,
    )
    return version


def _same(earlier: AgreementVersion, content: dict[str, Any]) -> AgreementVersion:
    if c.content_hash(content) != earlier.content_hash:
        raise IdempotencyConflict(id=str(earlier.client_id))
    return earlier


def do_propose_agreement(
    db: Session,
    actor: Viewer,
    *,
    agreement_id: uuid.UUID,
    title: str,
    text: str,
    parties: list[str],
    dated: Any,
    commitments: list[dict[str, Any]],
    now: datetime,
) -> AgreementVersion:
    """An agreement's first version; a retry with the same id and content returns it."""
    require(actor, may_propose(actor), _NOT_PROPOSER)
    dir_ = directory(db, actor)
    content = c.build_content(
        agreement_id=agreement_id,
        number=1,
        title=title,
        text=text,
        parties=parties,
        dated=dated,
        commitments=commitments,
        cell_parties=dir_.parties(),
        rules=q.rules_in_force(db),
    )
    _check_proposer(actor, dir_, content["parties"])
    with atomic(db):
        at = log_clock(db, now=now)
        if (earlier := q.find_own_version(db, actor.member_id, agreement_id)) is not None:
            return _same(earlier, content)
        if q.id_taken(db, agreement_id):
            raise IdempotencyConflict(id=str(agreement_id))
        agreement = Agreement(
            id=agreement_id,
            number=q.next_number(db),
            proposed_by=actor.member_id,
        )
        return _insert_version(
            db,
            actor,
            dir_,
            agreement,
            version_id=c.first_version_id(agreement_id),
            client_id=agreement_id,
            content=content,
            kind=E.AGREEMENT_PROPOSED,
            at=at,
        )


def do_propose_amendment(
    db: Session,
    actor: Viewer,
    agreement_id: uuid.UUID,
    *,
    amendment_id: uuid.UUID,
    title: str,
    text: str,
    dated: Any,
    commitments: list[dict[str, Any]],
    now: datetime,
) -> AgreementVersion:
    """A later version: the whole new content (a waiver is a milestone marked ``waived``).
    It comes into force, as the first did, once every signatory has signed it."""
    require(actor, may_propose(actor), _NOT_PROPOSER)
    agreement = q.get_agreement(db, actor, agreement_id)
    dir_ = directory(db, actor)
    parties = sorted(dir_.by_id[o].slug for o in q.parties_of(db, agreement.id))
    _check_proposer(actor, dir_, parties)
    rules = q.rules_in_force(db)
    with atomic(db):
        at = log_clock(db, now=now)
        earlier = q.find_own_version(db, actor.member_id, amendment_id)
        number = earlier.number if earlier is not None else q.next_version_number(db, agreement.id)
        content = c.build_content(
            agreement_id=agreement.id,
            number=number,
            title=title,
            text=text,
            parties=parties,
            dated=dated,
            commitments=commitments,
            cell_parties=dir_.parties(),
            rules=rules,
        )
        if earlier is not None:
            if earlier.agreement_id != agreement.id:
                raise IdempotencyConflict(id=str(amendment_id))
            return _same(earlier, content)
        if q.id_taken(db, amendment_id):
            raise IdempotencyConflict(id=str(amendment_id))
        return _insert_version(
            db,
            actor,
            dir_,
            q.agreement_for_update(db, agreement.id),
            version_id=amendment_id,
            client_id=amendment_id,
            content=content,
            kind=E.AMENDMENT_PROPOSED,
            at=at,
        )


def do_sign_version(
    db: Session,
    actor: Viewer,
    version_id: uuid.UUID,
    *,
    content_hash: str,
    now: datetime,
) -> Signature:
    """Sign a version's content hash for the actor's organisation; the signature that
    completes the signatories puts the version in force. Signing again returns the
    organisation's first signature."""
    require(actor, may_sign(actor), _NOT_SIGNER)
    version = q.get_version(db, actor, version_id)
    dir_ = directory(db, actor)
    own = dir_.by_id[actor.organisation_id].slug
    if own not in version.signatories:
        raise Forbidden(_NOT_SIGNATORY)
    if content_hash != version.content_hash:
        raise InvalidInput(_OTHER_HASH, field="content_hash", content_hash=version.content_hash)
    with atomic(db):
        at = log_clock(db, now=now)
        agreement = q.agreement_for_update(db, version.agreement_id)
        signatures = q.signatures_of(db, [version.id])
        for earlier in signatures:
            if earlier.organisation_id == actor.organisation_id:
                return earlier
        if (agreement.in_force_number or 0) >= version.number:
            raise Conflict(_SUPERSEDED, in_force=agreement.in_force_number)
        readers = released_to(dir_, list(version.content["parties"]))
        appended = record(
            db,
            author_of(actor),
            E.VERSION_SIGNED,
            c.signature_body(
                agreement_id=version.agreement_id,
                version_id=version.id,
                number=version.number,
                digest=version.content_hash,
                organisation=own,
                member_id=actor.member_id,
                readers=readers,
            ),
            audience=_audience(dir_, readers),
            now=at,
        )
        signature = Signature(
            version_id=version.id,
            organisation_id=actor.organisation_id,
            member_id=actor.member_id,
            content_hash=version.content_hash,
            log_index=appended.index,
            signed_at=appended.logged_at,
        )
        db.add(signature)
        signed = {dir_.by_id[s.organisation_id].slug for s in signatures} | {own}
        if set(version.signatories) <= signed:
            version.in_force_index, version.in_force_from = appended.index, appended.logged_at
            agreement.in_force_number, agreement.in_force_from = version.number, appended.logged_at
            bring_into_force(db, dir_, agreement, version)
        emit_diplomacy(
            db,
            EventKind.AGREEMENT,
            subject=str(agreement.id),
            log_index=appended.index,
            payload={
                "agreement": str(agreement.id),
                "version": version.number,
                "step": E.VERSION_SIGNED.value,
                "in_force": version.in_force_index is not None,
            },
            now=at,
        )
    return signature


def bring_into_force(
    db: Session, dir_: Directory, agreement: Agreement, version: AgreementVersion
) -> None:
    """The version's commitments and milestones become the agreement's."""
    existing = {x.key: x for x in q.commitments_of(db, [agreement.id])}
    milestones = {(m.commitment_id, m.key): m for m in q.milestones_of(db, [agreement.id])}
    kept: set[uuid.UUID] = set()
    for given in version.content["commitments"]:
        cid = c.commitment_id(agreement.id, given["key"])
        row = existing.get(given["key"])
        if row is None:
            row = Commitment(id=cid, agreement_id=agreement.id, key=given["key"])
            db.add(row)
        row.debtor_id = dir_.by_slug[given["debtor"]].id
        row.beneficiaries = list(given["beneficiaries"])
        row.obligation = given["obligation"]
        row.ends_at = parse_log_time(given["ends_at"])
        row.version_number = version.number
        row.withdrawn = False
        db.flush()
        for m in given["milestones"]:
            mid = c.milestone_id(agreement.id, given["key"], m["key"])
            kept.add(mid)
            found = milestones.get((cid, m["key"]))
            if found is None:
                found = Milestone(
                    id=mid,
                    commitment_id=cid,
                    agreement_id=agreement.id,
                    key=m["key"],
                    state=MilestoneState.OPEN,
                )
                db.add(found)
            if found.state == MilestoneState.ASSESSED:
                continue
            found.title, found.due_at = m["title"], parse_log_time(m["due_at"])
            found.geometry, found.verification = m["geometry"], m["verification"]
            if m["waived"]:
                found.state = MilestoneState.WAIVED
            elif found.state in (MilestoneState.WAIVED, MilestoneState.WITHDRAWN):
                found.state = MilestoneState.OPEN
    keys = {given["key"] for given in version.content["commitments"]}
    for key, row in existing.items():
        if key not in keys:
            row.withdrawn = True
    for m in milestones.values():
        if m.id not in kept and m.state != MilestoneState.ASSESSED:
            m.state = MilestoneState.WITHDRAWN
