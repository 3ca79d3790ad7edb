"""The compose form: its state, its widgets for each template's fields, and how a posted form
becomes what ``do_send_message`` takes."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from fusioncell.cell.policy import Permission, Viewer, can
from fusioncell.geo.queries import map_layers
from fusioncell.geo.views import MAP_LABELS
from fusioncell.hotline import forms
from fusioncell.hotline.models import ChannelKind
from fusioncell.hotline.queries import list_channels
from fusioncell.hotline.rules import HOTLINE_RULES
from fusioncell.hotline.views.render import PRECEDENCE_LABELS, channel_label, parse_uuid
from fusioncell.i18n import translate
from fusioncell.ledger.context import ledger_context
from fusioncell.text import N_

_WHOLE = re.compile(r"[+-]?\d{1,12}")


@dataclass(frozen=True)
class Widget:
    """How the compose form asks for one field of a structured template."""

    label: str
    kind: str  # text, textarea, moment, count, choice, geojson
    hint: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    kinds: tuple[str, ...] = ()  # geojson: the geometry types the map picker draws


_GEOJSON_HINT = N_("GeoJSON, longitude before latitude.")
_MOMENT_HINT = N_("Date and time in UTC.")
WIDGETS: dict[str, Widget] = {
    "activity": Widget(N_("Activity"), "text"),
    "starts_at": Widget(N_("Starts"), "moment", _MOMENT_HINT),
    "ends_at": Widget(N_("Ends"), "moment", _MOMENT_HINT),
    "area": Widget(
        N_("Area (a Polygon or MultiPolygon)"), "geojson", _GEOJSON_HINT, kinds=("Polygon",)
    ),
    "route": Widget(
        N_("Route (a LineString), if any"), "geojson", _GEOJSON_HINT, kinds=("LineString",)
    ),
    "subject": Widget(N_("Subject"), "text"),
    "question": Widget(N_("Question"), "textarea"),
    "occurred_at": Widget(N_("Occurred at"), "moment", _MOMENT_HINT),
    "description": Widget(N_("Description"), "textarea"),
    "location": Widget(N_("Location (a Point)"), "geojson", _GEOJSON_HINT, kinds=("Point",)),
    "patients": Widget(N_("Number of patients"), "count"),
    "urgency": Widget(
        N_("Urgency"),
        "choice",
        choices=(
            ("urgent", N_("urgent")),
            ("priority", N_("priority")),
            ("routine", N_("routine")),
        ),
    ),
    "crossing": Widget(N_("Crossing"), "text"),
}
# What the map picker says, in the reader's language (map-picker.js has English fallbacks).
PICKER_LABELS = (
    N_("Point"),
    N_("Area"),
    N_("Route"),
    N_("Undo"),
    N_("Clear"),
    N_("Place"),
    N_("Latitude, longitude or MGRS"),
    N_("Click the map to place the point, or type its position."),
    N_("Click the map to add the area's corners; Undo takes back the last one."),
    N_("Click the map to add points along the route; Undo takes back the last one."),
    N_("Not a position: type latitude, longitude in degrees (33.21, 35.57) or MGRS."),
    N_("An area needs at least three corners."),
    N_("A route needs at least two points."),
    N_("The text below is not GeoJSON the map can draw."),
)
# The cell itself sends link tests and early warnings; members compose the other templates.
COMPOSE_FORMS = [name for name in forms.FORMS if name not in forms.CELL_FORMS]


@dataclass
class Compose:
    """The compose form's state: fresh, or as submitted with what was wrong."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    channel: str = ""
    precedence: str = "ROUTINE"
    form: str = forms.TEXT
    text: str = ""
    values: dict[str, str] = field(default_factory=dict)  # "template.field" -> as typed
    error: str | None = None
    detail: str | None = None
    field_errors: dict[str, str] = field(default_factory=dict)
    notice: str | None = None


def _field_value(kind: str, raw: str) -> Any:
    """What the template's checker expects; left as typed when it is not, so the action
    names the problem."""
    if kind == "count" and _WHOLE.fullmatch(raw):
        return int(raw)
    if kind == "geojson":
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    if kind == "moment":
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            return raw
        if parsed.tzinfo is None:  # <input type="datetime-local">: the label says UTC
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.isoformat().replace("+00:00", "Z")
    return raw


def compose_from(data: FormData) -> Compose:
    def text(name: str) -> str:
        value = data.get(name)
        return value if isinstance(value, str) else ""

    compose = Compose(
        id=parse_uuid(text("id")) or uuid.uuid4(),
        channel=text("channel"),
        precedence=text("precedence"),
        form=text("form") or forms.TEXT,
        text=text("text"),
    )
    for template in COMPOSE_FORMS:
        for name in forms.FORMS[template].fields:
            key = f"{template}.{name}"
            if value := text(key):
                compose.values[key] = value
    return compose


def template_fields(compose: Compose) -> dict[str, Any]:
    template = forms.FORMS.get(compose.form)
    if template is None:
        return {}
    fields = {}
    for name in template.fields:
        raw = compose.values.get(f"{compose.form}.{name}", "").strip()
        if raw:
            widget = WIDGETS.get(name)
            fields[name] = _field_value(widget.kind if widget else "text", raw)
    return fields


def _picker(viewer: Viewer) -> dict[str, str]:
    """Where the map picker reads the zones and sites from, and its labels."""
    layers = map_layers(viewer) if can(viewer, Permission.GEO_FEATURE_READ) else {}
    labels = {label: translate(viewer.language, label) for label in (*MAP_LABELS, *PICKER_LABELS)}
    return {
        "zones": layers.get("zones", ""),
        "sites": layers.get("sites", ""),
        "labels": json.dumps(labels, ensure_ascii=False),
    }


def compose_context(db: Session, viewer: Viewer, compose: Compose) -> dict[str, Any]:
    language = viewer.language
    channels = sorted(
        list_channels(db, viewer), key=lambda c: (c.kind != ChannelKind.CELL.value, c.name)
    )
    return {
        "compose": compose,
        "picker": _picker(viewer),
        "may_send": can(viewer, Permission.MESSAGE_SEND) and bool(channels),
        "compose_channels": [(str(c.id), channel_label(c, language)) for c in channels],
        "max_text_chars": ledger_context(db).rules(HOTLINE_RULES).max_text_chars,
        "text_limits": {
            f"{name}.{field_name}": forms.text_limit(name, field_name)
            for name in COMPOSE_FORMS
            for field_name in forms.FORMS[name].fields
        },
        "precedences": [
            (p, PRECEDENCE_LABELS.get(p, p))
            for p in ledger_context(db).rules(HOTLINE_RULES).precedences
        ],
        "templates": [
            (
                name,
                forms.FORMS[name].title,
                [(field_name, WIDGETS[field_name]) for field_name in forms.FORMS[name].fields],
            )
            for name in COMPOSE_FORMS
        ],
    }
