from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fusioncell.cell.models import OrganisationKind, Role


class StrictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenIn(StrictIn):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(default=None, max_length=16)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class OrganisationOut(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    # The name in other languages, by language code; ``name`` stands for those not given.
    names: dict[str, str] = Field(default_factory=dict)
    kind: OrganisationKind


class MeOut(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str
    organisation: OrganisationOut
    roles: list[Role]
    language: str
    totp_enabled: bool


class MemberOut(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str
    organisation: str
    roles: list[Role]
    disabled: bool
    # Proposed by the operator, not yet countersigned by the member's organisation.
    awaiting_countersign: bool = False
    pending_roles: list[Role] = []


class CreateMemberIn(StrictIn):
    id: uuid.UUID | None = None
    username: str = Field(min_length=2, max_length=64)
    display_name: str = Field(default="", max_length=200)
    organisation: str = Field(min_length=1, max_length=32)
    roles: list[Role] = Field(min_length=1)
    password: str = Field(min_length=1, max_length=1024)
    language: str = "en"


class LanguageIn(StrictIn):
    language: str = Field(min_length=1, max_length=16)


class PasswordChangeIn(StrictIn):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class TotpEnrolmentOut(BaseModel):
    secret: str
    otpauth_uri: str


class TotpCodeIn(StrictIn):
    code: str = Field(min_length=1, max_length=16)


class EnrollKeyIn(StrictIn):
    public_key: str = Field(min_length=1, max_length=100, description="base64 raw Ed25519 key")


class RotateKeyIn(StrictIn):
    public_key: str = Field(min_length=1, max_length=100)
    possession: str = Field(min_length=1, max_length=200)


class KeyOut(BaseModel):
    key_id: str
    public_key: str
    member: uuid.UUID | None
    custodial: bool
    enrolled_index: int
    revoked_index: int | None


class GrantRoleIn(StrictIn):
    role: Role


class CountersignIn(StrictIn):
    roles: list[Role] = Field(
        description="exactly the roles awaiting countersign (all of them, for a new member)"
    )
