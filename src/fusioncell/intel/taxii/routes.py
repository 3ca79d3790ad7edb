"""TAXII 2.1 routes (sections 4 and 5): discovery at ``/taxii2/``, the cell's API root at
``/taxii2/cell/``, imported API roots at the paths their file gave them.

Every route answers ``application/taxii+json;version=2.1``, and its errors as TAXII error
messages (``errors.TaxiiRoute``); a request that does not accept TAXII 2.1 is 406, a body of
another type 415, one over the API root's ``max_content_length`` (or the app's body limit)
413. Lists are paged by ``(date_added, id)``: a listing's cursor (member, collection, filters,
expiry) is kept in the database on its first page (``actions.do_open_cursor``), and each
``next`` token names it and where its page ended, so any app process continues a page, reading
on writes nothing, writes in between move nothing, and a ``next`` sent with other filters than
its first page is refused. Without ``match[spec_version]`` each object is served in the latest
spec version held; STIX 2.0 versions with their own media type.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import Scope

from fusioncell.cell.policy import Viewer
from fusioncell.clock import Clock
from fusioncell.errors import Forbidden, MalformedJson, NotFound, PayloadTooLarge
from fusioncell.intel.stix import parse_stix_time
from fusioncell.intel.taxii import queries
from fusioncell.intel.taxii.actions.objects import (
    do_add_objects,
    do_delete_object,
    do_open_cursor,
)
from fusioncell.intel.taxii.auth import TaxiiViewer
from fusioncell.intel.taxii.errors import (
    BadTaxiiRequest,
    NotAcceptable,
    TaxiiResponse,
    TaxiiRoute,
    UnsupportedMediaType,
    error_message,
)
from fusioncell.intel.taxii.media import TAXII, accepts_taxii, is_taxii_content
from fusioncell.intel.taxii.queries import CELL_ROOT, Collection, Filters, Page
from fusioncell.ledger.entries import canonical
from fusioncell.web.deps import AppClock, AppSettings, Db
from fusioncell.web.middleware import BodyLimit

ROOTS_CACHE_SECONDS = 2.0
# A listing's cursor (its member, collection and filters) is written once, on its first page;
# each ``next`` token is the cursor's id and where the page ended, so reading on writes
# nothing. A cursor within this of its expiry is replaced by a new one.
CURSOR_RENEWAL = timedelta(minutes=30)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _known_root(scope: Scope, root: str) -> bool:
    """Whether a path's API root exists (imported roots are read at most every 2 s)."""
    if root == CELL_ROOT:
        return True
    state = scope["app"].state
    cached: tuple[frozenset[str], float] | None = getattr(state, "taxii_roots", None)
    now = time.monotonic()
    if cached is None or cached[1] < now:
        with state.sessions() as db:
            cached = (queries.api_root_paths(db), now + ROOTS_CACHE_SECONDS)
        state.taxii_roots = cached
    return root in cached[0]


TaxiiRoute.root_lookup = _known_root


def require_taxii_accept(request: Request) -> None:
    if not accepts_taxii(request.headers.get("accept")):
        raise NotAcceptable(
            "send Accept: application/taxii+json;version=2.1",
            accept=request.headers.get("accept", ""),
        )


router = APIRouter(
    route_class=TaxiiRoute,
    include_in_schema=False,
    dependencies=[Depends(require_taxii_accept)],
    default_response_class=TaxiiResponse,
)


def _base_url(request: Request) -> str:
    return str(request.base_url)


def _list(request: Request, name: str) -> list[str]:
    values = [
        part.strip()
        for raw in request.query_params.getlist(name)
        for part in raw.split(",")
        if part.strip()
    ]
    return values


def _filters(request: Request, *, default_versions: tuple[str, ...] = ("last",)) -> Filters:
    added_after = None
    if (raw := request.query_params.get("added_after")) is not None:
        added_after = parse_stix_time(raw)
        if added_after is None:
            raise BadTaxiiRequest(f"added_after is not a timestamp: {raw!r}")
    versions = _list(request, "match[version]") or list(default_versions)
    for version in versions:
        if version not in ("first", "last", "all") and parse_stix_time(version) is None:
            raise BadTaxiiRequest(f"match[version] is first, last, all or a timestamp: {version!r}")
    return Filters(
        added_after=added_after,
        ids=_list(request, "match[id]"),
        types=_list(request, "match[type]"),
        versions=versions,
        spec_versions=_list(request, "match[spec_version]"),
    )


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return queries.DEFAULT_LIMIT
    if not raw.isdigit() or int(raw) < 1:
        raise BadTaxiiRequest(f"limit is a positive whole number: {raw!r}")
    return min(int(raw), queries.PAGE_LIMIT)


