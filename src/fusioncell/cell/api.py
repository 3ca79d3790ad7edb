"""REST routes of the cell: tokens, the member's own account, organisations, members."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from fusioncell.cell.actions.account import (
    do_begin_totp_enrolment,
    do_change_password,
    do_confirm_totp,
    do_disable_totp,
    do_set_language,
)
from fusioncell.cell.actions.auth import do_issue_token, do_revoke_token
from fusioncell.cell.actions.keys import do_enroll_key, do_revoke_key, do_rotate_key
from fusioncell.cell.actions.members import (
    do_countersign_member,
    do_create_member,
    do_disable_member,
    do_grant_role,
    do_revoke_role,
)
from fusioncell.cell.models import Member, OrganisationKind, Role
from fusioncell.cell.queries import (
    get_member,
    get_own_member,
    list_keys,
    list_members,
    list_organisations,
)
from fusioncell.cell.schemas import (
    CountersignIn,
    CreateMemberIn,
    EnrollKeyIn,
    GrantRoleIn,
    KeyOut,
    LanguageIn,
    MemberOut,
    MeOut,
    OrganisationOut,
    PasswordChangeIn,
    RotateKeyIn,
    TokenIn,
    TokenOut,
    TotpCodeIn,
    TotpEnrolmentOut,
)
from fusioncell.errors import InvalidInput, InvalidToken
from fusioncell.idempotency import resolve_id
from fusioncell.ledger.entries import b64, unb64
from fusioncell.ledger.models import LogKey
from fusioncell.web.addresses import client_address
from fusioncell.web.deps import (
    SESSION_COOKIE,
    AppClock,
    AppSettings,
    CurrentViewer,
    Db,
    bearer_secret,
)

router = APIRouter(prefix="/api/v1", tags=["cell"])


def _member_out(member: Member) -> MemberOut:
    return MemberOut(
        id=member.id,
        username=member.username,
        display_name=member.display_name,
        organisation=member.organisation.slug,
        roles=sorted(member.roles),
        disabled=member.disabled_at is not None,
        awaiting_countersign=member.awaiting_countersign,
        pending_roles=sorted(member.pending_roles),
    )


@router.post("/auth/token", response_model=TokenOut)
def issue_token(
    request: Request, body: TokenIn, db: Db, settings: AppSettings, clock: AppClock
) -> TokenOut:
    """Wrong passwords back off per username and client address, and per address: 429
    ``too-many-attempts`` with ``Retry-After`` (and ``retry_after``, ``scope``) while they do."""
    now = clock.now()
    issued = do_issue_token(
        db,
        username=body.username,
        password=body.password,
        totp_code=body.totp,
        now=now,
        settings=settings,
        client_address=client_address(request),
    )
    return TokenOut(
        access_token=issued.secret, expires_in=int((issued.expires_at - now).total_seconds())
    )


@router.delete("/auth/token", status_code=204)
def revoke_token(request: Request, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    secret = bearer_secret(request)
    if secret is None:
        raise InvalidToken("revoke a token by presenting it as the bearer token")
    do_revoke_token(db, viewer, token_secret=secret, now=clock.now())
    return Response(status_code=204)


@router.get("/me", response_model=MeOut)
def me(viewer: CurrentViewer, db: Db) -> MeOut:
    member = get_own_member(db, viewer)
    organisation = member.organisation
    return MeOut(
        id=member.id,
        username=member.username,
        display_name=member.display_name,
        organisation=OrganisationOut(
            id=organisation.id,
            slug=organisation.slug,
            name=organisation.name,
            names=organisation.names,
            kind=OrganisationKind(organisation.kind),
        ),
        roles=sorted(member.roles),
        language=member.language,
        totp_enabled=member.totp_enabled,
    )


@router.put("/me/language", status_code=204)
def set_language(body: LanguageIn, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    do_set_language(db, viewer, language=body.language, now=clock.now())
    return Response(status_code=204)


@router.post("/me/password", status_code=204)
def change_password(
    request: Request,
    body: PasswordChangeIn,
    viewer: CurrentViewer,
    db: Db,
    settings: AppSettings,
    clock: AppClock,
) -> Response:
    """Every other token and session of the member ends; the credential of this request
    goes on, as the web form keeps its session."""
    token = bearer_secret(request)
    do_change_password(
        db,
        viewer,
        current_password=body.current_password,
        new_password=body.new_password,
        now=clock.now(),
        hash_profile=settings.password_hash_profile,
        keep_session=None if token else request.cookies.get(SESSION_COOKIE),
        keep_token=token,
        settings=settings,
    )
    return Response(status_code=204)


@router.post("/me/totp", response_model=TotpEnrolmentOut)
def begin_totp(viewer: CurrentViewer, db: Db, clock: AppClock) -> TotpEnrolmentOut:
    enrolment = do_begin_totp_enrolment(db, viewer, now=clock.now())
    return TotpEnrolmentOut(secret=enrolment.secret, otpauth_uri=enrolment.uri)


@router.post("/me/totp/confirm", status_code=204)
def confirm_totp(body: TotpCodeIn, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    do_confirm_totp(db, viewer, code=body.code, now=clock.now())
    return Response(status_code=204)


@router.post("/me/totp/disable", status_code=204)
def disable_totp(body: TotpCodeIn, viewer: CurrentViewer, db: Db, clock: AppClock) -> Response:
    do_disable_totp(db, viewer, code=body.code, now=clock.now())
    return Response(status_code=204)


@router.get("/organisations", response_model=list[OrganisationOut])
def organisations(viewer: CurrentViewer, db: Db) -> list[OrganisationOut]:
    return [
        OrganisationOut(
            id=o.id, slug=o.slug, name=o.name, names=o.names, kind=OrganisationKind(o.kind)
        )
        for o in list_organisations(db, viewer)
    ]


@router.get("/members", response_model=list[MemberOut])
def members(viewer: CurrentViewer, db: Db) -> list[MemberOut]:
    return [_member_out(member) for member in list_members(db, viewer)]


@router.get("/members/{member_id}", response_model=MemberOut)
def member(member_id: uuid.UUID, viewer: CurrentViewer, db: Db) -> MemberOut:
    return _member_out(get_member(db, viewer, member_id))


@router.post("/members", response_model=MemberOut, status_code=201)
def create_member(
    body: CreateMemberIn,
    viewer: CurrentViewer,
    db: Db,
    settings: AppSettings,
    clock: AppClock,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> MemberOut:
    created = do_create_member(
        db,
        viewer,
        member_id=resolve_id(viewer, body.id, idempotency_key, scope="member"),
        username=body.username,
        display_name=body.display_name,
        organisation_slug=body.organisation,
        roles=body.roles,
        password=body.password,
        language=body.language,
        now=clock.now(),
        hash_profile=settings.password_hash_profile,
    )
    return _member_out(created)


@router.post("/members/{member_id}/roles", response_model=MemberOut)
def grant_role(
    member_id: uuid.UUID, body: GrantRoleIn, viewer: CurrentViewer, db: Db, clock: AppClock
) -> MemberOut:
    """Propose a role; it is in force once the member's organisation countersigns."""
    return _member_out(
        do_grant_role(db, viewer, member_id=member_id, role=body.role, now=clock.now())
    )


