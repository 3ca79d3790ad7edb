"""REST routes of the diplomatic track (``/api/v1/agreements``, ``/api/v1/milestones``).
Every read goes through ``diplomacy.queries``; every change is an action, idempotent by the
client's ``id`` (or an ``Idempotency-Key``); every refusal is problem+json with nothing
written."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query

from fusioncell.cell.policy import Viewer
from fusioncell.deescalation.queries import directory
from fusioncell.diplomacy import present
from fusioncell.diplomacy.actions import agreements, assessment
from fusioncell.diplomacy.policy import may_read, may_sign, require
from fusioncell.diplomacy.queries import agreements as queries
from fusioncell.diplomacy.schemas import (
    AgreementIn,
    AgreementOut,
    AmendmentIn,
    AssessmentIn,
    CommentIn,
    CommitmentIn,
    MilestoneDetailOut,
    MilestoneOut,
    SignatureOut,
    SignIn,
    StepIn,
)
from fusioncell.errors import NotFound
from fusioncell.idempotency import resolve_id
from fusioncell.web.deps import AppClock, CurrentViewer, Db

router = APIRouter(tags=["diplomacy"])
IdempotencyKey = Annotated[str | None, Header(max_length=200)]
_READ = "this needs the permission to read the diplomatic track"
_NOT_SIGNER = "a party's liaison officer or the supervisor signs agreements"


def _id(viewer: Viewer, given: uuid.UUID | None, key: str | None, scope: str) -> uuid.UUID:
    return resolve_id(viewer, given, key, scope=f"diplomacy-{scope}")


def _commitments(given: list[CommitmentIn]) -> list[dict[str, Any]]:
    return [c.model_dump(mode="python") for c in given]


def _agreement(db: Db, viewer: Viewer, agreement_id: uuid.UUID, clock: AppClock) -> AgreementOut:
    found = queries.get_agreement(db, viewer, agreement_id)
    return present.agreements_out(db, viewer, [found], now=clock.now())[0]


@router.post("/api/v1/agreements", response_model=AgreementOut, status_code=201)
def propose_agreement(
    body: AgreementIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> AgreementOut:
    """Propose an agreement: ``title``, ``text``, ``parties`` (two or more), ``date`` and its
    ``commitments`` (who owes what to whom by when, in milestones). The content, commitments
    included, is hashed (SHA-256 of its RFC 8785 form): every party's liaison officer and the
    supervisor sign that hash, and the agreement is in force once all have."""
    version = agreements.do_propose_agreement(
        db,
        viewer,
        agreement_id=_id(viewer, body.id, idempotency_key, "agreement"),
        title=body.title,
        text=body.text,
        parties=body.parties,
        dated=body.date,
        commitments=_commitments(body.commitments),
        now=clock.now(),
    )
    return _agreement(db, viewer, version.agreement_id, clock)


@router.get("/api/v1/agreements", response_model=list[AgreementOut])
def list_agreements(
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AgreementOut]:
    """The agreements the viewer reads, the latest proposed first."""
    require(viewer, may_read(viewer), _READ)
    found = queries.list_agreements(db, viewer, limit=limit)
    return present.agreements_out(db, viewer, found, now=clock.now())


@router.get("/api/v1/agreements/{agreement_id}", response_model=AgreementOut)
def get_agreement(
    agreement_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> AgreementOut:
    """The agreement: every version with its content hash and signatures, and the
    commitments and milestones of the version in force."""
    return _agreement(db, viewer, agreement_id, clock)


@router.post(
    "/api/v1/agreements/{agreement_id}/amendments", response_model=AgreementOut, status_code=201
)
def propose_amendment(
    agreement_id: uuid.UUID,
    body: AmendmentIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> AgreementOut:
    """A new version (the whole content); a milestone marked ``waived`` is waived once every
    signatory has signed it."""
    agreements.do_propose_amendment(
        db,
        viewer,
        agreement_id,
        amendment_id=_id(viewer, body.id, idempotency_key, f"amendment-{agreement_id}"),
        title=body.title,
        text=body.text,
        dated=body.date,
        commitments=_commitments(body.commitments),
        now=clock.now(),
    )
    return _agreement(db, viewer, agreement_id, clock)


@router.post(
    "/api/v1/agreements/{agreement_id}/versions/{number}/signatures",
    response_model=SignatureOut,
    status_code=201,
)
def sign_version(
    agreement_id: uuid.UUID,
    number: Annotated[int, Path(ge=1, le=1_000_000)],
    body: SignIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
) -> SignatureOut:
    """Sign version ``number``'s ``content_hash`` for your organisation (signed by the server
    with your custodial key, or by your own key in the entry header: ``fusioncell agreements
    sign``). A hash that is not the version's is refused (422); signing again returns the
    first signature."""
    require(viewer, may_sign(viewer), _NOT_SIGNER)
    agreement = queries.get_agreement(db, viewer, agreement_id)
    version = next((v for v in queries.versions_of(db, [agreement.id]) if v.number == number), None)
    if version is None:
        raise NotFound(f"no version {number} of agreement {agreement_id}")
    signature = agreements.do_sign_version(
        db, viewer, version.id, content_hash=body.content_hash, now=clock.now()
    )
    return SignatureOut(
        organisation=directory(db, viewer).by_id[signature.organisation_id].slug,
        content_hash=signature.content_hash,
        log_index=signature.log_index,
        signed_at=signature.signed_at,
    )


@router.get("/api/v1/milestones", response_model=list[MilestoneOut])
def list_milestones(
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    state: Annotated[str | None, Query(max_length=16)] = None,
) -> list[MilestoneOut]:
    """Milestones of the agreements in force that the viewer reads, the soonest due first."""
    require(viewer, may_read(viewer), _READ)
    found = queries.list_milestones(db, viewer, state=state)
    keys = {c.id: c.key for c in queries.commitments_of(db, list({m.agreement_id for m in found}))}
    return [present.milestone_out(m, keys[m.commitment_id], now=clock.now()) for m in found]


def _milestone(
    db: Db, viewer: Viewer, milestone_id: uuid.UUID, clock: AppClock
) -> MilestoneDetailOut:
    found = queries.get_milestone(db, viewer, milestone_id)
    return present.milestone_detail(db, viewer, found, now=clock.now())


@router.get("/api/v1/milestones/{milestone}", response_model=MilestoneDetailOut)
def get_milestone(
    milestone: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> MilestoneDetailOut:
    """The milestone with its assessment, the engine's result beside it, and the comments
    (sealed to the other parties until the window closes)."""
    return _milestone(db, viewer, milestone, clock)


@router.post("/api/v1/milestones/{milestone}/verification", response_model=MilestoneDetailOut)
def request_verification(
    milestone: uuid.UUID,
    body: StepIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> MilestoneDetailOut:
    """Put a due milestone to verification: it opens the comment window for every party."""
    assessment.do_request_verification(
        db,
        viewer,
        milestone,
        step_id=_id(viewer, body.id, idempotency_key, f"verification-{milestone}"),
        now=clock.now(),
    )
    return _milestone(db, viewer, milestone, clock)


@router.post(
    "/api/v1/milestones/{milestone}/comments", response_model=MilestoneDetailOut, status_code=201
)
def comment(
    milestone: uuid.UUID,
    body: CommentIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> MilestoneDetailOut:
    """A party's comment, once, while the window is open; sealed until it closes."""
    assessment.do_comment_on_milestone(
        db,
        viewer,
        milestone,
        comment_id=_id(viewer, body.id, idempotency_key, f"comment-{milestone}"),
        comment=body.comment,
        now=clock.now(),
    )
    return _milestone(db, viewer, milestone, clock)


@router.post("/api/v1/milestones/{milestone}/assessment", response_model=MilestoneDetailOut)
def assess(
    milestone: uuid.UUID,
    body: AssessmentIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> MilestoneDetailOut:
    """``met``, ``partially_met``, ``breached`` or ``not_verifiable``, with ``reasons`` and the
    ``evidence`` cited (required); once the window has closed, never before the due date."""
    assessment.do_assess_milestone(
        db,
        viewer,
        milestone,
        step_id=_id(viewer, body.id, idempotency_key, f"assessment-{milestone}"),
        outcome=body.outcome,
        reasons=body.reasons,
        evidence=[e.model_dump() for e in body.evidence],
        now=clock.now(),
    )
    return _milestone(db, viewer, milestone, clock)
