"""How a channel is named to a member, the same on every page and in ``fusioncell hotline``:
the cell-wide channel by its kind, in the member's language; a bilateral one by its name
("ALPHA / SUPERVISOR"), which names its parties."""

from __future__ import annotations

from fusioncell.hotline.models import ChannelKind
from fusioncell.i18n import translate


def channel_label(kind: str, name: str, language: str) -> str:
    if kind == ChannelKind.CELL.value:
        return translate(language, "Cell-wide channel")
    return name
