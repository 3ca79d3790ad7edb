"""REST routes of the commercial track (``/api/v1/projects``). Every read goes through
``commercial.queries``; every change is an action, idempotent by the client's ``id`` (or an
``Idempotency-Key``); every refusal is problem+json with nothing written."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import Response

from fusioncell.cell.policy import Viewer
from fusioncell.commercial import present
from fusioncell.commercial.actions import milestones as milestone_actions
from fusioncell.commercial.actions import projects as project_actions
from fusioncell.commercial.actions import shipments as shipment_actions
from fusioncell.commercial.actions.evidence import do_store_evidence
from fusioncell.commercial.policy import may_read, may_store_evidence, require
from fusioncell.commercial.queries import projects as queries
from fusioncell.commercial.queries.evidence import get_evidence
from fusioncell.commercial.queries.stats import METHOD, statistics
from fusioncell.commercial.schemas import (
    SHA256,
    AttachIn,
    DecisionIn,
    DeclareShipmentIn,
    EvidenceOut,
    MilestoneIn,
    NoteIn,
    ProjectDetailOut,
    ProjectOut,
    ProposeProjectIn,
    RefusalIn,
    ShipmentOut,
    StatisticsOut,
    StatusIn,
)
from fusioncell.deescalation.queries import directory
from fusioncell.idempotency import resolve_id
from fusioncell.text import N_
from fusioncell.web.deps import AppClock, CurrentViewer, Db

router = APIRouter(prefix="/api/v1/projects", tags=["commercial"])
IdempotencyKey = Annotated[str | None, Header(max_length=200)]
_READ = "this needs the permission commercial:project:read"
_NOT_STORER = N_("Evidence is stored by a party's liaison officer, the supervisor or the verifier.")
EVIDENCE_TYPES = ("application/pdf", "text/plain", "text/csv", "image/jpeg", "image/png")


def _id(viewer: Viewer, given: uuid.UUID | None, key: str | None, scope: str) -> uuid.UUID:
    return resolve_id(viewer, given, key, scope=f"commercial-{scope}")


def _detail(db: Db, viewer: Viewer, project_id: uuid.UUID) -> ProjectDetailOut:
    return present.project_detail(db, viewer, queries.get_project(db, viewer, project_id))


def _shipment(db: Db, viewer: Viewer, project_id: uuid.UUID, shipment_id: uuid.UUID) -> ShipmentOut:
    shipment = queries.get_shipment(db, viewer, project_id, shipment_id)
    return present.shipment_out(directory(db, viewer), shipment)


@router.post("", response_model=ProjectDetailOut, status_code=201)
def propose_project(
    body: ProposeProjectIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> ProjectDetailOut:
    """Propose a project: ``name``, ``description``, ``party`` (a liaison officer's own when
    left out), ``sponsors``, ``financing`` (organisations other than the parties),
    ``locations`` (each a ``name`` and an RFC 7946 ``geometry``), ``starts_on``, ``ends_on``.
    Released to both parties, the supervisor, the verifier and the financing organisations."""
    project = project_actions.do_propose_project(
        db,
        viewer,
        project_id=_id(viewer, body.id, idempotency_key, "project"),
        name=body.name,
        description=body.description,
        party=body.party,
        sponsors=body.sponsors,
        financing=body.financing,
        locations=[location.model_dump() for location in body.locations],
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        now=clock.now(),
    )
    return _detail(db, viewer, project.id)


@router.get("", response_model=list[ProjectOut])
def list_projects(
    viewer: CurrentViewer,
    db: Db,
    status: Annotated[str | None, Query(max_length=16)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ProjectOut]:
    """The projects released to the viewer's organisation, the latest proposed first."""
    require(viewer, may_read(viewer), _READ)
    found = list(queries.list_projects(db, viewer, status=status, limit=limit))
    return present.projects_out(db, viewer, found)


