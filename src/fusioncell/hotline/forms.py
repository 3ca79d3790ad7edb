"""Structured messages: stored as data (the form's name and its fields), rendered in each
reader's language, so a notification reads the same in English, Arabic and Hebrew."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shapely.errors import ShapelyError
from shapely.geometry import shape

from fusioncell.errors import InvalidInput
from fusioncell.i18n import translate
from fusioncell.text import N_, Text

TEXT = "text"


@dataclass(frozen=True)
class _Text:
    """A text field of at most ``limit`` characters (code points, as the page's counter
    counts them)."""

    limit: int

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(N_("a non-empty text"))
        if len(value) > self.limit:
            raise ValueError(N_("at most %(limit)s characters", limit=self.limit))
        return value.strip()


_text = _Text


def text_limit(form_name: str, field_name: str) -> int | None:
    """The most characters a template's text field takes, for the page's counter; None for a
    field that is not free text."""
    check = FORMS[form_name].fields[field_name]
    return check.limit if isinstance(check, _Text) else None


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _moment(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(N_("an RFC 3339 date and time"))
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(N_("an RFC 3339 date and time")) from None
    if parsed.tzinfo is None:
        raise ValueError(N_("a date and time with its UTC offset"))
    return value


def _positions(coordinates: Any) -> bool:
    """RFC 7946 positions: two or three finite numbers, nested in lists to any depth."""
    if not isinstance(coordinates, list) or not coordinates:
        return False
    if all(isinstance(c, int | float) and not isinstance(c, bool) for c in coordinates):
        return 2 <= len(coordinates) <= 3 and all(math.isfinite(c) for c in coordinates)
    return all(_positions(c) for c in coordinates)


def _rings_closed(value: dict[str, Any]) -> bool:
    """RFC 7946 section 3.1.6: a ring has four or more positions and ends where it starts."""
    polygons = {"Polygon": [value["coordinates"]], "MultiPolygon": value["coordinates"]}
    for polygon in polygons.get(value["type"], []):
        for ring in polygon:
            if not isinstance(ring, list) or len(ring) < 4 or ring[0] != ring[-1]:
                return False
    return True


def _geometry(kinds: tuple[str, ...]) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, dict) or not _positions(value.get("coordinates")):
            raise ValueError(N_("a GeoJSON geometry"))
        if value.get("type") not in kinds:
            raise ValueError(
                N_(
                    "a GeoJSON %(kinds)s, not %(given)s",
                    kinds=" or ".join(kinds),
                    given=repr(value.get("type")),
                )
            )
        if not _rings_closed(value):
            raise ValueError(N_("a polygon whose rings have four or more positions, first = last"))
        try:
            parsed = shape(value)
        except (KeyError, TypeError, ValueError, AttributeError, ShapelyError):
            raise ValueError(N_("a valid GeoJSON %(kinds)s", kinds=" or ".join(kinds))) from None
        if parsed.geom_type not in kinds or parsed.is_empty or not parsed.is_valid:
            raise ValueError(N_("a valid GeoJSON %(kinds)s", kinds=" or ".join(kinds)))
        minx, miny, maxx, maxy = parsed.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            raise ValueError(N_("longitude, latitude in degrees"))
        return value

    return check


def _count(low: int, high: int) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise ValueError(N_("a whole number from %(low)s to %(high)s", low=low, high=high))
        return value

    return check


def _choice(*options: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if value not in options:
            raise ValueError(N_("one of %(options)s", options=", ".join(options)))
        return value

    return check


# An early warning's fields: the alert (the deconfliction track's id), the community, how
# far, when and where.
_EARLY_WARNING: dict[str, Callable[[Any], Any]] = {
    "alert": _text(64),
    "community": _text(200),
    "distance_m": _count(0, 10**6),
    "occurred_at": _moment,
    "location": _geometry(("Point",)),
}


@dataclass(frozen=True)
class Form:
    name: str
    title: str
    # The sentence shown to readers; %(field)s placeholders, translated in the catalogues.
    sentence: str
    fields: dict[str, Callable[[Any], Any]]
    optional: frozenset[str] = frozenset()


FORMS: dict[str, Form] = {
    form.name: form
    for form in (
        Form(
            "activity_notification",
            N_("Notification of planned activity"),
            N_(
                "Planned activity: %(activity)s, from %(starts_at)s to %(ends_at)s, in the area given."
            ),
            {
                "activity": _text(500),
                "starts_at": _moment,
                "ends_at": _moment,
                "area": _geometry(("Polygon", "MultiPolygon")),
                "route": _geometry(("LineString",)),
            },
            optional=frozenset({"route"}),
        ),
        Form(
            "clarification_request",
            N_("Request for clarification"),
            N_("Request for clarification about %(subject)s: %(question)s"),
            {"subject": _text(200), "question": _text(2000)},
        ),
        Form(
            "incident_alert",
            N_("Incident alert"),
            N_("Incident at %(occurred_at)s: %(description)s"),
            {
                "occurred_at": _moment,
                "description": _text(2000),
                "location": _geometry(("Point",)),
            },
        ),
        Form(
            "medevac_request",
            N_("Medical evacuation request"),
            N_(
                "Medical evacuation of %(patients)s patient(s), urgency %(urgency)s, via %(crossing)s."
            ),
            {
                "patients": _count(1, 500),
                "urgency": _choice("urgent", "priority", "routine"),
                "crossing": _text(200),
                "location": _geometry(("Point",)),
            },
        ),
        Form(
            "link_test",
            N_("Link test"),
            N_("Link test number %(sequence)s: please acknowledge."),
            {"sequence": _count(0, 2**31)},
        ),
        # The deconfliction track's early warning, one sentence per what raised it.
        Form(
            "early_warning_incident",
            N_("Early warning"),
            N_(
                "Early warning: an incident %(distance_m)s m from the protected community %(community)s, at %(occurred_at)s. Acknowledge receipt."
            ),
            _EARLY_WARNING,
        ),
        Form(
            "early_warning_observation",
            N_("Early warning"),
            N_(
                "Early warning: military holdings observed %(distance_m)s m from the protected community %(community)s, at %(occurred_at)s. Acknowledge receipt."
            ),
            _EARLY_WARNING,
        ),
        Form(
            "early_warning_notification",
            N_("Early warning"),
            N_(
                "Early warning: a notified military activity %(distance_m)s m from the protected community %(community)s, from %(occurred_at)s. Acknowledge receipt."
            ),
            _EARLY_WARNING,
        ),
    )
}

# Templates only the cell itself sends (signed by the log's key): members compose the others.
CELL_FORMS = frozenset(
    {
        "link_test",
        "early_warning_incident",
        "early_warning_observation",
        "early_warning_notification",
    }
)


def check_fields(form_name: str, fields: Any) -> dict[str, Any]:
    """Validate a structured message's fields; raise InvalidInput naming every problem."""
    form = FORMS.get(form_name)
    if form is None:
        raise InvalidInput(f"no message template {form_name!r}", templates=sorted(FORMS))
    if not isinstance(fields, dict):
        raise InvalidInput("fields must be an object")
    problems = []
    checked: dict[str, Any] = {}
    for name, check in form.fields.items():
        if name not in fields:
            if name not in form.optional:
                problems.append({"field": name, "message": "missing"})
            continue
        try:
            checked[name] = check(fields[name])
        except ValueError as exc:
            # What the field must be travels inside this sentence: a Text, so a page translates
            # it too (a message without parameters is a plain str).
            what = exc.args[0] if isinstance(exc.args[0], Text) else Text(str(exc), {})
            problems.append({"field": name, "message": N_("must be %(what)s", what=what)})
    for name in sorted(set(fields) - set(form.fields)):
        problems.append({"field": name, "message": N_("not a field of this template")})
    if (
        not problems
        and form_name == "activity_notification"
        and _parse(checked["ends_at"]) <= _parse(checked["starts_at"])
    ):
        problems.append({"field": "ends_at", "message": N_("must be after starts_at")})
    if problems:
        first = problems[0]
        raise InvalidInput(
            N_(
                "template %(template)s: %(field)s %(problem)s",
                template=form_name,
                field=first["field"],
                problem=first["message"],
            ),
            errors=problems,
        )
    return checked


def render(form_name: str, fields: dict[str, Any] | None, text: str | None, language: str) -> str:
    if form_name == TEXT or fields is None:
        return text or ""
    form = FORMS[form_name]
    values = {name: fields.get(name, "") for name in form.fields}
    return translate(language, form.sentence) % values


def title(form_name: str, language: str) -> str:
    if form_name == TEXT:
        return ""
    return translate(language, FORMS[form_name].title)
