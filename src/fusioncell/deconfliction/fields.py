"""A notification's content checked before anything is written: its kind's category, its
window, its buffer, its text fields and its kind's details (a convoy's vehicles, markings,
contact and cargo). Each refusal is ``InvalidInput`` naming the field."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fusioncell.deconfliction.geometry import check_geometry
from fusioncell.deconfliction.models import NotificationKind
from fusioncell.deconfliction.rules import DeconflictionRules
from fusioncell.errors import InvalidInput
from fusioncell.ledger.entries import log_time
from fusioncell.text import N_

CATEGORIES: dict[str, tuple[str, ...]] = {
    NotificationKind.ACTIVITY: ("training", "live_fire", "engineering", "movement", "other"),
    NotificationKind.MOVEMENT: ("convoy", "team", "evacuation", "other"),
    NotificationKind.SITE: ("warehouse", "clinic", "shelter", "distribution", "office", "other"),
    NotificationKind.EMERGENCY: ("medevac", "search_and_rescue", "other"),
}
# Each kind's details: which fields it takes, and which it must have.
DETAILS: dict[str, tuple[str, ...]] = {
    NotificationKind.ACTIVITY: ("units", "contact"),
    NotificationKind.MOVEMENT: ("vehicles", "markings", "contact", "cargo"),
    NotificationKind.SITE: ("contact", "staff"),
    NotificationKind.EMERGENCY: ("contact", "patients", "vehicles", "markings"),
}
REQUIRED_DETAILS: dict[str, tuple[str, ...]] = {
    NotificationKind.MOVEMENT: ("vehicles", "contact"),
}
COUNTS = frozenset({"vehicles", "patients", "staff"})
MAX_COUNT = 10_000

_KIND = N_("The kind is activity, movement, site or emergency.")
_CATEGORY = N_("That category is not one this kind has.")
_WINDOW_ZONE = N_("A notification's window has its time zone.")
_WINDOW_ORDER = N_("A notification's window ends after it begins.")
_WINDOW_PAST = N_("A notification's window may not lie in the past.")
_WINDOW_LONG = N_("A notification's window may last at most %(days)s days.")
_BUFFER = N_("The buffer is a whole number of metres from 0 to %(limit)s.")
_DESCRIPTION = N_("A notification needs a description of at most %(limit)s characters.")
_PARTICIPANTS = N_(
    "Participants are at most %(limit)s names, each of at most %(chars)s characters."
)
_DETAILS = N_("These details do not belong to this kind of notification: %(fields)s.")
_DETAIL_MISSING = N_("This kind of notification needs these details: %(fields)s.")
_DETAIL_TEXT = N_("Each detail is text of at most %(limit)s characters.")
_DETAIL_COUNT = N_("Vehicles, patients and staff are whole numbers from 1 to %(limit)s.")
_FLASH = N_("Only an emergency is notified at once as FLASH.")
_JUSTIFICATION = N_("A justification is text of at most %(limit)s characters.")


def check_kind(kind: Any) -> str:
    if kind not in CATEGORIES:
        raise InvalidInput(_KIND, field="kind", kinds=list(CATEGORIES))
    return str(kind)


def check_category(kind: str, category: Any) -> str | None:
    if category is None:
        return None
    if category not in CATEGORIES[kind]:
        raise InvalidInput(_CATEGORY, field="category", categories=list(CATEGORIES[kind]))
    return str(category)


def utc(moment: datetime, field: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidInput(_WINDOW_ZONE, field=field)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        raise InvalidInput(_WINDOW_ZONE, field=field) from None
    # To the millisecond, as the log spells a time.
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def check_window(
    starts_at: datetime, ends_at: datetime, *, now: datetime, rules: DeconflictionRules
) -> tuple[datetime, datetime]:
    """A window may begin before ``now`` (a late notification is accepted, and marked
    late), but must still be running."""
    start, end = utc(starts_at, "starts_at"), utc(ends_at, "ends_at")
    if end <= start:
        raise InvalidInput(_WINDOW_ORDER, field="ends_at")
    if end <= now:
        raise InvalidInput(_WINDOW_PAST, field="ends_at")
    if end - start > rules.max_window:
        days = rules.max_window.days
        raise InvalidInput(N_(_WINDOW_LONG, days=days), field="ends_at", limit_days=days)
    return start, end


def check_buffer(buffer_m: Any, rules: DeconflictionRules) -> int:
    if buffer_m is None:
        return rules.default_buffer_m
    limit = rules.max_buffer_m
    if (
        isinstance(buffer_m, bool)
        or not isinstance(buffer_m, int | float)
        or buffer_m != int(buffer_m)
        or not 0 <= buffer_m <= limit
    ):
        raise InvalidInput(N_(_BUFFER, limit=limit), field="buffer_m", limit=limit)
    return int(buffer_m)


def check_description(text: Any, rules: DeconflictionRules) -> str:
    limit = rules.max_description_chars
    if not isinstance(text, str) or not text.strip() or len(text) > limit:
        raise InvalidInput(N_(_DESCRIPTION, limit=limit), field="description", limit=limit)
    return text


def check_participants(values: Any, rules: DeconflictionRules) -> list[str]:
    limit, chars = rules.max_participants, rules.max_participant_chars
    problem = InvalidInput(
        N_(_PARTICIPANTS, limit=limit, chars=chars), field="participants", limit=limit
    )
    if values is None:
        return []
    if not isinstance(values, list) or len(values) > limit:
        raise problem
    for value in values:
        if not isinstance(value, str) or not value.strip() or len(value) > chars:
            raise problem
    return list(values)


def check_details(kind: str, details: Any, rules: DeconflictionRules) -> dict[str, Any]:
    if details is None:
        details = {}
    if not isinstance(details, Mapping):
        raise InvalidInput(N_(_DETAILS, fields="details"), field="details")
    unknown = sorted(set(details) - set(DETAILS[kind]))
    if unknown:
        raise InvalidInput(
            N_(_DETAILS, fields=", ".join(unknown)), field="details", allowed=list(DETAILS[kind])
        )
    missing = [name for name in REQUIRED_DETAILS.get(kind, ()) if details.get(name) is None]
    if missing:
        raise InvalidInput(
            N_(_DETAIL_MISSING, fields=", ".join(missing)), field="details", missing=missing
        )
    checked: dict[str, Any] = {}
    for name, value in details.items():
        if value is None:
            continue
        if name in COUNTS:
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
                raise InvalidInput(
                    N_(_DETAIL_COUNT, limit=MAX_COUNT), field=f"details.{name}", limit=MAX_COUNT
                )
        elif not isinstance(value, str) or not value.strip() or len(value) > rules.max_detail_chars:
            limit = rules.max_detail_chars
            raise InvalidInput(N_(_DETAIL_TEXT, limit=limit), field=f"details.{name}", limit=limit)
        checked[name] = value
    return checked


def check_justification(text: Any, rules: DeconflictionRules) -> str | None:
    if text is None:
        return None
    limit = rules.max_description_chars
    if not isinstance(text, str) or not text.strip() or len(text) > limit:
        raise InvalidInput(N_(_JUSTIFICATION, limit=limit), field="justification", limit=limit)
    return text


@dataclass(frozen=True)
class Content:
    """What a notification says, checked: as the submission or an amendment records it."""

    category: str | None
    geometry: dict[str, Any]
    buffer_m: int
    starts_at: datetime
    ends_at: datetime
    description: str
    participants: list[str]
    details: dict[str, Any]

    def as_body(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "geometry": self.geometry,
            "buffer_m": self.buffer_m,
            "starts_at": log_time(self.starts_at),
            "ends_at": log_time(self.ends_at),
            "description": self.description,
            "participants": self.participants,
            "details": self.details,
        }


def check_content(
    kind: str,
    *,
    category: Any,
    geometry: Any,
    buffer_m: Any,
    starts_at: datetime,
    ends_at: datetime,
    description: Any,
    participants: Any,
    details: Any,
    now: datetime,
    rules: DeconflictionRules,
) -> Content:
    start, end = check_window(starts_at, ends_at, now=now, rules=rules)
    return Content(
        category=check_category(kind, category),
        geometry=check_geometry(geometry, kind, rules),
        buffer_m=check_buffer(buffer_m, rules),
        starts_at=start,
        ends_at=end,
        description=check_description(description, rules),
        participants=check_participants(participants, rules),
        details=check_details(kind, details, rules),
    )


def check_flash(kind: str, flash: Any) -> bool:
    if flash is None or flash is False:
        return False
    if flash is not True or kind != NotificationKind.EMERGENCY:
        raise InvalidInput(_FLASH, field="flash")
    return True