def _readable(db: Db, viewer: Viewer, api_root: str, collection_id: str) -> Collection:
    collection = queries.collection_to_read(db, viewer, api_root, collection_id)
    if not collection.can_read:
        raise Forbidden("this collection is not readable for you")
    return collection


def _page(
    request: Request,
    db: Db,
    viewer: Viewer,
    clock: Clock,
    collection: Collection,
    filters: Filters,
    endpoint: str,
) -> tuple[Page, dict[str, Any], dict[str, str]]:
    """One page, and the envelope's ``more``/``next`` and the date-added headers."""
    fingerprint = hashlib.sha256(
        canonical([endpoint, collection.key, filters.fingerprint()])
    ).hexdigest()
    after = None
    cursor = None
    if (token := request.query_params.get("next")) is not None:
        try:
            cursor_part, *position = token.split("~")
            cursor = queries.get_cursor(db, viewer, uuid.UUID(cursor_part), now=clock.now())
            after = _position(position) if position else None
        except (ValueError, OverflowError, NotFound):
            raise BadTaxiiRequest("next is not a valid token (or it expired)") from None
        if cursor.collection != collection.key or cursor.filters != fingerprint:
            raise BadTaxiiRequest(
                "the filters changed between pages: send those of the first page with next"
            )
        if after is None:
            after = (cursor.after_date_added, cursor.after_id)
    page = queries.list_versions_page(
        db, viewer, collection, filters, after=after, limit=_limit(request)
    )
    envelope: dict[str, Any] = {"more": page.more}
    if page.more:
        last = (page.rows[-1].date_added, page.rows[-1].row_id)
        if cursor is None or cursor.expires_at - clock.now() < CURSOR_RENEWAL:
            cursor_id = do_open_cursor(
                db, viewer, collection=collection, filters=fingerprint, after=last, now=clock.now()
            )
        else:
            cursor_id = cursor.id
        envelope["next"] = f"{cursor_id}~{_position_token(last)}"
    headers = {}
    if page.rows:
        headers["X-TAXII-Date-Added-First"] = page.rows[0].added
        headers["X-TAXII-Date-Added-Last"] = page.rows[-1].added
    return page, envelope, headers


def _taxii_refusal(scope: Scope, error: PayloadTooLarge) -> tuple[str, bytes] | None:
    """The app's body limit, refused on a TAXII route as a TAXII error message."""
    if any(route.matches(scope)[0] != Match.NONE for route in router.routes):
        return TAXII, json.dumps(error_message(error)).encode()
    return None


if _taxii_refusal not in BodyLimit.renderers:
    BodyLimit.renderers.append(_taxii_refusal)


def _position_token(position: tuple[datetime, uuid.UUID]) -> str:
    return f"{(position[0] - _EPOCH) // timedelta(microseconds=1)}~{position[1].hex}"


def _position(parts: list[str]) -> tuple[datetime, uuid.UUID]:
    micros, row = parts  # ValueError if not two
    return _EPOCH + timedelta(microseconds=int(micros)), uuid.UUID(row)


@router.get("/taxii2/")
def get_discovery(request: Request, viewer: TaxiiViewer, db: Db) -> Response:
    return TaxiiResponse(queries.discovery(db, viewer, base_url=_base_url(request)))


@router.get("/{api_root:path}/collections/{collection_id}/objects/{object_id}/versions/")
def get_object_versions(
    request: Request,
    api_root: str,
    collection_id: str,
    object_id: str,
    viewer: TaxiiViewer,
    db: Db,
    clock: AppClock,
) -> Response:
    collection = _readable(db, viewer, api_root, collection_id)
    filters = _filters(request, default_versions=("all",))
    filters = Filters(
        added_after=filters.added_after,
        ids=[object_id],
        versions=("all",),
        spec_versions=filters.spec_versions,
    )
    page, envelope, headers = _page(request, db, viewer, clock, collection, filters, "versions")
    if not page.rows and request.query_params.get("next") is None:
        raise NotFound(f"no object {object_id}")
    envelope["versions"] = [row.version for row in page.rows]
    return TaxiiResponse(envelope, headers=headers)


@router.get("/{api_root:path}/collections/{collection_id}/objects/{object_id}/")
def get_object(
    request: Request,
    api_root: str,
    collection_id: str,
    object_id: str,
    viewer: TaxiiViewer,
    db: Db,
    clock: AppClock,
) -> Response:
    collection = _readable(db, viewer, api_root, collection_id)
    given = _filters(request)
    filters = Filters(
        added_after=given.added_after,
        ids=[object_id],
        versions=given.versions,
        spec_versions=given.spec_versions,
    )
    page, envelope, headers = _page(request, db, viewer, clock, collection, filters, "object")
    if not page.rows and request.query_params.get("next") is None:
        raise NotFound(f"no object {object_id}")
    if page.rows:
        envelope["objects"] = [row.body for row in page.rows]
    return TaxiiResponse(envelope, headers=headers)