@router.delete("/members/{member_id}/roles/{role}", response_model=MemberOut)
def revoke_role(
    member_id: uuid.UUID, role: Role, viewer: CurrentViewer, db: Db, clock: AppClock
) -> MemberOut:
    """Take a role away (no countersign: it only narrows); the member's sessions end."""
    return _member_out(do_revoke_role(db, viewer, member_id=member_id, role=role, now=clock.now()))


@router.post("/members/{member_id}/countersign", response_model=MemberOut)
def countersign_member(
    member_id: uuid.UUID, body: CountersignIn, viewer: CurrentViewer, db: Db, clock: AppClock
) -> MemberOut:
    """The organisation's second signature on a proposed member or role."""
    return _member_out(
        do_countersign_member(db, viewer, member_id=member_id, roles=body.roles, now=clock.now())
    )


@router.post("/members/{member_id}/disable", response_model=MemberOut)
def disable_member(
    member_id: uuid.UUID, viewer: CurrentViewer, db: Db, clock: AppClock
) -> MemberOut:
    target = get_member(db, viewer, member_id)
    return _member_out(do_disable_member(db, viewer, username=target.username, now=clock.now()))


def _key_out(key: LogKey) -> KeyOut:
    return KeyOut(
        key_id=key.key_id,
        public_key=b64(key.public_key),
        member=key.member_id,
        custodial=key.custodial,
        enrolled_index=key.enrolled_index,
        revoked_index=key.revoked_index,
    )


def _public_key(value: str) -> bytes:
    try:
        return unb64(value)
    except ValueError:
        raise InvalidInput("public_key must be base64 of the raw 32-byte Ed25519 key") from None


@router.get("/keys", response_model=list[KeyOut])
def keys(viewer: CurrentViewer, db: Db) -> list[KeyOut]:
    return [_key_out(key) for key in list_keys(db, viewer)]


@router.post("/keys", response_model=KeyOut, status_code=201)
def enroll_key(body: EnrollKeyIn, viewer: CurrentViewer, db: Db, clock: AppClock) -> KeyOut:
    """Enrol your own key: send the enrolment entry signed by that key in Fusioncell-Entry."""
    return _key_out(
        do_enroll_key(db, viewer, public_key=_public_key(body.public_key), now=clock.now())
    )


@router.post("/keys/{key_id}/rotate", response_model=KeyOut, status_code=201)
def rotate_key(
    key_id: str, body: RotateKeyIn, viewer: CurrentViewer, db: Db, clock: AppClock
) -> KeyOut:
    """Replace a key: the rotation entry is signed by the old key, with the new key's proof."""
    rotated = do_rotate_key(
        db,
        viewer,
        old_key_id=key_id,
        public_key=_public_key(body.public_key),
        possession=body.possession,
        now=clock.now(),
    )
    return _key_out(rotated)


@router.post("/keys/{key_id}/revoke", response_model=KeyOut)
def revoke_key(key_id: str, viewer: CurrentViewer, db: Db, clock: AppClock) -> KeyOut:
    return _key_out(do_revoke_key(db, viewer, revoked_key_id=key_id, now=clock.now()))