@router.get("/stats", response_model=StatisticsOut)
def stats(viewer: CurrentViewer, db: Db) -> StatisticsOut:
    """R13: the same figures for every party, by one method."""
    require(viewer, may_read(viewer), _READ)
    return StatisticsOut.model_validate(
        {"method": METHOD, "parties": [asdict(s) for s in statistics(db, viewer)]}
    )


# -- evidence -------------------------------------------------------------------------------

EVIDENCE_BODY = {
    "required": True,
    "content": {
        media: {"schema": {"type": "string", "format": "binary"}} for media in EVIDENCE_TYPES
    },
}


@router.post(
    "/evidence",
    response_model=EvidenceOut,
    status_code=201,
    openapi_extra={"requestBody": EVIDENCE_BODY},
)
async def store_evidence(request: Request, viewer: CurrentViewer, clock: AppClock) -> EvidenceOut:
    """A file (a contract, a commissioning certificate, metered output: PDF, plain text,
    CSV, JPEG or PNG, within the rules' size) as the raw body with its ``Content-Type``.
    Stored by its SHA-256; released to your organisation until put before a milestone."""
    require(viewer, may_store_evidence(viewer), _NOT_STORER)
    content = await request.body()
    media_type = request.headers.get("content-type", "")
    with request.app.state.sessions() as db:
        stored = do_store_evidence(db, viewer, content, media_type=media_type, now=clock.now())
        return present.evidence_out(stored)


@router.get(
    "/evidence/{sha256}",
    response_class=Response,
    responses={200: {"description": "The file, with its type.", "content": {"*/*": {}}}},
)
def read_evidence(
    sha256: Annotated[str, Path(pattern=SHA256)], viewer: CurrentViewer, db: Db
) -> Response:
    """The file, when it is released to you (404 otherwise)."""
    found = get_evidence(db, viewer, sha256)
    return Response(
        content=found.content,
        media_type=found.media_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, max-age=3600",
        },
    )


# -- one project ----------------------------------------------------------------------------


@router.get("/{project_id}", response_model=ProjectDetailOut)
def get_project(project_id: uuid.UUID, viewer: CurrentViewer, db: Db) -> ProjectDetailOut:
    """The project with its milestones (and the files before each) and its shipments."""
    return _detail(db, viewer, project_id)