@router.delete("/{api_root:path}/collections/{collection_id}/objects/{object_id}/")
def delete_object(
    request: Request,
    api_root: str,
    collection_id: str,
    object_id: str,
    viewer: TaxiiViewer,
    db: Db,
    clock: AppClock,
) -> Response:
    collection = queries.get_collection(db, viewer, api_root, collection_id)
    if not collection.can_write:
        raise Forbidden("this collection is not writable for you")
    do_delete_object(
        db,
        viewer,
        collection=collection,
        stix_id=object_id,
        versions=_list(request, "match[version]"),
        spec_versions=_list(request, "match[spec_version]"),
        now=clock.now(),
    )
    return Response(status_code=200, media_type=None)


@router.get("/{api_root:path}/collections/{collection_id}/manifest/")
def get_manifest(
    request: Request,
    api_root: str,
    collection_id: str,
    viewer: TaxiiViewer,
    db: Db,
    clock: AppClock,
) -> Response:
    collection = _readable(db, viewer, api_root, collection_id)
    page, envelope, headers = _page(
        request, db, viewer, clock, collection, _filters(request), "manifest"
    )
    if page.rows:
        envelope["objects"] = [
            {
                "id": row.stix_id,
                "date_added": row.added,
                "version": row.version,
                "media_type": row.media_type,
            }
            for row in page.rows
        ]
    return TaxiiResponse(envelope, headers=headers)


@router.get("/{api_root:path}/collections/{collection_id}/objects/")
def get_objects(
    request: Request,
    api_root: str,
    collection_id: str,
    viewer: TaxiiViewer,
    db: Db,
    clock: AppClock,
) -> Response:
    collection = _readable(db, viewer, api_root, collection_id)
    page, envelope, headers = _page(
        request, db, viewer, clock, collection, _filters(request), "objects"
    )
    if page.rows:
        envelope["objects"] = [row.body for row in page.rows]
    return TaxiiResponse(envelope, headers=headers)


async def taxii_body(request: Request) -> bytes:
    if not is_taxii_content(request.headers.get("content-type")):
        raise UnsupportedMediaType(
            "send Content-Type: application/taxii+json;version=2.1",
            content_type=request.headers.get("content-type", ""),
        )
    return await request.body()


@router.post("/{api_root:path}/collections/{collection_id}/objects/", status_code=202)
def add_objects(
    api_root: str,
    collection_id: str,
    body: Annotated[bytes, Depends(taxii_body)],
    viewer: TaxiiViewer,
    db: Db,
    clock: AppClock,
    settings: AppSettings,
) -> Response:
    collection = queries.get_collection(db, viewer, api_root, collection_id)
    if not collection.can_write:
        raise Forbidden("this collection is not writable for you")
    limit = queries.max_content_length(
        queries.get_imported_root(db, api_root), settings.max_body_bytes
    )
    if len(body) > limit:
        raise PayloadTooLarge(f"the body exceeds max_content_length, {limit} bytes", limit=limit)
    try:
        envelope = json.loads(body)
    except (ValueError, RecursionError):
        raise MalformedJson("the body is not valid JSON") from None
    added = do_add_objects(db, viewer, collection=collection, envelope=envelope, now=clock.now())
    return TaxiiResponse(queries.status_resource(added.status), status_code=202)


@router.get("/{api_root:path}/collections/{collection_id}/")
def get_collection(api_root: str, collection_id: str, viewer: TaxiiViewer, db: Db) -> Response:
    return TaxiiResponse(queries.get_collection(db, viewer, api_root, collection_id).resource())


@router.get("/{api_root:path}/collections/")
def get_collections(api_root: str, viewer: TaxiiViewer, db: Db) -> Response:
    found = queries.list_collections(db, viewer, api_root)
    return TaxiiResponse({"collections": [c.resource() for c in found]} if found else {})


@router.get("/{api_root:path}/status/{status_id}/")
def get_status(api_root: str, status_id: str, viewer: TaxiiViewer, db: Db) -> Response:
    return TaxiiResponse(
        queries.status_resource(queries.get_status(db, viewer, api_root, status_id))
    )


@router.get("/{api_root:path}/")
def get_api_root(api_root: str, viewer: TaxiiViewer, db: Db, settings: AppSettings) -> Response:
    return TaxiiResponse(
        queries.api_root_information(db, viewer, api_root, max_body_bytes=settings.max_body_bytes)
    )
