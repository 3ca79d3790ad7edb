"""TAXII 2.1 media types (section 1.6.8) and the content negotiation of its routes."""

from __future__ import annotations

TAXII = "application/taxii+json;version=2.1"
STIX_21 = "application/stix+json;version=2.1"
STIX_20 = "application/stix+json;version=2.0"
STIX_MEDIA = {"2.1": STIX_21, "2.0": STIX_20}


def _parse(value: str) -> tuple[str, dict[str, str]]:
    kind, *params = (part.strip() for part in value.split(";"))
    parsed: dict[str, str] = {}
    for param in params:
        name, _, param_value = param.partition("=")
        parsed[name.strip().lower()] = param_value.strip().strip('"')
    return kind.lower(), parsed


def accepts_taxii(header: str | None) -> bool:
    """Whether an ``Accept`` header admits TAXII 2.1 JSON. No header, ``*/*`` and
    ``application/*`` do; ``application/taxii+json`` without a version means the newest,
    2.1; any other type or version does not (406)."""
    if header is None or not header.strip():
        return True
    for item in header.split(","):
        kind, params = _parse(item)
        if params.get("q") in ("0", "0.0", "0.00", "0.000"):
            continue
        if kind in ("*/*", "application/*"):
            return True
        if kind == "application/taxii+json" and params.get("version", "2.1") == "2.1":
            return True
    return False


def is_taxii_content(header: str | None) -> bool:
    """A request body's ``Content-Type``: TAXII 2.1 JSON (the version may be left out)."""
    if not header:
        return False
    kind, params = _parse(header)
    return kind == "application/taxii+json" and params.get("version", "2.1") == "2.1"


def stix_media_type(spec_version: str) -> str:
    return STIX_MEDIA.get(spec_version, STIX_21)
