from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class LogKeyOut(BaseModel):
    origin: str
    verifier_key: str
    key_id: str
    public_key: str


class PolicyOut(BaseModel):
    hash: str
    policy: dict[str, Any]


class InclusionProofOut(BaseModel):
    index: int
    tree_size: int
    leaf_hash: str
    root_hash: str
    proof: list[str]


class ConsistencyProofOut(BaseModel):
    first: int
    second: int
    first_root: str
    second_root: str
    proof: list[str]


class EntryOut(BaseModel):
    index: int
    type: str
    author: str
    logged_at: str
    custodial: bool
    header: dict[str, Any]
    signature: str
    leaf: str
    leaf_hash: str
    body: dict[str, Any] | None = None
    salt: str | None = None
