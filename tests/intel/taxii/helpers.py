"""Shared pieces of the TAXII tests: the media type, Basic credentials for demo members and
the demo organisations' collection ids."""

from __future__ import annotations

import base64
from typing import Any

from fusioncell.intel.taxii.queries import CollectionKind, collection_id
from fusioncell.scenario.demo import stable_id

TAXII = "application/taxii+json;version=2.1"
ROOT = "/taxii2/cell"
PASSWORD = "demo-password-for-tests"


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    encoded = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {encoded}", "Accept": TAXII}


def posting(username: str) -> dict[str, str]:
    return {**basic(username), "Content-Type": TAXII}


def released(slug: str) -> str:
    return collection_id(CollectionKind.RELEASED, stable_id("organisation", slug))


def submitted(slug: str) -> str:
    return collection_id(CollectionKind.SUBMITTED, stable_id("organisation", slug))


def envelope(*objects: dict[str, Any]) -> dict[str, Any]:
    return {"objects": list(objects)}
