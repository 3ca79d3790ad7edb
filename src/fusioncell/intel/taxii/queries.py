"""Reads of the TAXII server, viewer first.

A member sees the API root of the cell (``/taxii2/cell/``) with their organisation's
collections: "released to ORG", which holds exactly the object versions released to the
organisation (``intel.queries``' releasability, in the same SQL), and for a party "submitted
by ORG", the part of it the party wrote itself, where it writes. Imported API roots and
collections are seen by the members granted them at import; an imported collection holds its
imported object versions and the reports added to it since, each as released. Anything else
is "not found".
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    String,
    Uuid,
    bindparam,
    case,
    cast,
    exists,
    false,
    func,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from fusioncell.cell.models import OrganisationKind
from fusioncell.cell.policy import Viewer
from fusioncell.db.base import UTCDateTime
from fusioncell.errors import NotFound
from fusioncell.intel import policy
from fusioncell.intel.models import Release, StixObject
from fusioncell.intel.queries import organisations
from fusioncell.intel.taxii.media import STIX_20, STIX_21, TAXII, stix_media_type
from fusioncell.intel.taxii.models import (
    TaxiiApiRoot,
    TaxiiCollection,
    TaxiiCollectionReport,
    TaxiiCursor,
    TaxiiDiscovery,
    TaxiiGrant,
    TaxiiObject,
    TaxiiStatus,
    TaxiiWithdrawal,
)

# The cell's own API root, and the ids of its collections (one per organisation and kind).
CELL_ROOT = "taxii2/cell"
_NAMESPACE = uuid.UUID("6d1f0c3e-5b1a-4e0f-9a57-1f3c2b8e7d40")
MAX_CONTENT_LENGTH = 1_000_000
PAGE_LIMIT = 1000
DEFAULT_LIMIT = 100


class CollectionKind:
    RELEASED = "released"
    SUBMITTED = "submitted"
    IMPORTED = "imported"


@dataclass(frozen=True)
class Collection:
    id: str
    api_root: str
    kind: str
    title: str
    description: str | None
    can_read: bool
    can_write: bool
    media_types: Sequence[str] = (STIX_21, STIX_20)
    alias: str | None = None
    organisation_id: uuid.UUID | None = None

    @property
    def key(self) -> str:
        return f"{self.api_root}/{self.id}"

    def resource(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "title": self.title}
        if self.description:
            out["description"] = self.description
        if self.alias:
            out["alias"] = self.alias
        out.update(
            can_read=self.can_read, can_write=self.can_write, media_types=list(self.media_types)
        )
        return out


def collection_id(kind: str, organisation_id: uuid.UUID) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}/{organisation_id}"))


# -- API roots ------------------------------------------------------------------------------


def api_root_paths(db: Session) -> frozenset[str]:
    """Every API root's path, for routing: which paths are TAXII's (not a read of content)."""
    return frozenset({CELL_ROOT, *db.scalars(select(TaxiiApiRoot.path))})


def _granted_roots(db: Session, viewer: Viewer) -> list[TaxiiApiRoot]:
    granted = (
        select(TaxiiCollection.api_root)
        .join(TaxiiGrant, TaxiiGrant.collection_id == TaxiiCollection.id)
        .where(TaxiiGrant.member_id == viewer.member_id)
    )
    return list(
        db.scalars(
            select(TaxiiApiRoot).where(TaxiiApiRoot.path.in_(granted)).order_by(TaxiiApiRoot.path)
        )
    )


def discovery(db: Session, viewer: Viewer, *, base_url: str) -> dict[str, Any]:
    """The discovery resource: the API roots the viewer may open (the cell's, to those who
    read the track's intelligence; the imported ones the viewer has a collection in); the
    imported server's title, description and default if there was one. A root the viewer
    would get a 404 from is not listed, and no default is named when none is listed."""
    imported = db.scalar(select(TaxiiDiscovery))
    cell = [CELL_ROOT] if policy.may_read(viewer) else []
    roots = [*cell, *(root.path for root in _granted_roots(db, viewer))]
    default = roots[0] if roots else None
    if imported is not None and imported.default_root in roots:
        default = imported.default_root
    out: dict[str, Any] = {
        "title": imported.title if imported else "fusioncell TAXII 2.1",
        "description": (imported.description if imported else None)
        or "Intelligence of the cell, as released to each organisation.",
        "api_roots": [f"{base_url}{root}/" for root in roots],
    }
    if default is not None:
        out["default"] = f"{base_url}{default}/"
    if imported is not None and imported.contact:
        out["contact"] = imported.contact
    return out


def api_root_information(
    db: Session, viewer: Viewer, path: str, *, max_body_bytes: int
) -> dict[str, Any]:
    if path == CELL_ROOT:
        if not policy.may_read(viewer):
            raise NotFound("no such API root")
        return {
            "title": "The cell's intelligence",
            "description": "One collection per organisation: what is released to it; a party "
            "also writes into its own submission collection.",
            "versions": [TAXII],
            "max_content_length": max_content_length(None, max_body_bytes),
        }
    root = next((r for r in _granted_roots(db, viewer) if r.path == path), None)
    if root is None:
        raise NotFound("no such API root")
    out: dict[str, Any] = {"title": root.title}
    if root.description:
        out["description"] = root.description
    out["versions"] = [TAXII]
    out["max_content_length"] = max_content_length(root, max_body_bytes)
    return out


def max_content_length(root: TaxiiApiRoot | None, max_body_bytes: int) -> int:
    """What an API root accepts: its own limit, within the app's body limit."""
    own = root.max_content_length if root is not None else MAX_CONTENT_LENGTH
    return max(1, min(own, max_body_bytes))


def get_imported_root(db: Session, path: str) -> TaxiiApiRoot | None:
    return db.get(TaxiiApiRoot, path)


# -- collections ----------------------------------------------------------------------------


def list_collections(db: Session, viewer: Viewer, api_root: str) -> list[Collection]:
    if api_root == CELL_ROOT:
        if not policy.may_read(viewer):
            return []
        own = next(o for o in organisations(db, viewer) if o.id == viewer.organisation_id)
        found = [
            Collection(
                id=collection_id(CollectionKind.RELEASED, own.id),
                api_root=CELL_ROOT,
                kind=CollectionKind.RELEASED,
                title=f"Released to {own.slug}",
                description=f"Every object version released to {own.name}.",
                alias=f"released-{own.slug.lower()}",
                can_read=True,
                can_write=False,
                organisation_id=own.id,
            )
        ]
        if own.kind == OrganisationKind.PARTY.value:
            found.append(
                Collection(
                    id=collection_id(CollectionKind.SUBMITTED, own.id),
                    api_root=CELL_ROOT,
                    kind=CollectionKind.SUBMITTED,
                    title=f"Submitted by {own.slug}",
                    description=f"What {own.name} submitted. Objects added here without a "
                    "releasability marking are released to it and the supervisor only.",
                    alias=f"submitted-{own.slug.lower()}",
                    can_read=True,
                    can_write=policy.may_submit(viewer),
                    organisation_id=own.id,
                )
            )
        return found
    rows = db.execute(
        select(TaxiiCollection, TaxiiGrant)
        .join(TaxiiGrant, TaxiiGrant.collection_id == TaxiiCollection.id)
        .where(TaxiiCollection.api_root == api_root, TaxiiGrant.member_id == viewer.member_id)
        .order_by(TaxiiCollection.id)
    ).all()
    return [
        Collection(
            id=row.id,
            api_root=row.api_root,
            kind=CollectionKind.IMPORTED,
            title=row.title,
            description=row.description,
            alias=row.alias,
            can_read=grant.can_read,
            can_write=grant.can_write and policy.may_submit(viewer),
            media_types=tuple(row.media_types) or (STIX_21,),
        )
        for row, grant in rows
    ]


def collection_to_read(db: Session, viewer: Viewer, api_root: str, collection: str) -> Collection:
    """The collection a read of its objects names, as ``get_collection`` finds it, without
    its title: one of the viewer's own collections of the cell's API root is known by its id
    alone (no read of the organisations); an alias or an imported collection is looked up."""
    if api_root == CELL_ROOT and policy.may_read(viewer):
        own = viewer.organisation_id
        party = viewer.organisation_kind == OrganisationKind.PARTY
        for kind in (CollectionKind.RELEASED, CollectionKind.SUBMITTED):
            if kind == CollectionKind.SUBMITTED and not party:
                continue
            if collection == collection_id(kind, own):
                return Collection(
                    id=collection,
                    api_root=CELL_ROOT,
                    kind=kind,
                    title="",
                    description=None,
                    can_read=True,
                    can_write=kind == CollectionKind.SUBMITTED and policy.may_submit(viewer),
                    organisation_id=own,
                )
    return get_collection(db, viewer, api_root, collection)


def get_collection(db: Session, viewer: Viewer, api_root: str, collection: str) -> Collection:
    for found in list_collections(db, viewer, api_root):
        if collection in (found.id, found.alias):
            return found
    raise NotFound(f"no collection {collection}")


# -- object versions ------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    added_after: datetime | None = None
    ids: Sequence[str] = ()
    types: Sequence[str] = ()
    versions: Sequence[str] = ("last",)
    spec_versions: Sequence[str] = ()

    def fingerprint(self) -> list[Any]:
        return [
            self.added_after.isoformat() if self.added_after else None,
            sorted(self.ids),
            sorted(self.types),
            sorted(self.versions),
            sorted(self.spec_versions),
        ]


@dataclass(frozen=True)
class Row:
    row_id: uuid.UUID
    date_added: datetime
    date_added_text: str | None
    stix_id: str
    version: str
    spec_version: str
    body: dict[str, Any]
    media_type: str

    @property
    def added(self) -> str:
        return self.date_added_text or taxii_time(self.date_added)


@dataclass(frozen=True)
class Page:
    rows: Sequence[Row]
    more: bool
    extra: dict[str, Any] = field(default_factory=dict)


def taxii_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class _Scope:
    """What the releasability and the collection filter depend on: values, or bind
    parameters in a statement built once and kept (``_page_statement``)."""

    may_read: bool
    kind: str
    viewer_organisation: Any
    collection_organisation: Any
    collection_id: Any

    @classmethod
    def of(cls, viewer: Viewer, collection: Collection) -> _Scope:
        return cls(
            policy.may_read(viewer),
            collection.kind,
            viewer.organisation_id,
            collection.organisation_id,
            collection.id,
        )


def _released_object(scope: _Scope, entity: Any) -> ColumnElement[bool]:
    """The releasability of an object version (``intel.queries``' rule on its report)."""
    if not scope.may_read:
        return false()
    return exists().where(
        Release.report_id == entity.report_id,
        Release.organisation_id == scope.viewer_organisation,
    )


def _not_withdrawn(entity: Any) -> ColumnElement[bool]:
    return ~exists().where(
        TaxiiWithdrawal.organisation_id == entity.author_organisation_id,
        TaxiiWithdrawal.stix_id == entity.stix_id,
        TaxiiWithdrawal.version == entity.modified,
    )


def _intel_scope(scope: _Scope, entity: Any) -> list[ColumnElement[bool]]:
    conditions = [_released_object(scope, entity), _not_withdrawn(entity)]
    if scope.kind == CollectionKind.SUBMITTED:
        conditions.append(entity.author_organisation_id == scope.collection_organisation)
    elif scope.kind == CollectionKind.IMPORTED:
        conditions.append(
            entity.report_id.in_(
                select(TaxiiCollectionReport.report_id).where(
                    TaxiiCollectionReport.collection_id == scope.collection_id
                )
            )
        )
    return conditions


def sortable_version(text: str) -> str:
    """A STIX timestamp as text that sorts as the instant it names: the seconds, then the
    fraction padded to nanoseconds ("...:00Z" and "...:00.000Z" are one instant, "...:00.5Z"
    is later than both; as text, "Z" sorts after "."). ``_sortable`` says it in SQL."""
    fraction = text[20:-1] if text[19:20] == "." else ""
    return text[:19] + (fraction + "000000000")[:9]


def _sortable(version: Any) -> ColumnElement[str]:
    fraction = case(
        (func.substr(version, 20, 1) == ".", func.substr(version, 21, func.length(version) - 21)),
        else_="",
    )
    padded = func.substr(fraction.op("||")("000000000"), 1, 9)
    return func.substr(version, 1, 19).op("||")(padded)


def _spec_filter(
    spec_versions: Any, this: Any, other: Any, same_scope: list[ColumnElement[bool]]
) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """``match[spec_version]``: the spec versions named (a bind parameter), or without one
    (None) the latest spec version of each object (TAXII 2.1, 3.4.2); and the condition on
    the other versions of an object that "first" and "last" are chosen among (the same spec
    version's)."""
    if spec_versions is not None:
        return this.spec_version.in_(spec_versions), other.spec_version.in_(spec_versions)
    latest = ~exists().where(
        other.stix_id == this.stix_id, other.spec_version > this.spec_version, *same_scope
    )
    return latest, other.spec_version == this.spec_version


def _version_filter(
    versions: frozenset[str],
    named: Any,
    this: Any,
    other: Any,
    same_scope: list[ColumnElement[bool]],
) -> ColumnElement[bool] | None:
    """``match[version]``: first, last (comparing ``modified`` as instants, not as text),
    all, or the versions named (``named``: a bind parameter of their ``sortable_version``)."""
    if not versions or "all" in versions:
        return None
    chosen: list[ColumnElement[bool]] = []
    version_of = _sortable(this.modified if hasattr(this, "modified") else this.version)
    other_version = _sortable(other.modified if hasattr(other, "modified") else other.version)
    if "last" in versions:
        chosen.append(
            ~exists().where(other.stix_id == this.stix_id, other_version > version_of, *same_scope)
        )
    if "first" in versions:
        chosen.append(
            ~exists().where(other.stix_id == this.stix_id, other_version < version_of, *same_scope)
        )
    if "named" in versions:
        chosen.append(version_of.in_(named))
    return or_(*chosen)


@dataclass(frozen=True)
class _Shape:
    """What a page's statement is built from; everything else is a bind parameter."""

    may_read: bool
    kind: str
    ids: bool
    types: bool
    versions: frozenset[str]  # first, last, all, named
    spec_versions: bool
    added_after: bool
    after: bool
    limit: int

    @classmethod
    def of(
        cls,
        viewer: Viewer,
        collection: Collection,
        filters: Filters,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> _Shape:
        words = {v for v in filters.versions if v in ("first", "last", "all")}
        if any(v not in ("first", "last", "all") for v in filters.versions):
            words.add("named")
        return cls(
            policy.may_read(viewer),
            collection.kind,
            bool(filters.ids),
            bool(filters.types),
            frozenset(words),
            bool(filters.spec_versions),
            filters.added_after is not None,
            after is not None,
            limit,
        )


_P_SPEC: BindParameter[str] = bindparam("spec_versions", expanding=True, type_=String())
_P_NAMED: BindParameter[str] = bindparam("named_versions", expanding=True, type_=String())
_P_IDS: BindParameter[str] = bindparam("ids", expanding=True, type_=String())
_P_TYPES: BindParameter[str] = bindparam("types", expanding=True, type_=String())
_P_ADDED_AFTER = bindparam("added_after", type_=UTCDateTime())
_P_AFTER_ADDED = bindparam("after_added", type_=UTCDateTime())
_P_AFTER_ID = bindparam("after_id", type_=Uuid())
_PAGE_SCOPE = _Scope(
    True,
    "",
    bindparam("viewer_organisation", type_=Uuid()),
    bindparam("collection_organisation", type_=Uuid()),
    bindparam("collection_id", type_=String()),
)


def _intel_rows(shape: _Shape) -> Select[Any]:
    scope = replace(_PAGE_SCOPE, may_read=shape.may_read, kind=shape.kind)
    other = aliased(StixObject)
    this_scope = _intel_scope(scope, StixObject)
    other_scope = _intel_scope(scope, other)
    query = select(
        StixObject.id.label("row_id"),
        StixObject.date_added.label("date_added"),
        cast(null(), String).label("date_added_text"),
        StixObject.stix_id.label("stix_id"),
        StixObject.modified.label("version"),
        StixObject.spec_version.label("spec_version"),
        StixObject.body.label("body"),
        cast(null(), String).label("media_type"),
    ).where(
        *this_scope,
        # The same version in several reports is one version: the first one added. (The
        # other row's time through coalesce(x, x), x: no index on the time is used to find
        # it, so SQLite looks it up by its id and version, not by every row added before.)
        ~exists().where(
            other.stix_id == StixObject.stix_id,
            other.modified == StixObject.modified,
            tuple_(func.coalesce(other.date_added, other.date_added), other.id)
            < tuple_(StixObject.date_added, StixObject.id),
            *other_scope,
        ),
    )
    spec, same_spec = _spec_filter(
        _P_SPEC if shape.spec_versions else None, StixObject, other, other_scope
    )
    query = query.where(spec)
    versions = _version_filter(
        shape.versions, _P_NAMED, StixObject, other, [*other_scope, same_spec]
    )
    if versions is not None:
        query = query.where(versions)
    if shape.ids:
        query = query.where(StixObject.stix_id.in_(_P_IDS))
    if shape.types:
        query = query.where(StixObject.stix_type.in_(_P_TYPES))
    if shape.added_after:
        query = query.where(StixObject.date_added > _P_ADDED_AFTER)
    return query


def _imported_rows(shape: _Shape) -> Select[Any]:
    other = aliased(TaxiiObject)
    collection_id = _PAGE_SCOPE.collection_id
    same = [other.collection_id == collection_id]
    query = select(
        TaxiiObject.id.label("row_id"),
        TaxiiObject.date_added.label("date_added"),
        TaxiiObject.date_added_text.label("date_added_text"),
        TaxiiObject.stix_id.label("stix_id"),
        TaxiiObject.version.label("version"),
        TaxiiObject.spec_version.label("spec_version"),
        TaxiiObject.body.label("body"),
        TaxiiObject.media_type.label("media_type"),
    ).where(TaxiiObject.collection_id == collection_id)
    spec, same_spec = _spec_filter(
        _P_SPEC if shape.spec_versions else None, TaxiiObject, other, same
    )
    query = query.where(spec)
    versions = _version_filter(shape.versions, _P_NAMED, TaxiiObject, other, [*same, same_spec])
    if versions is not None:
        query = query.where(versions)
    if shape.ids:
        query = query.where(TaxiiObject.stix_id.in_(_P_IDS))
    if shape.types:
        query = query.where(TaxiiObject.stix_type.in_(_P_TYPES))
    if shape.added_after:
        query = query.where(TaxiiObject.date_added > _P_ADDED_AFTER)
    return query


@functools.lru_cache(maxsize=256)
def _page_statement(shape: _Shape) -> Select[Any]:
    """A page's statement, built once per shape: a TAXII client pages with the same filters,
    so each page after the first only binds new values (SQLAlchemy's compiled cache then
    answers too)."""
    parts: list[Select[Any]] = [_intel_rows(shape)]
    if shape.kind == CollectionKind.IMPORTED:
        parts.append(_imported_rows(shape))
    rows = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    query = select(rows)
    if shape.after:
        query = query.where(
            tuple_(rows.c.date_added, rows.c.row_id) > tuple_(_P_AFTER_ADDED, _P_AFTER_ID)
        )
    return query.order_by(rows.c.date_added, rows.c.row_id).limit(shape.limit + 1)


def list_versions_page(
    db: Session,
    viewer: Viewer,
    collection: Collection,
    filters: Filters,
    *,
    after: tuple[datetime, uuid.UUID] | None = None,
    limit: int = DEFAULT_LIMIT,
) -> Page:
    """A page of the collection's object versions, by ``(date_added, id)``; ``after`` is
    where the previous page ended (a cursor's position)."""
    if not collection.can_read:
        raise NotFound("no such collection")  # callers say 403 first where it is known
    limit = min(max(limit, 1), PAGE_LIMIT)
    shape = _Shape.of(viewer, collection, filters, after, limit)
    params: dict[str, Any] = {
        "viewer_organisation": viewer.organisation_id,
        "collection_organisation": collection.organisation_id,
        "collection_id": collection.id,
    }
    if shape.ids:
        params["ids"] = list(filters.ids)
    if shape.types:
        params["types"] = list(filters.types)
    if shape.spec_versions:
        params["spec_versions"] = list(filters.spec_versions)
    if "named" in shape.versions:
        params["named_versions"] = [
            sortable_version(v) for v in filters.versions if v not in ("first", "last", "all")
        ]
    if filters.added_after is not None:
        params["added_after"] = filters.added_after
    if after is not None:
        params["after_added"], params["after_id"] = after
    found = db.execute(_page_statement(shape), params).all()
    page = [
        Row(
            row_id=r.row_id,
            date_added=r.date_added,
            date_added_text=r.date_added_text,
            stix_id=r.stix_id,
            version=r.version,
            spec_version=r.spec_version,
            body=r.body,
            media_type=r.media_type or stix_media_type(r.spec_version),
        )
        for r in found[:limit]
    ]
    return Page(rows=page, more=len(found) > limit)


def own_versions(
    db: Session, viewer: Viewer, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], str]:
    """The content hash of each of these object versions the viewer's organisation already
    stored (``intel_objects.content_hash``): an envelope sent again adds nothing."""
    if not keys:
        return {}
    # By id (the index on organisation, id and version finds each), the versions picked
    # here: a tuple IN is a scan of all the organisation's versions on SQLite.
    wanted = set(keys)
    rows = db.execute(
        select(StixObject.stix_id, StixObject.modified, StixObject.content_hash).where(
            StixObject.author_organisation_id == viewer.organisation_id,
            StixObject.stix_id.in_(list({stix_id for stix_id, _version in wanted})),
        )
    )
    return {
        (r.stix_id, r.modified): r.content_hash for r in rows if (r.stix_id, r.modified) in wanted
    }


def withdrawable(
    db: Session, viewer: Viewer, collection: Collection, stix_id: str, versions: Sequence[str]
) -> list[tuple[str, list[uuid.UUID]]]:
    """The viewer's organisation's own versions of an object it may delete, each with the
    reports that hold it (for the audience of the deletion)."""
    query = select(StixObject.modified, StixObject.report_id).where(
        StixObject.stix_id == stix_id,
        StixObject.author_organisation_id == viewer.organisation_id,
        *_intel_scope(_Scope.of(viewer, collection), StixObject),
    )
    if versions and "all" not in versions:
        query = query.where(StixObject.modified.in_(list(versions)))
    found: dict[str, list[uuid.UUID]] = {}
    for version, report_id in db.execute(query):
        found.setdefault(version, []).append(report_id)
    return sorted(found.items())


def release_audience(db: Session, report_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """The organisations these reports are released to (the caller has seen them)."""
    if not report_ids:
        return []
    return sorted(
        set(
            db.scalars(
                select(Release.organisation_id).where(Release.report_id.in_(list(report_ids)))
            )
        )
    )


def imported_versions(
    db: Session, collection: Collection, stix_id: str, versions: Sequence[str]
) -> list[TaxiiObject]:
    query = select(TaxiiObject).where(
        TaxiiObject.collection_id == collection.id, TaxiiObject.stix_id == stix_id
    )
    if versions and "all" not in versions:
        query = query.where(TaxiiObject.version.in_(list(versions)))
    return list(db.scalars(query))


# -- status and cursors ---------------------------------------------------------------------


def get_status(db: Session, viewer: Viewer, api_root: str, status_id: str) -> TaxiiStatus:
    """A status resource, for the member whose envelope it was; an imported one for whoever
    may read its API root."""
    status = db.get(TaxiiStatus, status_id)
    if status is None or status.api_root != api_root:
        raise NotFound(f"no status {status_id}")
    if status.member_id is None:
        if not any(r.path == api_root for r in _granted_roots(db, viewer)):
            raise NotFound(f"no status {status_id}")
    elif status.member_id != viewer.member_id:
        raise NotFound(f"no status {status_id}")
    return status


def get_cursor(db: Session, viewer: Viewer, cursor_id: uuid.UUID, *, now: datetime) -> TaxiiCursor:
    cursor = db.get(TaxiiCursor, cursor_id)
    if cursor is None or cursor.member_id != viewer.member_id or cursor.expires_at <= now:
        raise NotFound("no such next page")
    return cursor


def status_resource(status: TaxiiStatus) -> dict[str, Any]:
    return {
        "id": status.id,
        "status": status.status,
        "request_timestamp": status.request_timestamp,
        "total_count": status.total_count,
        "success_count": len(status.successes),
        "successes": status.successes,
        "failure_count": len(status.failures),
        "failures": status.failures,
        "pending_count": len(status.pendings),
        "pendings": status.pendings,
    }
