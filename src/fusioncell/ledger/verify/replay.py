"""What a track adds to ``verify``: a replay that watches every entry in log order and then
names the first problem it found (as Certificate Transparency monitors replay a log).

The verifier feeds a replay each checked entry, body included when the source serves it
(``None`` when withheld: a replay that needs it must then give no verdict rather than a wrong
one), and asks it once the whole log is checked. The ledger knows replays only through this
protocol; ``fusioncell.bootstrap`` lists each track's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol


class Replay(Protocol):
    def observe(self, index: int, entry_type: str, logged_at: datetime, body: str | None) -> None:
        """One entry, in log order, after its signature and body hash have verified."""

    def first_problem(self) -> tuple[int, str] | None:
        """The earliest fault as (entry index, reason), or None."""


# A fresh replay for each verification.
ReplayFactory = Callable[[], Replay]
