"""The record page: the latest checkpoint that counts, and the entries the viewer may read.

The server only lists; the browser verifies (``static/js/record.js``). Each Verify fetches the
checkpoint, an inclusion proof and the leaf through the public log endpoints and checks them
itself, so a member need not take the page's word that an entry is in the log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from fusioncell.i18n import translate
from fusioncell.ledger import queries
from fusioncell.ledger.entries import b64, known_entry_types, log_time, parse_leaf
from fusioncell.ledger.models import EntryBody, LogEntry
from fusioncell.text import N_
from fusioncell.web.deps import CurrentViewer, Db
from fusioncell.web.pages import page

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
# A checkpoint is normally cosigned within a second of being signed: the page reports the
# quorum missing only once the log has been ahead of the counting checkpoint this long.
QUORUM_GRACE = timedelta(seconds=5)
# The element htmx swaps; a request aimed at it gets the list alone.
LIST_ID = "record-entries"

# What record.js says; keyed by the English text, as map.js takes its labels.
VERIFY_LABELS = [
    N_("Verifying…"),
    N_("Verified in checkpoint %(size)s."),
    N_("The body matches the hash in the signed header."),
    N_("No checkpoint has been cosigned yet. Try again in a second."),
    N_(
        "This entry is newer than the latest checkpoint (size %(size)s). "
        "The next checkpoint follows within a second: try again."
    ),
    N_("The checkpoint could not be read."),
    N_("The leaf hash does not match the proof."),
    N_("The logged leaf does not match this entry."),
    N_("The inclusion proof does not lead to the checkpoint's root."),
    N_("The inclusion proof is malformed."),
    N_("The body does not match the hash in the signed header."),
    N_("A request to the server failed: %(reason)s"),
    N_("This browser cannot compute SHA-256 here: WebCrypto needs HTTPS or localhost."),
    N_("Verification failed: %(reason)s"),
]


@dataclass(frozen=True)
class EntryRow:
    index: int
    type: str
    logged_at: str
    author: str
    custodial: bool
    body_hash: str
    body: str | None
    salt: str | None


@dataclass(frozen=True)
class CheckpointView:
    origin: str
    size: int
    root: str
    signed_at: str
    cosigners: list[tuple[str, str]]
    # Configured witnesses that have not cosigned it (it may count without them below "all").
    missing: list[str]
    note: str


@dataclass(frozen=True)
class Witnessing:
    """Who cosigns, how many must, and the newest checkpoint if it lacks that quorum."""

    witnesses: list[str]
    needed: int
    gap: QuorumGap | None


@dataclass(frozen=True)
class QuorumGap:
    size: int
    signed_at: str
    # When the log grew past the checkpoint that counts: the first checkpoint signed beyond it.
    since: str
    cosigned_by: list[str]
    missing: list[str]


def _row(entry: LogEntry, body: EntryBody | None) -> EntryRow:
    leaf = parse_leaf(entry.leaf)
    return EntryRow(
        index=entry.index,
        type=entry.entry_type,
        logged_at=log_time(leaf.logged_at),
        author=entry.author_key_id,
        custodial=entry.custodial,
        body_hash=str(leaf.header.get("body", "")),
        body=body.body if body is not None else None,
        salt=b64(body.salt) if body is not None else None,
    )


def _checkpoint(request: Request, db: Db) -> tuple[CheckpointView | None, Witnessing | None]:
    witnesses = [w.name for w in request.app.state.checkpointer.witnesses]
    quorum = request.app.state.settings.witness_quorum
    latest = queries.latest_checkpoint(db, witnesses=witnesses, quorum=quorum)
    view = None
    if latest is not None:
        checkpoint = latest.checkpoint
        cosigned = {c.witness for c in latest.cosignatures}
        view = CheckpointView(
            origin=checkpoint.note.split("\n", 1)[0],
            size=checkpoint.size,
            root=b64(checkpoint.root),
            signed_at=log_time(checkpoint.created_at),
            cosigners=[(c.witness, log_time(c.received_at)) for c in latest.cosignatures],
            missing=[name for name in witnesses if name not in cosigned],
            note=latest.note,
        )
    if not witnesses:
        return view, None
    needed = len(witnesses) if quorum is None else quorum
    gap = _gap(db, witnesses, view, now=request.app.state.clock.now())
    return view, Witnessing(witnesses, needed, gap)


def _gap(
    db: Db, witnesses: list[str], counted: CheckpointView | None, *, now: datetime
) -> QuorumGap | None:
    """The newest signed checkpoint, when it is newer than the one that counts (for long
    enough that its witnesses should have cosigned it)."""
    newest = queries.newest_checkpoint(db)
    counted_size = counted.size if counted is not None else 0
    if newest is None or newest.size <= counted_size:
        return None
    first = queries.first_signed_after(db, counted_size) or newest
    if now - first.created_at < QUORUM_GRACE:
        return None
    cosigned = set(queries.cosigners_of(db, newest.size))
    return QuorumGap(
        size=newest.size,
        signed_at=log_time(newest.created_at),
        since=log_time(first.created_at),
        cosigned_by=[name for name in witnesses if name in cosigned],
        missing=[name for name in witnesses if name not in cosigned],
    )


def _url(**params: str | int | None) -> str:
    kept = {name: value for name, value in params.items() if value not in (None, "")}
    return "/record" + (f"?{urlencode(kept)}" if kept else "")


@router.get("/record")
def record_page(
    request: Request,
    viewer: CurrentViewer,
    db: Db,
    entry_type: Annotated[str | None, Query(alias="type", max_length=64)] = None,
    author: Annotated[str | None, Query(max_length=32)] = None,
    before: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    entry_type = (entry_type or "").strip() or None
    author = (author or "").strip().lower() or None
    # One more than a page tells whether an "older" link leads anywhere.
    found = queries.list_entries(
        db, viewer, entry_type=entry_type, author=author, before=before, limit=PAGE_SIZE + 1
    )
    shown = found[:PAGE_SIZE]
    bodies = queries.get_bodies(db, viewer, [entry.index for entry in shown])
    rows = [_row(entry, bodies.get(entry.index)) for entry in shown]
    older = (
        _url(type=entry_type, author=author, before=rows[-1].index)
        if len(found) > PAGE_SIZE
        else None
    )
    context: dict[str, Any] = {
        "list_id": LIST_ID,
        "rows": rows,
        "entry_type": entry_type or "",
        "author": author or "",
        "before": before,
        "older_url": older,
        "newest_url": _url(type=entry_type, author=author) if before is not None else None,
        "filtered": entry_type is not None or author is not None,
    }
    # htmx asks for the list alone; a history restore wants the whole page back.
    partial = (
        request.headers.get("hx-target") == LIST_ID
        and request.headers.get("hx-history-restore-request") != "true"
    )
    headers = {"Vary": "HX-Target, HX-History-Restore-Request"}
    if partial:
        # The address bar shows the search without its empty fields.
        headers["HX-Push-Url"] = _url(type=entry_type, author=author, before=before)
        return page(request, viewer, "ledger/entries.html", headers=headers, **context)
    labels = {label: translate(viewer.language, label) for label in VERIFY_LABELS}
    checkpoint, witnessing = _checkpoint(request, db)
    return page(
        request,
        viewer,
        "ledger/record.html",
        headers=headers,
        checkpoint=checkpoint,
        witnessing=witnessing,
        entry_types=list(known_entry_types()),
        verify_labels=json.dumps(labels, ensure_ascii=False),
        **context,
    )
