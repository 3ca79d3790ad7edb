"""An agreement version's content, as every signatory signs it: pure functions shared by
the actions (which build and check it), the API and ``fusioncell verify`` (which recomputes
its hash).

The content is one JSON object::

    {"agreement": id, "version": n, "title", "text", "parties": [slug, ...], "date",
     "commitments": [{"key", "debtor", "beneficiaries", "obligation", "ends_at",
                      "milestones": [{"key", "title", "due_at", "geometry", "verification":
                                      {"rule", "zone", "inspections", "findings", "evidence"},
                                      "waived"}]}]}

and what is signed is SHA-256 of its RFC 8785 canonical form: the text *and* the
commitments it holds, so no commitment, milestone or due date can change without every
signatory signing again. The agreement's id and the version's number are inside, so a
signature cannot be carried to another agreement or version.
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from datetime import UTC, date, datetime
from typing import Any

from fusioncell.diplomacy.rules import DiplomacyRules
from fusioncell.errors import InvalidInput
from fusioncell.ledger.entries import canonical, log_time, parse_log_time
from fusioncell.text import N_

_NAMESPACE = uuid.UUID("3b0c8f9e-51b6-4f0e-9f87-0a4f6b1d2c77")
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")
GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"}
)

_NEED_TEXT = N_("Give the %(field)s (at most %(limit)s characters).")
BAD_KEY = N_(
    "A key is 1 to 32 letters, digits, dots, dashes or underscores, unique in its agreement."
)
_BAD_PARTY = N_("Name parties of the cell: %(parties)s.")
_BAD_TIME = N_("Give the %(field)s as a time with its time zone.")
_BAD_DATE = N_("Give the agreement's date as YYYY-MM-DD.")
_AFTER_END = N_("Milestone %(milestone)s is due after its commitment %(commitment)s ends.")
_BAD_GEOMETRY = N_("The geometry is an RFC 7946 geometry in longitude and latitude.")
_TOO_MANY = N_("At most %(limit)s %(field)s.")
_BAD_LINK = N_("The %(field)s are a list of ids (evidence: SHA-256 hex digests).")


def content_hash(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def commitment_id(agreement_id: uuid.UUID, key: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{agreement_id}/{key}")


def milestone_id(agreement_id: uuid.UUID, commitment: str, key: str) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{agreement_id}/{commitment}/{key}")


def first_version_id(agreement_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{agreement_id}/1")


def _text(value: Any, *, field: str, limit: int) -> str:
    found = value.strip() if isinstance(value, str) else ""
    if not found or len(found) > limit:
        raise InvalidInput(N_(_NEED_TEXT, field=field, limit=limit), field=field, limit=limit)
    return found


def _key(value: Any, seen: set[str], *, field: str) -> str:
    if not isinstance(value, str) or not KEY.match(value) or value in seen:
        raise InvalidInput(BAD_KEY, field=field)
    seen.add(value)
    return value


def _time(value: Any, *, field: str) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise InvalidInput(N_(_BAD_TIME, field=field), field=field) from None
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(N_(_BAD_TIME, field=field), field=field)
    try:
        moment = value.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(N_(_BAD_TIME, field=field), field=field) from None
    return log_time(moment.replace(microsecond=moment.microsecond // 1000 * 1000))


def _many(value: Any, *, field: str, limit: int) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput(N_(_BAD_LINK, field=field), field=field)
    if len(value) > limit:
        raise InvalidInput(N_(_TOO_MANY, limit=limit, field=field), field=field, limit=limit)
    return value


def _positions(value: Any, depth: int) -> bool:
    if depth == 0:
        return (
            isinstance(value, list)
            and len(value) in (2, 3)
            and all(
                isinstance(c, int | float) and not isinstance(c, bool) and math.isfinite(c)
                for c in value
            )
            and -180 <= value[0] <= 180
            and -90 <= value[1] <= 90
        )
    return isinstance(value, list) and bool(value) and all(_positions(v, depth - 1) for v in value)


_DEPTH = {
    "Point": 0,
    "MultiPoint": 1,
    "LineString": 1,
    "MultiLineString": 2,
    "Polygon": 2,
    "MultiPolygon": 3,
}


def check_geometry(value: Any, *, field: str = "geometry") -> dict[str, Any] | None:
    """An RFC 7946 geometry (its type and coordinates only), or None."""
    if value is None:
        return None
    if (
        not isinstance(value, dict)
        or value.get("type") not in GEOMETRY_TYPES
        or not _positions(value.get("coordinates"), _DEPTH[str(value.get("type"))])
    ):
        raise InvalidInput(_BAD_GEOMETRY, field=field)
    return {"type": value["type"], "coordinates": value["coordinates"]}


def _ids(value: Any, *, field: str, limit: int, pattern: re.Pattern[str] | None) -> list[str]:
    found = []
    for item in _many(value, field=field, limit=limit):
        if not isinstance(item, str) or not item or len(item) > 200:
            raise InvalidInput(N_(_BAD_LINK, field=field), field=field)
        if pattern is not None and not pattern.match(item):
            raise InvalidInput(N_(_BAD_LINK, field=field), field=field)
        if pattern is None:
            try:
                item = str(uuid.UUID(item))
            except ValueError:
                raise InvalidInput(N_(_BAD_LINK, field=field), field=field) from None
        found.append(item)
    return found


def _verification(value: Any, rules: DiplomacyRules) -> dict[str, Any]:
    given = value if isinstance(value, dict) else {}
    if value is not None and not isinstance(value, dict):
        raise InvalidInput(N_(_BAD_LINK, field="verification"), field="verification")

    def name(raw: Any, field: str) -> str | None:
        if raw is None:
            return None
        return _text(raw, field=field, limit=64)

    limit = rules.max_evidence
    return {
        "rule": name(given.get("rule"), "verification.rule"),
        "zone": name(given.get("zone"), "verification.zone"),
        "inspections": _ids(
            given.get("inspections"), field="inspections", limit=limit, pattern=None
        ),
        "findings": _ids(given.get("findings"), field="findings", limit=limit, pattern=None),
        "evidence": _ids(given.get("evidence"), field="evidence", limit=limit, pattern=SHA256),
    }


def build_content(
    *,
    agreement_id: uuid.UUID,
    number: int,
    title: Any,
    text: Any,
    parties: Any,
    dated: Any,
    commitments: Any,
    cell_parties: list[str],
    rules: DiplomacyRules,
) -> dict[str, Any]:
    """The version's content from what was given, or InvalidInput naming the first fault:
    the parties are parties of the cell (two at least), each commitment's debtor is one of
    them and its beneficiaries are among them, keys are unique, times carry their zone, and
    no milestone falls due after its commitment ends."""
    named = sorted(set(parties)) if isinstance(parties, list) else []
    if (
        len(named) < 2
        or not all(isinstance(p, str) for p in named)
        or not set(named) <= set(cell_parties)
    ):
        raise InvalidInput(
            N_(_BAD_PARTY, parties=", ".join(cell_parties)), field="parties", parties=cell_parties
        )
    if isinstance(dated, date) and not isinstance(dated, datetime):
        dated = dated.isoformat()
    if not isinstance(dated, str) or not re.match(r"^\d{4}-\d{2}-\d{2}$", dated):
        raise InvalidInput(_BAD_DATE, field="date")
    try:
        date.fromisoformat(dated)
    except ValueError:
        raise InvalidInput(_BAD_DATE, field="date") from None
    built = []
    keys: set[str] = set()
    for c in _many(commitments, field="commitments", limit=rules.max_commitments):
        if not isinstance(c, dict):
            raise InvalidInput(N_(_BAD_LINK, field="commitments"), field="commitments")
        key = _key(c.get("key"), keys, field="commitments.key")
        debtor = c.get("debtor")
        beneficiaries = c.get("beneficiaries") or []
        if (
            debtor not in named
            or not isinstance(beneficiaries, list)
            or not all(isinstance(b, str) and b in named for b in beneficiaries)
        ):
            raise InvalidInput(
                N_(_BAD_PARTY, parties=", ".join(named)), field="commitments.debtor", parties=named
            )
        ends_at = _time(c.get("ends_at"), field="ends_at")
        milestones = []
        milestone_keys: set[str] = set()
        for m in _many(c.get("milestones"), field="milestones", limit=rules.max_milestones):
            if not isinstance(m, dict):
                raise InvalidInput(N_(_BAD_LINK, field="milestones"), field="milestones")
            m_key = _key(m.get("key"), milestone_keys, field="milestones.key")
            due_at = _time(m.get("due_at"), field="due_at")
            if parse_log_time(due_at) > parse_log_time(ends_at):
                raise InvalidInput(
                    N_(_AFTER_END, milestone=m_key, commitment=key),
                    field="due_at",
                    milestone=m_key,
                    commitment=key,
                )
            milestones.append(
                {
                    "key": m_key,
                    "title": _text(m.get("title"), field="title", limit=rules.max_title_chars),
                    "due_at": due_at,
                    "geometry": check_geometry(m.get("geometry")),
                    "verification": _verification(m.get("verification"), rules),
                    "waived": bool(m.get("waived", False)),
                }
            )
        built.append(
            {
                "key": key,
                "debtor": debtor,
                "beneficiaries": sorted(set(beneficiaries)),
                "obligation": _text(
                    c.get("obligation"), field="obligation", limit=rules.max_text_chars
                ),
                "ends_at": ends_at,
                "milestones": milestones,
            }
        )
    return {
        "agreement": str(agreement_id),
        "version": number,
        "title": _text(title, field="title", limit=rules.max_title_chars),
        "text": _text(text, field="text", limit=rules.max_text_chars),
        "parties": named,
        "date": dated,
        "commitments": built,
    }


def signature_body(
    *,
    agreement_id: object,
    version_id: object,
    number: int,
    digest: str,
    organisation: str,
    member_id: object,
    readers: list[str],
) -> dict[str, Any]:
    """What a signature's entry holds: the server and a client signing with its own key
    (``fusioncell agreements sign``) build the same body."""
    return {
        "agreement": str(agreement_id),
        "version": str(version_id),
        "number": number,
        "content_hash": digest,
        "organisation": organisation,
        "member": str(member_id),
        "released_to": readers,
    }