@router.post("/{project_id}/status", response_model=ProjectDetailOut)
def change_status(
    project_id: uuid.UUID,
    body: StatusIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> ProjectDetailOut:
    """proposed -> active -> suspended / completed / cancelled (suspended -> active), with a
    ``reason``."""
    project_actions.do_change_project_status(
        db,
        viewer,
        project_id,
        step_id=_id(viewer, body.id, idempotency_key, f"status-{project_id}"),
        status=body.status,
        reason=body.reason,
        now=clock.now(),
    )
    return _detail(db, viewer, project_id)


@router.post("/{project_id}/milestones", response_model=ProjectDetailOut, status_code=201)
def add_milestone(
    project_id: uuid.UUID,
    body: MilestoneIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> ProjectDetailOut:
    """A milestone ``title`` due on ``due_on``, within the project's dates."""
    milestone_actions.do_add_milestone(
        db,
        viewer,
        project_id,
        milestone_id=_id(viewer, body.id, idempotency_key, f"milestone-{project_id}"),
        title=body.title,
        due_on=body.due_on,
        now=clock.now(),
    )
    return _detail(db, viewer, project_id)


@router.post("/{project_id}/milestones/{milestone_id}/evidence", response_model=ProjectDetailOut)
def attach_evidence(
    project_id: uuid.UUID,
    milestone_id: uuid.UUID,
    body: AttachIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> ProjectDetailOut:
    """Put files your organisation stored (``evidence``: SHA-256) before an open milestone;
    they are then released to the project's audience."""
    milestone_actions.do_attach_milestone_evidence(
        db,
        viewer,
        project_id,
        milestone_id,
        step_id=_id(viewer, body.id, idempotency_key, f"attach-{milestone_id}"),
        evidence=body.evidence,
        note=body.note,
        now=clock.now(),
    )
    return _detail(db, viewer, project_id)


@router.post("/{project_id}/milestones/{milestone_id}/decision", response_model=ProjectDetailOut)
def decide_milestone(
    project_id: uuid.UUID,
    milestone_id: uuid.UUID,
    body: DecisionIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> ProjectDetailOut:
    """The supervisor's or the verifier's decision, once: ``met`` on at least one file
    (``achieved_on`` by the due date: met; after it: late), or ``missed`` after the due
    date; with a ``reason``."""
    milestone_actions.do_decide_milestone(
        db,
        viewer,
        project_id,
        milestone_id,
        step_id=_id(viewer, body.id, idempotency_key, f"decision-{milestone_id}"),
        decision=body.decision,
        reason=body.reason,
        evidence=body.evidence,
        achieved_on=body.achieved_on,
        now=clock.now(),
    )
    return _detail(db, viewer, project_id)


# -- shipments ------------------------------------------------------------------------------


@router.post("/{project_id}/shipments", response_model=ShipmentOut, status_code=201)
def declare_shipment(
    project_id: uuid.UUID,
    body: DeclareShipmentIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> ShipmentOut:
    """Declare a shipment of an active project: ``cargo``, ``crossing`` (an agreed crossing's
    id) and ``planned_at`` (still to come). Declared less than the rules' lead time (44 h)
    ahead, it is accepted and marked late."""
    shipment = shipment_actions.do_declare_shipment(
        db,
        viewer,
        project_id,
        shipment_id=_id(viewer, body.id, idempotency_key, f"shipment-{project_id}"),
        cargo=body.cargo,
        crossing=body.crossing,
        planned_at=body.planned_at,
        now=clock.now(),
    )
    return _shipment(db, viewer, project_id, shipment.id)


@router.get("/{project_id}/shipments/{shipment_id}", response_model=ShipmentOut)
def get_shipment(
    project_id: uuid.UUID, shipment_id: uuid.UUID, viewer: CurrentViewer, db: Db
) -> ShipmentOut:
    return _shipment(db, viewer, project_id, shipment_id)


@router.post("/{project_id}/shipments/{shipment_id}/inspection", response_model=ShipmentOut)
def inspect_shipment(
    project_id: uuid.UUID,
    shipment_id: uuid.UUID,
    body: NoteIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> ShipmentOut:
    """The verifier's inspection of a declared shipment, with a ``note``."""
    shipment_actions.do_inspect_shipment(
        db,
        viewer,
        project_id,
        shipment_id,
        step_id=_id(viewer, body.id, idempotency_key, f"inspect-{shipment_id}"),
        note=body.note,
        now=clock.now(),
    )
    return _shipment(db, viewer, project_id, shipment_id)


@router.post("/{project_id}/shipments/{shipment_id}/passage", response_model=ShipmentOut)
def pass_shipment(
    project_id: uuid.UUID,
    shipment_id: uuid.UUID,
    body: NoteIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> ShipmentOut:
    """The verifier passes an inspected shipment."""
    shipment_actions.do_pass_shipment(
        db,
        viewer,
        project_id,
        shipment_id,
        step_id=_id(viewer, body.id, idempotency_key, f"pass-{shipment_id}"),
        note=body.note,
        now=clock.now(),
    )
    return _shipment(db, viewer, project_id, shipment_id)


@router.post("/{project_id}/shipments/{shipment_id}/refusal", response_model=ShipmentOut)
def refuse_shipment(
    project_id: uuid.UUID,
    shipment_id: uuid.UUID,
    body: RefusalIn,
    viewer: CurrentViewer,
    db: Db,
    clock: AppClock,
    idempotency_key: IdempotencyKey = None,
) -> ShipmentOut:
    """The verifier refuses a declared or inspected shipment, with a ``reason``."""
    shipment_actions.do_refuse_shipment(
        db,
        viewer,
        project_id,
        shipment_id,
        step_id=_id(viewer, body.id, idempotency_key, f"refuse-{shipment_id}"),
        reason=body.reason,
        now=clock.now(),
    )
    return _shipment(db, viewer, project_id, shipment_id)
