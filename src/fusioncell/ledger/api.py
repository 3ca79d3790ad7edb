"""The record's public, content-free endpoints, and bodies for those allowed to read them."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response

from fusioncell.errors import NotFound
from fusioncell.ledger import queries
from fusioncell.ledger.context import LedgerContext
from fusioncell.ledger.entries import b64, key_id, log_time, parse_leaf
from fusioncell.ledger.models import EntryBody, LogEntry
from fusioncell.ledger.schemas import (
    ConsistencyProofOut,
    EntryOut,
    InclusionProofOut,
    LogKeyOut,
    PolicyOut,
)
from fusioncell.ledger.tiles import parse_tile_path
from fusioncell.web.deps import CurrentViewer, Db, MaybeViewer

router = APIRouter(tags=["log"])
TEXT = "text/plain; charset=utf-8"


def _ledger(request: Request) -> LedgerContext:
    ledger: LedgerContext = request.app.state.ledger
    return ledger


def _counting(request: Request, db: Db) -> queries.CosignedCheckpoint:
    settings = request.app.state.settings
    witnesses = [w.name for w in request.app.state.checkpointer.witnesses]
    latest = queries.latest_checkpoint(db, witnesses=witnesses, quorum=settings.witness_quorum)
    if latest is None:
        raise NotFound("no checkpoint has been cosigned yet")
    return latest


@router.get("/log/checkpoint", response_class=PlainTextResponse)
def checkpoint(request: Request, db: Db) -> Response:
    """The latest checkpoint that counts, with its cosignatures (C2SP tlog-checkpoint)."""
    return Response(
        _counting(request, db).note, media_type=TEXT, headers={"Cache-Control": "no-store"}
    )


@router.get("/log/tile/{path:path}")
def tile(path: str, db: Db) -> Response:
    """Hash tiles and entry bundles (C2SP tlog-tiles); full tiles never change."""
    parsed = parse_tile_path(path)
    if parsed is None:
        raise NotFound("not a tile path")
    if parsed.level is None:
        data = queries.entry_bundle(db, index=parsed.index, width=parsed.width)
    else:
        data = queries.hash_tile(db, level=parsed.level, index=parsed.index, width=parsed.width)
    cache = "public, max-age=31536000, immutable" if parsed.width == 256 else "no-store"
    return Response(data, media_type="application/octet-stream", headers={"Cache-Control": cache})


@router.get("/api/v1/log/key", response_model=LogKeyOut)
def log_key(request: Request) -> LogKeyOut:
    signer = _ledger(request).keyring.log_signer
    return LogKeyOut(
        origin=signer.name,
        verifier_key=signer.verifier().key_string(),
        key_id=key_id(signer.public_key),
        public_key=b64(signer.public_key),
    )


@router.get("/api/v1/log/policy", response_model=PolicyOut)
def log_policy(request: Request) -> PolicyOut:
    ledger = _ledger(request)
    return PolicyOut(hash=ledger.policy_hash, policy=ledger.policy)


@router.get("/api/v1/log/proof/inclusion", response_model=InclusionProofOut)
def inclusion(
    db: Db, index: Annotated[int, Query(ge=0)], tree_size: Annotated[int, Query(ge=1)]
) -> InclusionProofOut:
    proof = queries.inclusion_proof(db, index=index, size=tree_size)
    leaf = queries.get_leaf(db, index)
    return InclusionProofOut(
        index=index,
        tree_size=tree_size,
        leaf_hash=b64(leaf.leaf_hash),
        root_hash=b64(queries.root_at(db, tree_size)),
        proof=[b64(h) for h in proof],
    )


@router.get("/api/v1/log/proof/consistency", response_model=ConsistencyProofOut)
def consistency(
    db: Db, first: Annotated[int, Query(ge=0)], second: Annotated[int, Query(ge=0)]
) -> ConsistencyProofOut:
    proof = queries.consistency_proof(db, first=first, second=second)
    return ConsistencyProofOut(
        first=first,
        second=second,
        first_root=b64(queries.root_at(db, first)),
        second_root=b64(queries.root_at(db, second)),
        proof=[b64(h) for h in proof],
    )


def entry_out(
    db: Db, viewer: MaybeViewer, entry: LogEntry, *, bodies: dict[int, EntryBody] | None = None
) -> EntryOut:
    """``bodies``: the readable bodies of a list's entries, read at once (``get_bodies``)."""
    leaf = parse_leaf(entry.leaf)
    body = queries.get_body(db, viewer, entry.index) if bodies is None else bodies.get(entry.index)
    return EntryOut(
        index=entry.index,
        type=entry.entry_type,
        author=entry.author_key_id,
        logged_at=log_time(leaf.logged_at),
        custodial=entry.custodial,
        header=leaf.header,
        signature=b64(entry.signature),
        leaf=b64(entry.leaf),
        leaf_hash=b64(entry.leaf_hash),
        body=json.loads(body.body) if body is not None else None,
        salt=b64(body.salt) if body is not None else None,
    )


@router.get("/api/v1/log/entries", response_model=list[EntryOut])
def entries(
    viewer: CurrentViewer,
    db: Db,
    type: Annotated[
        str | None,
        Query(
            max_length=64,
            pattern=r"^[a-z][a-z0-9_.]*$",
            description="Entries whose type starts with this (``hotline.``, ``geo.version``).",
        ),
    ] = None,
    author: Annotated[
        str | None, Query(pattern=r"^[0-9a-f]{16}$", description="The author key's id.")
    ] = None,
    before: Annotated[int | None, Query(ge=0)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[EntryOut]:
    """Entries whose body the viewer may read, newest first."""
    found = queries.list_entries(
        db, viewer, entry_type=type, author=author, before=before, limit=limit
    )
    bodies = queries.get_bodies(db, viewer, [entry.index for entry in found])
    return [entry_out(db, viewer, entry, bodies=bodies) for entry in found]


@router.get("/api/v1/log/entries/{index}", response_model=EntryOut)
def entry(index: int, viewer: MaybeViewer, db: Db) -> EntryOut:
    """A leaf (public); its body and salt only for a viewer in the entry's audience."""
    return entry_out(db, viewer, queries.get_leaf(db, index))


@router.get("/api/v1/log/entries/{index}/receipt", response_class=PlainTextResponse)
def receipt(index: int, request: Request, db: Db) -> Response:
    """C2SP tlog-proof: the entry's inclusion in the latest checkpoint that counts."""
    queries.get_leaf(db, index)
    latest = _counting(request, db)
    if index >= latest.checkpoint.size:
        raise NotFound("this entry is not in a cosigned checkpoint yet; retry in a second")
    proof = queries.inclusion_proof(db, index=index, size=latest.checkpoint.size)
    lines = ["c2sp.org/tlog-proof@v1", f"index {index}", *(b64(h) for h in proof)]
    return Response("\n".join(lines) + "\n\n" + latest.note, media_type=TEXT)
