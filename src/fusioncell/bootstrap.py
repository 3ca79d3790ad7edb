"""The only list of tracks and what each contributes (after Warehouse's ``includeme`` and
*Cosmic Python*'s ``bootstrap.py``).

``app.py``, the migrations' model registry, the navigation, ``verify`` and the CLI read
``TRACKS``; nothing else names a track. Importing this module registers every track's entry
types with the log, which accepts no other.
"""

from __future__ import annotations

from fusioncell.cell.entries import CellEntry
from fusioncell.geo.entries import GeoEntry
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.ledger.entries import register_entry_types
from fusioncell.tracks import Track

TRACKS: tuple[Track, ...] = (
    Track(name="cell", entry_types=(CellEntry,)),
    Track(name="ledger", entry_types=()),
    Track(name="geo", entry_types=(GeoEntry,)),
    Track(name="hotline", entry_types=(HotlineEntry,)),
)

register_entry_types(*(kind for track in TRACKS for kind in track.entry_types))
