"""What a complaint may link to, as its filer may see it: observations, de-escalation
violation candidates, notifications, incidents and intelligence reports. A link the filer
may not see is answered exactly as one that does not exist (each track's own queries decide).

A violation candidate has no id of its own: its key is
``<source class>/<rule>/<party>/<zone>/<category>/<measure>``, the candidate as
``GET /api/v1/deescalation/compliance?source=<source class>`` shows it now.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.deconfliction.queries import incidents as deconfliction_incidents
from fusioncell.deconfliction.queries.notifications import get_notification
from fusioncell.deescalation import engine as deescalation_engine
from fusioncell.deescalation import policy as deescalation_policy
from fusioncell.deescalation import queries as deescalation
from fusioncell.errors import NotFound
from fusioncell.intel.queries import get_report
from fusioncell.verification.queries.cases import get_incident

KINDS = ("observation", "candidate", "notification", "incident", "intel_report")


def candidate_key(source: str, candidate: deescalation_engine.Candidate) -> str:
    c = candidate
    return f"{source}/{c.rule}/{c.party}/{c.zone}/{c.category}/{c.measure}"


def find_candidate(
    db: Session, viewer: Viewer, key: str, *, now: datetime
) -> dict[str, Any] | None:
    """The candidate with this key as compliance shows it to the viewer now, or None."""
    source = key.split("/", 1)[0]
    if source not in deescalation_engine.SOURCE_CLASSES or not deescalation_policy.may_read(viewer):
        return None
    for candidate in deescalation.compliance(db, viewer, at=now, source=source).candidates:
        if candidate_key(source, candidate) == key:
            return {"key": key, "source": source, **candidate.as_dict()}
    return None


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def link_visible(db: Session, viewer: Viewer, kind: str, ident: str, *, now: datetime) -> bool:
    """Whether the viewer may see the object a link names (False when it does not exist)."""
    if kind == "candidate":
        return find_candidate(db, viewer, ident, now=now) is not None
    found = _uuid(ident)
    if found is None:
        return False
    if kind == "observation":
        return any(row.id == found for row in deescalation.list_observations(db, viewer))
    if kind == "notification":
        return get_notification(db, viewer, found) is not None
    if kind == "incident":
        if get_incident(db, viewer, found) is not None:
            return True
        if any(i.id == found for i in deescalation.list_incidents(db, viewer)):
            return True
        try:
            deconfliction_incidents.get_incident(db, viewer, found)
        except NotFound:
            return False
        return True
    if kind == "intel_report":
        try:
            get_report(db, viewer, found)
        except NotFound:
            return False
        return True
    return False
