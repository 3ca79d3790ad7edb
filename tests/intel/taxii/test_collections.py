"""A read of a collection's objects finds the viewer's own collections by id alone, as the
collections' listing does (title aside), and anything else as ``get_collection`` does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy.orm import Session

from fusioncell.cell.policy import Viewer
from fusioncell.errors import NotFound
from fusioncell.intel.taxii import queries
from fusioncell.intel.taxii.queries import CELL_ROOT, CollectionKind, collection_id
from fusioncell.scenario.demo import stable_id

Member = Callable[[str], Viewer]


@pytest.mark.parametrize(
    "username", ["alpha.analyst", "alpha.duty", "supervisor.chair", "verifier.lead"]
)
def test_a_read_finds_the_same_collections_as_the_listing(
    db: Session, member: Member, username: str
) -> None:
    viewer = member(username)
    listed = queries.list_collections(db, viewer, CELL_ROOT)
    for collection in listed:
        for name in (collection.id, collection.alias):
            assert name is not None
            found = queries.collection_to_read(db, viewer, CELL_ROOT, name)
            assert replace(found, title="", description=None, alias=None) == replace(
                collection, title="", description=None, alias=None
            )
    others = [
        collection_id(kind, stable_id("organisation", org))
        for kind in (CollectionKind.RELEASED, CollectionKind.SUBMITTED)
        for org in ("ALPHA", "BRAVO", "SUPERVISOR")
    ]
    for other in others:
        if other not in {c.id for c in listed}:
            with pytest.raises(NotFound):
                queries.collection_to_read(db, viewer, CELL_ROOT, other)
