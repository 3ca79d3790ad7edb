"""The only list of tracks and what each contributes (after Warehouse's ``includeme`` and
*Cosmic Python*'s ``bootstrap.py``).

``app.py``, the migrations' model registry, the navigation, ``verify`` and the CLI read
``TRACKS``; nothing else names a track. Importing this module registers every track's entry
types with the log, which accepts no other, and every rules section.
"""

from __future__ import annotations

from fusioncell.cell.entries import CellEntry
from fusioncell.cell.rules import CELL_RULES
from fusioncell.geo.entries import GeoEntry
from fusioncell.hotline.entries import HotlineEntry
from fusioncell.hotline.replay import EscalationReplay
from fusioncell.hotline.rules import HOTLINE_RULES
from fusioncell.ledger.entries import register_entry_types
from fusioncell.ledger.rules import register_sections
from fusioncell.ledger.verify.replay import ReplayFactory
from fusioncell.tracks import Track

TRACKS: tuple[Track, ...] = (
    Track(name="cell", entry_types=(CellEntry,), rules=CELL_RULES),
    Track(name="ledger", entry_types=()),
    Track(name="geo", entry_types=(GeoEntry,)),
    Track(
        name="hotline",
        entry_types=(HotlineEntry,),
        rules=HOTLINE_RULES,
        replays=(EscalationReplay,),
    ),
)

register_entry_types(*(kind for track in TRACKS for kind in track.entry_types))
register_sections(*(track.rules for track in TRACKS if track.rules is not None))

# What ``verify`` replays the log with, every track's.
REPLAYS: tuple[ReplayFactory, ...] = tuple(replay for track in TRACKS for replay in track.replays)
