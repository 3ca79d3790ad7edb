"""Agreements and milestones as the API shows them, read in a constant number of
statements for any number of agreements."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deescalation.queries import Directory, directory
from fusioncell.diplomacy.actions.common import released_to
from fusioncell.diplomacy.models import Agreement, Milestone, MilestoneState
from fusioncell.diplomacy.queries import agreements as q
from fusioncell.diplomacy.schemas import (
    AgreementOut,
    CommentOut,
    CommitmentOut,
    MilestoneDetailOut,
    MilestoneOut,
    SignatureOut,
    VersionOut,
)


def status(milestone: Milestone, now: datetime) -> str:
    if milestone.state == MilestoneState.OPEN and milestone.due_at <= now:
        return "due"
    return milestone.state


def milestone_out(milestone: Milestone, commitment: str, *, now: datetime) -> MilestoneOut:
    return MilestoneOut(
        id=milestone.id,
        agreement=milestone.agreement_id,
        commitment=commitment,
        key=milestone.key,
        title=milestone.title,
        due_at=milestone.due_at,
        geometry=milestone.geometry,
        verification=milestone.verification,
        status=status(milestone, now),
        requested_at=milestone.requested_at,
        comments_close_at=milestone.comments_close_at,
        outcome=milestone.outcome,
        reasons=milestone.reasons,
        evidence=milestone.evidence,
        engine_result=milestone.engine_result,
        assessed_at=milestone.assessed_at,
        assessed_index=milestone.assessed_index,
    )


def milestone_detail(
    db: Session, viewer: Viewer, milestone: Milestone, *, now: datetime
) -> MilestoneDetailOut:
    dir_ = directory(db, viewer)
    key = next(
        c.key
        for c in q.commitments_of(db, [milestone.agreement_id])
        if c.id == milestone.commitment_id
    )
    return MilestoneDetailOut(
        **milestone_out(milestone, key, now=now).model_dump(),
        comments=[
            CommentOut(
                id=v.comment.id,
                party=_slug(dir_, v.comment.organisation_id),
                commitment=v.comment.commitment,
                log_index=v.comment.log_index,
                sealed_at=v.comment.sealed_at,
                sealed=v.sealed,
                text=v.text,
                revealed_index=v.comment.revealed_index,
            )
            for v in q.comments_of(db, viewer, milestone)
        ],
    )


def _slug(dir_: Directory, organisation_id: object) -> str:
    found = dir_.by_id.get(organisation_id)  # type: ignore[call-overload]
    return found.slug if found is not None else str(organisation_id)


def agreements_out(
    db: Session, viewer: Viewer, agreements: Sequence[Agreement], *, now: datetime
) -> list[AgreementOut]:
    dir_ = directory(db, viewer)
    ids = [a.id for a in agreements]
    versions = defaultdict(list)
    for v in q.versions_of(db, ids):
        versions[v.agreement_id].append(v)
    signatures = defaultdict(list)
    for s in q.signatures_of(db, [v.id for vs in versions.values() for v in vs]):
        signatures[s.version_id].append(s)
    milestones = defaultdict(list)
    for m in q.milestones_of(db, ids):
        milestones[m.commitment_id].append(m)
    commitments = defaultdict(list)
    for c in q.commitments_of(db, ids):
        commitments[c.agreement_id].append(
            CommitmentOut(
                id=c.id,
                key=c.key,
                debtor=_slug(dir_, c.debtor_id),
                beneficiaries=c.beneficiaries,
                obligation=c.obligation,
                ends_at=c.ends_at,
                version=c.version_number,
                withdrawn=c.withdrawn,
                milestones=[milestone_out(m, c.key, now=now) for m in milestones[c.id]],
            )
        )
    found = []
    for a in agreements:
        mine = versions[a.id]
        shown = next((v for v in mine if v.number == a.in_force_number), mine[0])
        found.append(
            AgreementOut(
                id=a.id,
                number=a.number,
                title=shown.content["title"],
                parties=shown.content["parties"],
                date=shown.content["date"],
                released_to=released_to(dir_, list(shown.content["parties"])),
                log_index=a.log_index,
                proposed_at=a.proposed_at,
                in_force_version=a.in_force_number,
                in_force_from=a.in_force_from,
                versions=[
                    VersionOut(
                        id=v.id,
                        number=v.number,
                        content=v.content,
                        content_hash=v.content_hash,
                        signatories=v.signatories,
                        signatures=[
                            SignatureOut(
                                organisation=_slug(dir_, s.organisation_id),
                                content_hash=s.content_hash,
                                log_index=s.log_index,
                                signed_at=s.signed_at,
                            )
                            for s in signatures[v.id]
                        ],
                        awaiting=sorted(
                            set(v.signatories)
                            - {_slug(dir_, s.organisation_id) for s in signatures[v.id]}
                        ),
                        log_index=v.log_index,
                        proposed_at=v.proposed_at,
                        in_force_from=v.in_force_from,
                    )
                    for v in mine
                ],
                commitments=commitments[a.id],
            )
        )
    return found
