"""Moving in from medallion: its memory backend's data file (discovery, API roots with their
information, collections with ``can_read``/``can_write``, objects with the ``date_added`` of
each collection's manifest, status resources) becomes the cell's imported API roots, served
at the paths the file gives them, to the members named at import with the collections'
rights. Each ``date_added`` is kept as the file wrote it.

The import is the operator's, at the console: one ``intel.taxii.imported`` entry signed by the
log, naming what was brought over and the file's hash, for the supervising organisation and
the named members' organisations. Nothing is written if anything in the file is refused.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from sqlalchemy import delete
from sqlalchemy.orm import Session

from fusioncell.cell.models import OrganisationKind
from fusioncell.cell.policy import Viewer, author_of
from fusioncell.cell.queries import get_member_by_username, list_organisations
from fusioncell.db.transaction import atomic
from fusioncell.errors import Conflict, Forbidden, InvalidInput
from fusioncell.intel.stix import parse_stix_time
from fusioncell.intel.taxii import queries
from fusioncell.intel.taxii.entries import TaxiiEntry
from fusioncell.intel.taxii.media import STIX_20, STIX_21
from fusioncell.intel.taxii.models import (
    TaxiiApiRoot,
    TaxiiCollection,
    TaxiiCollectionReport,
    TaxiiDiscovery,
    TaxiiGrant,
    TaxiiObject,
    TaxiiStatus,
)
from fusioncell.ledger.entries import audience, canonical
from fusioncell.ledger.record import record

_SEGMENT = re.compile(r"[A-Za-z0-9._~-]{1,64}")


@dataclass(frozen=True)
class Imported:
    roots: list[str]
    collections: int
    objects: int
    statuses: int
    members: list[str]


def _refuse(message: str, where: str) -> InvalidInput:
    return InvalidInput(message, errors=[{"location": where, "message": message}])


def _root_path(name: str, reserved: frozenset[str]) -> str:
    path = name.strip("/")
    parts = path.split("/")
    if not path or not all(_SEGMENT.fullmatch(part) for part in parts):
        raise _refuse(f"API root {name!r} is not a path of plain segments", name)
    if path == queries.CELL_ROOT or parts[0] in reserved:
        raise _refuse(f"API root {name!r} would hide the cell's own pages or routes", name)
    return path


def _version(item: dict[str, Any]) -> str:
    return str(item.get("modified") or item.get("created") or "")


def _manifest_index(collection: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    index: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in collection.get("manifest", []) or []:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            index[(entry["id"], str(entry.get("version", "")))] = entry
    return index


def _media_type(entry: dict[str, Any] | None, item: dict[str, Any]) -> str:
    if entry is not None:
        if isinstance(entry.get("media_type"), str):
            return str(entry["media_type"])
        types = entry.get("media_types")
        if isinstance(types, list) and types and isinstance(types[0], str):
            return types[0]
    return STIX_21 if item.get("spec_version") == "2.1" else STIX_20


def _objects(
    collection_id: str, collection: dict[str, Any], *, now: datetime, where: str
) -> list[TaxiiObject]:
    manifest = _manifest_index(collection)
    rows: dict[tuple[str, str], TaxiiObject] = {}
    for number, item in enumerate(collection.get("objects", []) or []):
        place = f"{where}.objects[{number}]"
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("type", "id")
        ):
            raise _refuse("an object is a JSON object with a type and an id", place)
        version = _version(item)
        entry = manifest.get((item["id"], version))
        added_text = str(entry["date_added"]) if entry and "date_added" in entry else None
        added = parse_stix_time(added_text) if added_text else now
        if added is None:
            raise _refuse(f"date_added is not a timestamp: {added_text!r}", place)
        media_type = _media_type(entry, item)
        spec_version = str(item.get("spec_version") or ("2.0" if "2.0" in media_type else "2.1"))
        rows[(item["id"], version or (added_text or ""))] = TaxiiObject(
            id=uuid.uuid4(),
            collection_id=collection_id,
            stix_id=item["id"],
            stix_type=item["type"],
            spec_version=spec_version,
            version=version or (added_text or queries.taxii_time(now)),
            media_type=media_type,
            date_added=added,
            date_added_text=added_text or queries.taxii_time(now),
            body=item,
        )
    return list(rows.values())


def _status(path: str, item: Any, where: str, *, now: datetime) -> TaxiiStatus:
    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
        raise _refuse("a status resource has an id", where)

    def listed(name: str) -> list[dict[str, Any]]:
        value = item.get(name) or []
        return [v if isinstance(v, dict) else {"id": str(v)} for v in value]

    return TaxiiStatus(
        id=item["id"],
        api_root=path,
        member_id=None,
        status=str(item.get("status", "complete")),
        request_timestamp=str(item.get("request_timestamp", "")),
        total_count=int(item.get("total_count", item.get("total_objects", 0)) or 0),
        successes=listed("successes"),
        failures=listed("failures"),
        pendings=listed("pendings"),
        report_id=None,
        created_at=parse_stix_time(item.get("request_timestamp")) or now,
    )


def _clear(db: Session) -> None:
    db.execute(delete(TaxiiGrant))
    db.execute(delete(TaxiiObject))
    db.execute(delete(TaxiiCollectionReport))
    db.execute(delete(TaxiiStatus).where(TaxiiStatus.member_id.is_(None)))
    db.execute(delete(TaxiiCollection))
    db.execute(delete(TaxiiApiRoot))
    db.execute(delete(TaxiiDiscovery))


def do_import_medallion(
    db: Session,
    actor: Viewer,
    *,
    data: Any,
    members: Sequence[str] = (),
    replace: bool = False,
    reserved: frozenset[str] = frozenset(),
    now: datetime,
) -> Imported:
    """``reserved``: first path segments the app already serves (an API root may not take
    one). ``replace``: drop what an earlier import brought first; otherwise an API root or a
    collection that exists already is a conflict."""
    if not actor.is_console:
        raise Forbidden("an import is the operator's, at the server's console")
    if not isinstance(data, dict):
        raise _refuse("a medallion data file is a JSON object", "file")
    found_discovery = data.get("/discovery") or {}
    if not isinstance(found_discovery, dict):
        raise _refuse("/discovery is an object", "/discovery")
    with atomic(db):
        granted = [get_member_by_username(db, actor, name) for name in members]
        if replace:
            _clear(db)
        if queries.api_root_paths(db) - {queries.CELL_ROOT}:
            raise Conflict("collections were imported already: import again with --replace")
        roots: list[TaxiiApiRoot] = []
        collections: list[TaxiiCollection] = []
        objects: list[TaxiiObject] = []
        statuses: list[TaxiiStatus] = []
        summary: list[dict[str, Any]] = []
        for name, root in data.items():
            if name == "/discovery":
                continue
            if not isinstance(root, dict) or not isinstance(root.get("information"), dict):
                raise _refuse(f"API root {name!r} has no information", name)
            path = _root_path(name, reserved)
            information = root["information"]
            roots.append(
                TaxiiApiRoot(
                    path=path,
                    title=str(information.get("title") or path)[:300],
                    description=information.get("description"),
                    versions=list(information.get("versions") or []),
                    max_content_length=int(
                        information.get("max_content_length") or queries.MAX_CONTENT_LENGTH
                    ),
                )
            )
            for number, item in enumerate(root.get("status", []) or []):
                statuses.append(_status(path, item, f"{name}.status[{number}]", now=now))
            for number, collection in enumerate(root.get("collections", []) or []):
                where = f"{name}.collections[{number}]"
                if not isinstance(collection, dict) or not isinstance(collection.get("id"), str):
                    raise _refuse("a collection has an id", where)
                collections.append(
                    TaxiiCollection(
                        id=collection["id"],
                        api_root=path,
                        title=str(collection.get("title") or collection["id"])[:300],
                        description=collection.get("description"),
                        alias=collection.get("alias"),
                        media_types=list(collection.get("media_types") or [STIX_21]),
                        can_read=bool(collection.get("can_read")),
                        can_write=bool(collection.get("can_write")),
                    )
                )
                held = _objects(collection["id"], collection, now=now, where=where)
                objects += held
                summary.append({"id": collection["id"], "api_root": path, "objects": len(held)})
        ids = [c.id for c in collections]
        if len(set(ids)) != len(ids):
            raise _refuse("a collection id appears twice", "collections")
        default = urlparse(str(found_discovery.get("default", ""))).path.strip("/") or None
        db.add(
            TaxiiDiscovery(
                id=1,
                title=str(found_discovery.get("title") or "TAXII server")[:300],
                description=found_discovery.get("description"),
                contact=found_discovery.get("contact"),
                default_root=default,
            )
        )
        db.add_all(roots)
        db.flush()
        db.add_all(collections)
        db.flush()
        db.add_all(objects)
        db.add_all(statuses)
        db.add_all(
            TaxiiGrant(
                collection_id=c.id,
                member_id=member.id,
                can_read=c.can_read,
                can_write=c.can_write,
            )
            for c in collections
            for member in granted
        )
        supervisors = [
            o.id
            for o in list_organisations(db, actor)
            if o.kind == OrganisationKind.SUPERVISOR.value
        ]
        record(
            db,
            author_of(actor),
            TaxiiEntry.IMPORTED,
            {
                "file": hashlib.sha256(canonical(data)).hexdigest(),
                "replace": replace,
                "api_roots": [r.path for r in roots],
                "collections": summary,
                "statuses": [s.id for s in statuses],
                "members": sorted(m.username for m in granted),
            },
            audience=audience(
                organisations=sorted({*supervisors, *(m.organisation_id for m in granted)})
            ),
            now=now,
        )
    return Imported(
        roots=[r.path for r in roots],
        collections=len(collections),
        objects=len(objects),
        statuses=len(statuses),
        members=sorted(m.username for m in granted),
    )
